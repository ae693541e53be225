/**
 * The one rule for characters that JavaScript strings and JSON carry but not every store keeps: NUL (U+0000), which
 * Postgres `text` and `jsonb` refuse, and lone surrogates (half of a UTF-16 pair), which have no UTF-8 form (Postgres
 * refuses them in `jsonb`; a UTF-8 encoder turns them into U+FFFD). Webhook configuration and event identifiers
 * holding them are refused (`webhook.ts`, `event.ts`); what a receiver answers is kept with them replaced
 * (`delivery-log.ts`), so the memory, Redis and Postgres backends all hold the same thing.
 */

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** ES2024 string methods (Node 20 has them; the project's `lib` is ES2023): native, ~100x faster than the regex. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** What replaces an unstorable character in text kept from a receiver: the Unicode replacement character. */
export const REPLACEMENT_CHARACTER = '\uFFFD';

/** Whether every store keeps `text` as it is: no NUL, no lone surrogate. */
export function isStorable(text: string): boolean {
  return !text.includes('\0') && (text as unknown as WellFormedString).isWellFormed();
}

/** Where `text` holds its first NUL or lone surrogate, with what it is; undefined when every store keeps it. */
export function findUnstorable(text: string): { index: number; what: string } | undefined {
  const match = isStorable(text) ? null : UNSTORABLE.exec(text);
  if (match === null) return undefined;
  return { index: match.index, what: match[0] === '\0' ? 'a NUL (U+0000)' : 'a lone surrogate' };
}

/**
 * `text` with every NUL and lone surrogate replaced by U+FFFD. For a lone surrogate that is what was sent: UTF-8
 * encoding (the HTTP body, the HMAC) turns it into U+FFFD too.
 */
export function replaceUnstorable(text: string): string {
  if (isStorable(text)) return text;
  return (text as unknown as WellFormedString).toWellFormed().replaceAll('\0', REPLACEMENT_CHARACTER);
}

/** A property key in a field path: `.name` for identifiers, `["X-Api-Key"]` otherwise. */
function keyPath(path: string, key: string, brackets: boolean): string {
  return !brackets && /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * The first string (or object key) in `value` holding a NUL or a lone surrogate, as a field path under `path`
 * (`tags[2]`, `statements[0].resources[1]`, `headers["X-Note"]`), or undefined. Keys of objects listed in
 * `bracketed` (by path) are always written in brackets, as header names are.
 */
export function findUnstorableField(
  value: unknown,
  path: string,
  bracketed: ReadonlySet<string> = new Set(),
  seen: WeakSet<object> = new WeakSet(),
): { field: string; index: number; what: string } | undefined {
  if (typeof value === 'string') {
    const found = findUnstorable(value);
    return found && { field: path, ...found };
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableField(value[i], `${path}[${i}]`, bracketed, seen);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const field = keyPath(path, key, bracketed.has(path));
    const inKey = findUnstorable(key);
    if (inKey) return { field, ...inKey };
    const found = findUnstorableField((value as Record<string, unknown>)[key], field, bracketed, seen);
    if (found) return found;
  }
  return undefined;
}

/** The refusal's wording, shared by webhook fields and event identifiers; the value itself is never echoed. */
export function unstorableExpectation(found: { index: number; what: string }): string {
  return `to hold no NUL (U+0000) or lone surrogate (no store keeps them), got a string with ${found.what} at index ${found.index}`;
}

/** Bytes of response headers `normalizeHeaders` keeps by default (undici refuses more than 16 KiB itself). */
export const MAX_RESPONSE_HEADER_BYTES = 65_536;

/**
 * Response headers in the one shape every built-in transport returns: lower-case names, one string per header.
 * Repeated headers are joined with `', '` (RFC 9110 §5.3), except `set-cookie`, whose values may contain commas
 * and are joined with `'\n'` instead (a header value cannot contain a line break, so `split('\n')` restores them).
 *
 * Meant for whatever a custom transport returns, so it never throws: a plain object, a `Headers`, a list of
 * `[name, value]` pairs or anything else is accepted; `undefined`/`null` values and values that cannot be turned into strings are dropped, and
 * headers past `maxBytes` (names and values counted) are dropped too.
 *
 * @example normalizeHeaders({ 'Retry-After': '5', 'X-A': ['1', '2'] }) // { 'retry-after': '5', 'x-a': '1, 2' }
 */
export function normalizeHeaders(
  headers: unknown,
  maxBytes = MAX_RESPONSE_HEADER_BYTES,
): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  try {
    if (headers === null || typeof headers !== 'object') return out;
    const entries = Array.isArray(headers)
      ? headers.filter(isPair)
      : isHeadersLike(headers)
        ? fromHeadersLike(headers)
        : Object.entries(headers);
    for (const [rawName, rawValue] of entries) {
      const name = rawName.toLowerCase();
      const value = text(name, rawValue);
      if (value === undefined) continue;
      bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (bytes > maxBytes) break;
      const previous = out[name];
      out[name] =
        previous === undefined ? value : `${previous}${name === 'set-cookie' ? '\n' : ', '}${value}`;
    }
  } catch {
    // A hostile object (a throwing getter or toString): keep what was read.
  }
  return out;
}

function text(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    if (!Array.isArray(value)) return String(value);
    const parts = value.filter((part) => part !== undefined && part !== null).map(String);
    return parts.length === 0 ? undefined : parts.join(name === 'set-cookie' ? '\n' : ', ');
  } catch {
    return undefined;
  }
}

function isPair(entry: unknown): entry is [string, unknown] {
  return Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string';
}

function isHeadersLike(value: object): value is Headers {
  return !Array.isArray(value) && typeof (value as Headers).forEach === 'function';
}

/** A WHATWG `Headers` (or anything with its `forEach`), keeping every `set-cookie` value. */
function fromHeadersLike(headers: Headers): [string, unknown][] {
  const entries: [string, unknown][] = [];
  const cookies = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : undefined;
  headers.forEach((value, name) => {
    if (cookies === undefined || name.toLowerCase() !== 'set-cookie') entries.push([String(name), value]);
  });
  if (cookies !== undefined && cookies.length > 0) entries.push(['set-cookie', cookies]);
  return entries;
}

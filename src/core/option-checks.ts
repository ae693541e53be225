import { OptionsError } from './errors.js';

/** Longest delay setTimeout honours; a larger one fires at once, which would turn every timeout into a failure. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Validates a numeric option with one message pattern: ``Expected `timeoutMs` to be a positive number, got -1``.
 * `min` is inclusive unless `positive` is set; `max` defaults to the longest timer.
 */
export function numberOption(
  field: string,
  value: unknown,
  fallback: number,
  rule: { positive?: boolean; integer?: boolean; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  const kind = `${rule.positive ? 'positive' : 'non-negative'} ${rule.integer ? 'integer' : 'number'}`;
  const max = rule.max ?? MAX_TIMER_MS;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (rule.positive ? value <= 0 : value < 0) ||
    (rule.integer && !Number.isInteger(value)) ||
    value > max
  ) {
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be a ${kind} of at most ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Refuses keys that are not options, the way webhook fields are refused: ``Unknown option `retries` of
 * createWebhookDispatcher(); did you mean `retry`?``. A typo must not silently fall back to a default.
 */
export function assertKnownKeys(value: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    const field = where.endsWith(')') ? key : `${where}.${key}`;
    throw new OptionsError(
      field,
      `Unknown option \`${key}\` of ${where}${guess ? `; did you mean \`${guess}\`?` : `; known options: ${known.join(', ')}`}`,
    );
  }
}

/**
 * The known name nearest to `name`, if it is near enough to be a typo: case-insensitive edit distance, and a name
 * that contains the typo or is contained in it (`timeout` -> `connectTimeoutMs`) counts as one edit away.
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const contains = c.startsWith(lower) || lower.startsWith(c) || (lower.length >= 4 && c.includes(lower));
    const d = contains ? 1 : editDistance(lower, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.ceil(name.length * 0.4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

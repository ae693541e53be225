import { describe, OptionsError } from './errors.js';

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
 * Refuses option keys a factory does not know, so a typo fails at once instead of being ignored:
 * ``Unknown option `timeout` of httpTransport(); did you mean `connectTimeoutMs`? Known options: ...``.
 * `options` must be a plain object or undefined. `where` names the factory (`'httpTransport()'`); `path` prefixes
 * the field of a nested object (`'retry.'` gives `retry.limit`).
 *
 * @throws {OptionsError} naming the first unknown key (or `options` itself when it is not an object).
 */
export function assertKnownOptions(
  options: unknown,
  known: readonly string[],
  where: string,
  path = '',
): void {
  if (options === undefined) return;
  const field = path === '' ? 'options' : path.replace(/\.$/, '');
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionsError(
      field,
      `Expected \`${field}\` of ${where} to be an object, got ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    throw new OptionsError(
      `${path}${key}`,
      `Unknown option \`${path}${key}\` of ${where}${guess === undefined ? '.' : `; did you mean \`${path}${guess}\`?`} Known options: ${known.join(', ')}`,
    );
  }
}

/** The known name a typo most likely meant: one that contains it (or is contained), or is a few edits away. */
function closest(typo: string, known: readonly string[]): string | undefined {
  const lower = typo.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const name of known) {
    const candidate = name.toLowerCase();
    const distance = levenshtein(lower, candidate);
    const contains = lower.length >= 4 && (candidate.includes(lower) || lower.includes(candidate));
    const score = contains ? Math.min(distance, 1.5) : distance;
    if (score <= Math.max(2, Math.ceil(lower.length * 0.4)) && score < bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

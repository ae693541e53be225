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

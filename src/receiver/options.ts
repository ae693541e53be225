import { OptionsError } from '../extend.js';

// The receiver entry takes every value it needs from the core entry (`../index.js`, one built module at run
// time), never from the core's inner modules: a bundled second copy of the error classes would make
// `instanceof OptionsError` false for errors thrown here. Hence these two small helpers of its own.

/** `null`, `an array`, `an object` or the `typeof`: for messages that must not repeat the value. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** A finite number option with the library's message pattern: ``Expected `now` to be ..., got NaN``. */
export function numberOption(
  field: string,
  value: unknown,
  fallback: number,
  rule: { positive?: boolean; integer?: boolean; max: number },
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (rule.positive ? value <= 0 : value < 0) ||
    (rule.integer && !Number.isInteger(value)) ||
    value > rule.max
  ) {
    const kind = `${rule.positive ? 'positive' : 'non-negative'} ${rule.integer ? 'integer' : 'number'}`;
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be a ${kind} of at most ${rule.max}, got ${shown}`,
    );
  }
  return value;
}

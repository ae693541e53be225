import { describe, OptionsError } from '../core/errors.js';
import { assertKnownKeys, MAX_TIMER_MS } from '../core/option-checks.js';
import type { TransportSendOptions } from '../core/types.js';

/** A transport factory's options: absent, or an object with none but the known keys. */
export function checkOptionKeys(options: unknown, known: readonly string[], where: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionsError(
      'options',
      `Expected \`options\` of ${where} to be an object, got ${describe(options)}`,
    );
  }
  assertKnownKeys(options, known, where);
}

/** The attempt budget of a `send()` called without a usable `timeoutMs` (the dispatcher's default). */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** The attempt's budget: `timeoutMs` when it is a usable timer delay, the default otherwise. */
export function sendTimeout(options: Partial<TransportSendOptions> | undefined): number {
  const ms = options?.timeoutMs;
  return typeof ms === 'number' && ms > 0 && ms <= MAX_TIMER_MS ? ms : DEFAULT_SEND_TIMEOUT_MS;
}

/** The caller's signal, when it is one (a wrapper may pass anything, or nothing). */
export function sendSignal(options: Partial<TransportSendOptions> | undefined): AbortSignal | undefined {
  const signal = options?.signal as Partial<AbortSignal> | undefined;
  return typeof signal?.addEventListener === 'function' && typeof signal.removeEventListener === 'function'
    ? (signal as AbortSignal)
    : undefined;
}

/** `allowPrivateNetworks` of a built-in transport: a boolean or absent (the guard on). */
export function guardOption(value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new OptionsError(
      'allowPrivateNetworks',
      `Expected \`allowPrivateNetworks\` to be a boolean, got ${describe(value)}`,
    );
  }
  return value === true;
}

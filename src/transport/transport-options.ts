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

/**
 * Set by the engine on the options of its own attempts: the attempt, which times the request out and aborts it
 * itself. A built-in transport that finds it (and the options are the attempt's own, not a wrapper's copy) hands
 * it its abort instead of making an `AbortSignal` and a timer of its own: the engine's one deadline list covers the
 * attempt (kept for the "HTTP: emit -> receiver, deliveryLog off" bench rows; see docs/performance.md).
 */
export const ATTEMPT_WATCH: unique symbol = Symbol('webhook-dispatcher.attempt');

/** An engine attempt, as a transport sees it through `ATTEMPT_WATCH`. */
export interface AttemptWatch {
  /** True when `options` are the very options the attempt passed (a wrapper's changed copy is not). */
  owns(options: unknown): boolean;
  /** The attempt's deadline and abort reach `target.abort(reason)`. */
  watch(target: { abort(reason: unknown): void }): void;
}

/** The engine attempt behind `options`, when they are its own. */
export function attemptWatch(options: unknown): AttemptWatch | undefined {
  const watch = (options as { [ATTEMPT_WATCH]?: AttemptWatch } | undefined)?.[ATTEMPT_WATCH];
  return typeof watch?.owns === 'function' && watch.owns(options) ? watch : undefined;
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

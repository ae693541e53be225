import { describe, isPlainObject, OptionsError } from '../core/errors.js';
import type { DeliveryResult } from '../core/types.js';
import { validateHeaders } from '../rendering/header-rules.js';

/** What `onEmit` is told: one call per `emit()`, once the matching webhooks are known. */
export interface EmitInfo {
  eventId: string;
  eventType?: string;
  tenant?: string;
  /** How many webhooks this emit reaches (deliveries it starts). */
  webhooks: number;
}

/** What `onAttempt` is told at the start of one HTTP attempt. */
export interface AttemptInfo {
  /** What `onEmit` returned for the emit this delivery belongs to (undefined for `test()`, redeliveries, ...). */
  emitContext: unknown;
  deliveryId: string;
  webhookId: string;
  eventId: string;
  eventType?: string;
  tenant?: string;
  /** The number of this attempt: 1 for the first, 2 for the first retry, ... */
  attempt: number;
  url: string;
  method: 'POST';
}

/** How one HTTP attempt ended. */
export interface AttemptEnd {
  /** True when a 2xx was received. */
  ok: boolean;
  /** HTTP status received, if any. */
  status?: number;
  /** Why the attempt failed (a `DeliveryErrorCode` or a network code such as `ECONNREFUSED`). */
  error?: { code: string; message: string };
  /** The attempt's duration in milliseconds. */
  durationMs: number;
  /** True when another attempt of this delivery will follow. */
  retry: boolean;
}

/** What `onAttempt` returns: extra request headers, and `end()`, called exactly once when the attempt ends. */
export interface AttemptSpan {
  /** Extra request headers (e.g. `traceparent`). Reserved names (`webhook-*`, signatures, Host, ...) are refused. */
  headers?: Record<string, string>;
  end(outcome: AttemptEnd): void;
}

/** The numbers `gauges(read)` hooks read on demand (a metrics collection). */
export interface EngineGauges {
  /** Deliveries waiting for a slot (in lanes, behind open circuits, in retry waits). */
  queued: number;
  /** Bytes held by the waiting deliveries. */
  queuedBytes: number;
  /** HTTP attempts in flight. */
  inFlight: number;
  /** Webhooks with a lane open (work queued or in flight). */
  lanesOpen: number;
  /** Webhooks whose circuit is open (failing, probed). */
  circuitsOpen: number;
}

/**
 * Hooks the dispatcher calls so tracing and metrics can follow deliveries without the core depending on any
 * telemetry library. `webhook-dispatcher/otel` implements them on OpenTelemetry.
 *
 * Call order for one delivery: `onEmit` (synchronously inside `emit()`, in the caller's context) → per attempt
 * `onAttempt` → the attempt's `end()` → `onResult` once with the final outcome. Any hook may throw; the
 * dispatcher catches and logs it, and a hook never changes an outcome.
 */
export interface Instrumentation {
  /** Called synchronously inside emit(); returns an opaque context carried by the jobs of this emit (the otel entry
   *  returns the caller's W3C trace context as two strings: plain JSON, so a durable queue can keep it in the job). */
  onEmit?(info: EmitInfo): unknown;
  /** Called at the start of every HTTP attempt; returns an object whose end() is called exactly once when it ends.
   *  It may return extra request headers to add (traceparent) via `headers`. */
  onAttempt?(info: AttemptInfo): AttemptSpan | undefined;
  /** Called once per final outcome. */
  onResult?(result: DeliveryResult): void;
  /** Observable gauges read on demand. */
  gauges?(read: () => EngineGauges): void;
}

/** Which hook (or an attempt's `end`) threw. */
export type InstrumentationHook = 'onEmit' | 'onAttempt' | 'end' | 'onResult' | 'gauges';

/** {@link Instrumentation} with every hook present and throw-proof; `onAttempt` always returns a scope. */
export interface SafeInstrumentation {
  /** False when no hook was given: the engine may skip building the hooks' arguments. */
  readonly enabled: boolean;
  onEmit(info: EmitInfo): unknown;
  /** `headers` is undefined or a validated copy; `end()` may be called any number of times, it acts once. */
  onAttempt(info: AttemptInfo): AttemptSpan;
  onResult(result: DeliveryResult): void;
  gauges(read: () => EngineGauges): void;
}

const HOOKS = ['onEmit', 'onAttempt', 'onResult', 'gauges'] as const;
const NOOP_SCOPE: AttemptSpan = Object.freeze({ end() {} });

/**
 * Wraps the `instrumentation` option once, at construction: validates it (an `OptionsError` for anything that is
 * not an object of functions), then makes every call throw-proof. A hook that throws, returns a rejected promise
 * or returns something unusable is reported to `onError` and treated as absent for that call; `onError` itself
 * may throw too. The engine can then call the hooks unconditionally.
 */
export function safeInstrumentation(
  instrumentation: Instrumentation | undefined,
  onError: (error: unknown, hook: InstrumentationHook) => void,
): SafeInstrumentation {
  const hooks = readHooks(instrumentation);
  const report = (error: unknown, hook: InstrumentationHook) => {
    try {
      onError(error, hook);
    } catch {
      // Nothing sensible is left to tell it to.
    }
  };
  const settle = (value: unknown, hook: InstrumentationHook) => {
    if (isThenable(value)) value.then(undefined, (error: unknown) => report(error, hook));
  };
  const { onEmit, onAttempt, onResult, gauges } = hooks;

  return {
    enabled:
      onEmit !== undefined || onAttempt !== undefined || onResult !== undefined || gauges !== undefined,
    onEmit(info) {
      if (onEmit === undefined) return undefined;
      try {
        return onEmit.call(instrumentation, info);
      } catch (error) {
        report(error, 'onEmit');
        return undefined;
      }
    },
    onAttempt(info) {
      if (onAttempt === undefined) return NOOP_SCOPE;
      try {
        return scopeOf(onAttempt.call(instrumentation, info), report, settle);
      } catch (error) {
        report(error, 'onAttempt');
        return NOOP_SCOPE;
      }
    },
    onResult(result) {
      if (onResult === undefined) return;
      try {
        // A copy: the hook must not be able to change what emit() resolves with.
        const copy = result.error ? { ...result, error: { ...result.error } } : { ...result };
        settle(onResult.call(instrumentation, copy), 'onResult');
      } catch (error) {
        report(error, 'onResult');
      }
    },
    gauges(read) {
      if (gauges === undefined) return;
      try {
        settle(gauges.call(instrumentation, read), 'gauges');
      } catch (error) {
        report(error, 'gauges');
      }
    },
  };
}

type Hooks = { [K in (typeof HOOKS)[number]]?: NonNullable<Instrumentation[K]> };

/** Reads each hook once: a getter that throws or a hook that is not a function is refused at construction. */
function readHooks(instrumentation: unknown): Hooks {
  if (instrumentation === undefined) return {};
  if (typeof instrumentation !== 'object' || instrumentation === null || Array.isArray(instrumentation)) {
    throw new OptionsError(
      'instrumentation',
      `Expected \`instrumentation\` to be an object of hooks (onEmit, onAttempt, onResult, gauges), got ${describe(instrumentation)}`,
    );
  }
  const hooks: Record<string, unknown> = {};
  for (const name of HOOKS) {
    const field = `instrumentation.${name}`;
    let hook: unknown;
    try {
      hook = (instrumentation as Record<string, unknown>)[name];
    } catch (error) {
      throw new OptionsError(field, `Expected \`${field}\` to be readable, got ${String(error)}`);
    }
    if (hook === undefined) continue;
    if (typeof hook !== 'function') {
      throw new OptionsError(field, `Expected \`${field}\` to be a function, got ${describe(hook)}`);
    }
    hooks[name] = hook;
  }
  return hooks as Hooks;
}

function scopeOf(
  value: unknown,
  report: (error: unknown, hook: InstrumentationHook) => void,
  settle: (value: unknown, hook: InstrumentationHook) => void,
): AttemptSpan {
  if (value === undefined || value === null) return NOOP_SCOPE;
  if (typeof value !== 'object') {
    report(new TypeError(`onAttempt returned ${describe(value)}, not an object with end()`), 'onAttempt');
    return NOOP_SCOPE;
  }
  const scope = value as Partial<AttemptSpan>;
  const end = scope.end;
  let headers: Record<string, string> | undefined;
  const raw = scope.headers;
  if (raw !== undefined) {
    try {
      const valid = validateHeaders(raw, 'instrumentation.onAttempt().headers');
      if (Object.keys(valid).length > 0) headers = valid;
    } catch (error) {
      report(error, 'onAttempt');
    }
  }
  if (typeof end !== 'function') {
    if (end !== undefined) {
      report(new TypeError(`onAttempt returned an end of ${describe(end)}, not a function`), 'onAttempt');
    }
    return headers ? { headers, end() {} } : NOOP_SCOPE;
  }
  let ended = false;
  return {
    headers,
    end(outcome) {
      if (ended) return;
      ended = true;
      try {
        settle(end.call(value, isPlainObject(outcome) ? { ...outcome } : outcome), 'end');
      } catch (error) {
        report(error, 'end');
      }
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

import { OptionsError } from './errors.js';
import { numberOption } from './options.js';

/** What an attempt ended with, as the retry policy sees it. */
export interface AttemptOutcome {
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Failure code (`HTTP_STATUS`, `TIMEOUT`, `REDIRECT`, `ECONNREFUSED`, ...). */
  code: string;
}

/**
 * Which failed attempts are retried.
 * - `'any'` (LaunchDarkly): every failure — network errors, timeouts, redirects, any non-2xx.
 * - `'server-errors'` (Unleash): network errors, timeouts and 5xx only.
 * - a function deciding for itself.
 * A `410 Gone` is never retried, whatever the choice.
 */
export type RetryOn = 'any' | 'server-errors' | ((outcome: AttemptOutcome) => boolean);

export interface RetryOptions {
  /** Retries after the first attempt. @default 1 */
  retries?: number;
  /** Delay before the first retry, in ms; doubles for each further retry. @default 1000 */
  delayMs?: number;
  /** Upper bound of any computed delay. @default 30_000 */
  maxDelayMs?: number;
  /** Random spread of each delay, as a fraction (0.2 = ±20%). @default 0.2 */
  jitter?: number;
  /** @default 'any' */
  retryOn?: RetryOn;
  /** Honour a `Retry-After` header (seconds or HTTP date), clamped to `maxRetryAfterMs`. @default true */
  respectRetryAfter?: boolean;
  /** Cap of a `Retry-After` wait. @default 60_000 */
  maxRetryAfterMs?: number;
}

export interface RetryPolicy {
  readonly retries: number;
  /** Whether a failed attempt is retried (ignores the count). */
  shouldRetry(outcome: AttemptOutcome): boolean;
  /** Wait before retry number `retry` (1-based), given the failed attempt's `Retry-After` value if any. */
  delayFor(retry: number, retryAfter?: string): number;
}

const NOT_RETRIED_STATUSES = new Set([410]);

/** Normalizes `retry: number | RetryOptions` into a policy. */
export function createRetryPolicy(
  option: number | RetryOptions | undefined,
  random = Math.random,
): RetryPolicy {
  const options: RetryOptions = typeof option === 'number' ? { retries: option } : (option ?? {});
  if (typeof options !== 'object') {
    throw new OptionsError('retry', `Expected \`retry\` to be a number or an object, got ${typeof options}`);
  }
  const retries = numberOption('retry.retries', options.retries, 1, { integer: true, max: 1000 });
  const delayMs = numberOption('retry.delayMs', options.delayMs, 1000);
  const maxDelayMs = numberOption('retry.maxDelayMs', options.maxDelayMs, 30_000);
  const jitter = numberOption('retry.jitter', options.jitter, 0.2, { max: 1 });
  const maxRetryAfterMs = numberOption('retry.maxRetryAfterMs', options.maxRetryAfterMs, 60_000);
  const respectRetryAfter = options.respectRetryAfter ?? true;
  const retryOn = options.retryOn ?? 'any';

  let decide: (outcome: AttemptOutcome) => boolean;
  if (retryOn === 'any') decide = () => true;
  else if (retryOn === 'server-errors') decide = (o) => o.status === undefined || o.status >= 500;
  else if (typeof retryOn === 'function') decide = retryOn;
  else {
    throw new OptionsError(
      'retry.retryOn',
      `Expected \`retry.retryOn\` to be 'any', 'server-errors' or a function, got ${JSON.stringify(retryOn)}`,
    );
  }

  return {
    retries,
    shouldRetry(outcome) {
      if (outcome.status !== undefined && NOT_RETRIED_STATUSES.has(outcome.status)) return false;
      return decide(outcome);
    },
    delayFor(retry, retryAfter) {
      if (respectRetryAfter && retryAfter !== undefined) {
        const wait = parseRetryAfter(retryAfter, Date.now());
        if (wait !== undefined) return Math.min(wait, maxRetryAfterMs);
      }
      const base = Math.min(delayMs * 2 ** (retry - 1), maxDelayMs);
      const spread = base * jitter * (random() * 2 - 1);
      return Math.max(0, Math.round(base + spread));
    },
  };
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; undefined when unparseable. */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

import { OptionsError } from '../core/errors.js';
import { MAX_TIMER_MS, numberOption } from '../core/option-checks.js';

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
  /**
   * The waits before each retry, in ms: `schedule[0]` before the first retry, `schedule[1]` before the second...
   * Retries = `schedule.length` (at most 100). Each wait is spread by `jitter`; `maxDelayMs` and `maxRetryAfterMs`'s
   * default do not cap it. Replaces `retries`, `delayMs` and `maxDelayMs` (giving both is refused).
   * @example { schedule: SVIX_RETRY_SCHEDULE }
   */
  schedule?: readonly number[];
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
  /**
   * Honour a `Retry-After` header (seconds or HTTP date). Without a schedule it replaces the computed wait,
   * clamped to `maxRetryAfterMs`. With a schedule it can only lengthen the scheduled wait, up to
   * `maxRetryAfterMs` when given, else up to the larger of 60 s and twice the scheduled wait. @default true
   */
  respectRetryAfter?: boolean;
  /** Cap of a `Retry-After` wait. @default 60_000 */
  maxRetryAfterMs?: number;
}

export interface RetryPolicy {
  readonly retries: number;
  /** The validated schedule (frozen), when the policy was given one. */
  readonly schedule?: readonly number[];
  /** Whether a failed attempt is retried (ignores the count). */
  shouldRetry(outcome: AttemptOutcome): boolean;
  /** Wait before retry number `retry` (1-based), given the failed attempt's `Retry-After` value if any. */
  delayFor(retry: number, retryAfter?: string): number;
}

/** What `createRetryPolicy` reads besides the options; injectable for tests. */
export interface RetryPolicyContext {
  /** Uniform in [0, 1), for jitter. @default Math.random */
  random?: () => number;
  /** The clock a `Retry-After` HTTP date is read against, in epoch ms. @default Date.now */
  now?: () => number;
}

/** Longest retry schedule accepted. */
export const MAX_SCHEDULE_LENGTH = 100;

/**
 * Svix's retry schedule: after the first attempt (sent at once), retries wait 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
 * and 10 h: 8 attempts over about 27.6 hours. Use it with the default `jitter` (±20%, as Svix).
 * @example createWebhookDispatcher({ retry: { schedule: SVIX_RETRY_SCHEDULE } })
 */
export const SVIX_RETRY_SCHEDULE: readonly number[] = Object.freeze([
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
]);

const NOT_RETRIED_STATUSES = new Set([410]);
/** With a schedule and no explicit `maxRetryAfterMs`, a `Retry-After` may wait at least this long. */
const SCHEDULE_RETRY_AFTER_FLOOR_MS = 60_000;

/**
 * Normalizes `retry: number | RetryOptions` into a policy. The second argument is the context (`{ random, now }`),
 * or, as before, the random function alone.
 */
export function createRetryPolicy(
  option: number | RetryOptions | undefined,
  context: RetryPolicyContext | (() => number) = {},
): RetryPolicy {
  const { random = Math.random, now = Date.now } =
    typeof context === 'function' ? { random: context } : (context ?? {});
  const options: RetryOptions = typeof option === 'number' ? { retries: option } : (option ?? {});
  if (typeof options !== 'object') {
    throw new OptionsError('retry', `Expected \`retry\` to be a number or an object, got ${typeof options}`);
  }
  const schedule = scheduleOption(options);
  const retries = schedule
    ? schedule.length
    : numberOption('retry.retries', options.retries, 1, { integer: true, max: 1000 });
  const delayMs = numberOption('retry.delayMs', options.delayMs, 1000);
  const maxDelayMs = numberOption('retry.maxDelayMs', options.maxDelayMs, 30_000);
  const jitter = numberOption('retry.jitter', options.jitter, 0.2, { max: 1 });
  const explicitMaxRetryAfter = options.maxRetryAfterMs !== undefined;
  const maxRetryAfterMs = numberOption('retry.maxRetryAfterMs', options.maxRetryAfterMs, 60_000);
  const respectRetryAfter = options.respectRetryAfter ?? true;
  if (typeof respectRetryAfter !== 'boolean') {
    throw new OptionsError(
      'retry.respectRetryAfter',
      `Expected \`retry.respectRetryAfter\` to be a boolean, got ${String(respectRetryAfter)}`,
    );
  }
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

  const spread = (base: number) => {
    const r = random();
    // A hostile or broken random source must not produce NaN or negative waits.
    const unit = typeof r === 'number' && r >= 0 && r <= 1 ? r : 0.5;
    return Math.min(MAX_TIMER_MS, Math.max(0, Math.round(base + base * jitter * (unit * 2 - 1))));
  };
  const retryAfterMs = (value: string | undefined): number | undefined => {
    if (!respectRetryAfter || value === undefined) return undefined;
    return parseRetryAfter(value, now());
  };

  return {
    retries,
    ...(schedule && { schedule }),
    shouldRetry(outcome) {
      if (outcome.status !== undefined && NOT_RETRIED_STATUSES.has(outcome.status)) return false;
      return decide(outcome);
    },
    delayFor: schedule
      ? (retry, retryAfter) => {
          const index = Math.min(Math.max(Math.floor(retry) - 1, 0), schedule.length - 1);
          const base = schedule[index] ?? 0;
          const wait = spread(base);
          const asked = retryAfterMs(retryAfter);
          if (asked === undefined || asked <= wait) return wait;
          const cap = explicitMaxRetryAfter
            ? maxRetryAfterMs
            : Math.max(SCHEDULE_RETRY_AFTER_FLOOR_MS, 2 * base);
          return Math.min(MAX_TIMER_MS, Math.max(wait, Math.min(asked, cap)));
        }
      : (retry, retryAfter) => {
          const asked = retryAfterMs(retryAfter);
          if (asked !== undefined) return Math.min(asked, maxRetryAfterMs);
          return spread(Math.min(delayMs * 2 ** (retry - 1), maxDelayMs));
        },
  };
}

/** Validates `retry.schedule` (a frozen copy), or undefined when not given. */
function scheduleOption(options: RetryOptions): readonly number[] | undefined {
  const value: unknown = options.schedule;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_SCHEDULE_LENGTH) {
    const got = Array.isArray(value) ? `${value.length} waits` : describe(value);
    throw new OptionsError(
      'retry.schedule',
      `Expected \`retry.schedule\` to be an array of at most ${MAX_SCHEDULE_LENGTH} waits in ms, got ${got}`,
    );
  }
  for (const field of ['retries', 'delayMs', 'maxDelayMs'] as const) {
    if (options[field] !== undefined) {
      throw new OptionsError(
        `retry.${field}`,
        `Expected \`retry.${field}\` to be left out with \`retry.schedule\` (the schedule sets every wait), got ${String(options[field])}`,
      );
    }
  }
  const waits: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const field = `retry.schedule[${i}]`;
    // Holes and undefined entries are refused, not read as a default.
    waits.push(numberOption(field, i in value ? (value[i] ?? null) : null, 0));
  }
  return Object.freeze(waits);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; undefined when unparseable. */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

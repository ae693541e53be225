/** The pg-boss options each job row carries, as a worker re-inserts them. */
export interface RowOptions {
  expireInSeconds: number;
  retryLimit: number;
  retryDelay: number;
  retryBackoff?: boolean;
  priority?: number;
}

/** What `fetch({ includeMetadata: true })` answers besides the id and data (pg returns numerics as strings). */
export interface FetchedOptions {
  expireInSeconds?: unknown;
  retryLimit?: unknown;
  retryDelay?: unknown;
  retryBackoff?: unknown;
  priority?: unknown;
}

/** The shortest expiry derived by `expireInSecondsFor`. */
export const MIN_EXPIRE_IN_SECONDS = 20;
/** Added to the longest job run for what the formula does not count (log writes, a completion, a slow turn). */
export const EXPIRY_MARGIN_SECONDS = 5;
/** pg-boss's maintenance, which puts expired jobs back, runs this often by default. */
export const DEFAULT_MAINTENANCE_INTERVAL_SECONDS = 10;

/** What one run of a delivery job may take at most, in ms: the parts of the formula. */
export interface JobRunBounds {
  /** The dispatcher's `timeoutMs`: one attempt. @default 10_000 */
  timeoutMs?: number;
  /** The dispatcher's `storeTimeoutMs`: the send-time read of the job's webhook. @default 10_000 */
  storeTimeoutMs?: number;
  /** The worker's `deferAfterMs`: the longest wait for the webhook's lane. @default 1000 */
  deferAfterMs?: number;
}

/**
 * The job expiry derived from what one run of a job may take: a worker makes ONE attempt per job (a retry is a job of
 * its own, so the retry policy adds no time to a run), after at most `deferAfterMs` in the webhook's lane and one
 * send-time store read:
 * `max(20, ceil((deferAfterMs + storeTimeoutMs + timeoutMs) / 1000) + 5)`, 26 s with the defaults. A killed
 * worker's job is then run again after at most that plus one maintenance interval (10 s) and one polling interval.
 */
export function expireInSecondsFor(bounds: JobRunBounds = {}): number {
  const runMs =
    (bounds.deferAfterMs ?? 1000) + (bounds.storeTimeoutMs ?? 10_000) + (bounds.timeoutMs ?? 10_000);
  return Math.max(MIN_EXPIRE_IN_SECONDS, Math.ceil(runMs / 1000) + EXPIRY_MARGIN_SECONDS);
}

const finite = (value: unknown): number | undefined => {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

/**
 * The options of a fetched job row, each falling back to this process's own when the row lacks it: a job a worker
 * re-inserts (a retry, a lane deferral) keeps the expiry and retries the emitter gave it.
 */
export function ownOptions(fetched: FetchedOptions, fallback: RowOptions): RowOptions {
  const expire = finite(fetched.expireInSeconds);
  const options: RowOptions = {
    expireInSeconds: expire !== undefined && expire >= 1 ? Math.round(expire) : fallback.expireInSeconds,
    retryLimit: finite(fetched.retryLimit) ?? fallback.retryLimit,
    retryDelay: finite(fetched.retryDelay) ?? fallback.retryDelay,
  };
  if (typeof fetched.retryBackoff === 'boolean') options.retryBackoff = fetched.retryBackoff;
  const priority = finite(fetched.priority);
  if (priority !== undefined && priority !== 0) options.priority = priority;
  return options;
}

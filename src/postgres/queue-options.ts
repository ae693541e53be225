import { numberOption, OptionsError } from '../extend.js';
import type { Logger } from '../index.js';
import { DEFAULT_MAINTENANCE_INTERVAL_SECONDS, expireInSecondsFor, type RowOptions } from './job-options.js';
import { assertPool, type PoolLike } from './sql.js';

/** The pg-boss queue name used when `queueName` is not given. */
export const DEFAULT_QUEUE_NAME = 'webhook-deliveries';

/** How a process that runs a worker takes jobs. */
export interface PgBossWorkerOptions {
  /** Deliveries this process runs at once. @default 64 */
  concurrency?: number;
  /**
   * How often in ms an idle worker looks for due jobs when no notification woke it (NOTIFY wakes it at once
   * after an enqueue; polling picks up scheduled retries and anything a lost notification missed). @default 2000
   */
  pollingIntervalMs?: number;
  /**
   * A job that its webhook's lane cannot start within this many ms (the lane is full, paused by `Retry-After`, or
   * its circuit is open) goes back to the queue, delayed, with its attempt count unchanged, so one slow or failing
   * receiver cannot fill this worker with its jobs. @default 1000
   */
  deferAfterMs?: number;
}

/**
 * pg-boss job options of every delivery job. Emitters write them into the job, and a worker that re-inserts a job
 * (a retry, a lane deferral) keeps the job's own, so the emitters' options are the ones that count.
 */
export interface PgBossJobOptions {
  /**
   * How long in seconds a worker may hold a job before it is taken to have died with it: the job then goes back to
   * the queue (redelivered, same `webhook-id`). A worker killed mid-delivery is recovered after this plus at most
   * one `maintenanceIntervalSeconds`. It must exceed one run of a job: one attempt (`timeoutMs`), the send-time
   * store read (`storeTimeoutMs`) and the lane wait (`deferAfterMs`).
   * @default max(20, ceil((deferAfterMs + storeTimeoutMs + timeoutMs) / 1000) + 5): 26 with the defaults
   * (`postgresWebhooks()` uses its own `timeoutMs` and `storeTimeoutMs`; `pgBossQueue()` the dispatcher defaults)
   */
  expireInSeconds?: number;
  /**
   * How many times pg-boss runs one job again when delivery itself could not finish (a worker died, was closed
   * with a deadline mid-delivery, or the store was unreachable). Every one may mean one more delivery of the same
   * `webhook-id`. @default 10
   */
  retryLimit?: number;
  /** Seconds before such a job runs again. @default 1 */
  retryDelay?: number;
}

/** Options of `pgBossQueue()`. */
export interface PgBossQueueOptions {
  /** A `pg.Pool` the queue uses (not closed by it). Give this or `connectionString`. */
  pool?: PoolLike;
  /** Used to open a pool of the queue's own (closed by `close()`) when `pool` is not given. */
  connectionString?: string;
  /** The Postgres schema pg-boss keeps its tables in; emitters and workers must use the same. @default 'pgboss' */
  schema?: string;
  /** The pg-boss queue name; emitters and workers must use the same one. @default 'webhook-deliveries' */
  queueName?: string;
  /**
   * Whether this process delivers jobs too. `false`: it only enqueues (an emitting process); `true` or options: it
   * takes jobs with the dispatcher's filters, rendering, signing and retry policy.
   * @default false
   */
  worker?: boolean | PgBossWorkerOptions;
  /**
   * How long in ms `emit` waits for Postgres to take the jobs. When it is down or does not answer in time, `emit`
   * resolves with failed `ENQUEUE_FAILED` results instead of waiting: those deliveries are not known to be queued
   * (a late insert may still land; emitting the same event again is safe, the job id is the `webhook-id`).
   * @default 5000
   */
  enqueueTimeoutMs?: number;
  /**
   * How long in ms a delivery id is remembered after it was delivered: a second emit of the same event to the same
   * webhook within this window is not queued again (pg-boss's `archiveCompletedAfterSeconds`).
   * @default 86_400_000 (24 hours)
   */
  dedupeWindowMs?: number;
  /**
   * How often in seconds pg-boss's maintenance runs (puts back the expired jobs of dead workers, archives). It runs
   * once per interval across all processes on the schema (the shortest interval among them wins). @default 10
   */
  maintenanceIntervalSeconds?: number;
  jobOptions?: PgBossJobOptions;
  /** Where connection and worker errors go. Silent by default. */
  logger?: Partial<Logger>;
}

/** The keys of `PgBossWorkerOptions`, named once for every place that splits mixed options. */
export const PG_BOSS_WORKER_KEYS = ['concurrency', 'pollingIntervalMs', 'deferAfterMs'] as const;

/** The keys of `PgBossQueueOptions` that emitters and workers share (all but `worker` and `logger`). */
export const PG_BOSS_QUEUE_KEYS = [
  'pool',
  'connectionString',
  'schema',
  'queueName',
  'enqueueTimeoutMs',
  'dedupeWindowMs',
  'maintenanceIntervalSeconds',
  'jobOptions',
] as const;

/** `PgBossQueueOptions` checked, with every default filled in. */
export interface ResolvedPgBossOptions {
  pool: PoolLike | undefined;
  connectionString: string | undefined;
  name: string;
  schema: string;
  enqueueTimeoutMs: number;
  dedupeWindowMs: number;
  maintenanceIntervalSeconds: number;
  /** Written into each new job; a re-inserted job keeps those of its row (see `ownOptions`). */
  rowOptions: RowOptions;
  /** Whether this process takes jobs. */
  worker: boolean;
  concurrency: number;
  pollingIntervalMs: number;
  deferAfterMs: number;
  logger: Partial<Logger> | undefined;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,50}$/;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,49}$/;

function assertConnection(options: PgBossQueueOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('pool', 'Expected `pool` (a pg Pool) or `connectionString`, got nothing');
  }
  if (options.pool !== undefined) {
    assertPool('pool', options.pool);
    return;
  }
  if (typeof options.connectionString !== 'string' || options.connectionString === '') {
    throw new OptionsError(
      'pool',
      `Expected \`pool\` (a pg Pool) or \`connectionString\` (a postgres:// URL), got ${options.connectionString === undefined ? 'neither' : JSON.stringify(options.connectionString)}`,
    );
  }
}

function namesOf(options: PgBossQueueOptions): { name: string; schema: string } {
  const name = options.queueName ?? DEFAULT_QUEUE_NAME;
  if (typeof name !== 'string' || !QUEUE_NAME.test(name)) {
    throw new OptionsError(
      'queueName',
      `Expected \`queueName\` to be 1 to 50 letters, digits, _ or -, got ${JSON.stringify(name)}`,
    );
  }
  const schema = options.schema ?? 'pgboss';
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new OptionsError(
      'schema',
      `Expected \`schema\` to be a SQL identifier of at most 50 characters, got ${JSON.stringify(schema)}`,
    );
  }
  return { name, schema };
}

function rowOptionsOf(jobOptions: PgBossJobOptions, deferAfterMs: number | undefined): RowOptions {
  return {
    expireInSeconds: numberOption(
      'jobOptions.expireInSeconds',
      jobOptions.expireInSeconds,
      expireInSecondsFor({ deferAfterMs }),
      { positive: true, integer: true, max: 86_399 },
    ),
    retryLimit: numberOption('jobOptions.retryLimit', jobOptions.retryLimit, 10, {
      integer: true,
      max: 1000,
    }),
    retryDelay: numberOption('jobOptions.retryDelay', jobOptions.retryDelay, 1, {
      integer: true,
      max: 86_400,
    }),
  };
}

/** Checks the options of `pgBossQueue()` (each bad one named in its error) and fills in the defaults. */
export function resolvePgBossOptions(options: PgBossQueueOptions): ResolvedPgBossOptions {
  assertConnection(options);
  const workerOptions = options.worker === true ? {} : options.worker || undefined;
  return {
    pool: options.pool,
    connectionString: options.connectionString,
    ...namesOf(options),
    enqueueTimeoutMs: numberOption('enqueueTimeoutMs', options.enqueueTimeoutMs, 5000, { positive: true }),
    dedupeWindowMs: numberOption('dedupeWindowMs', options.dedupeWindowMs, 86_400_000, {
      positive: true,
      max: 365 * 86_400_000,
    }),
    maintenanceIntervalSeconds: numberOption(
      'maintenanceIntervalSeconds',
      options.maintenanceIntervalSeconds,
      DEFAULT_MAINTENANCE_INTERVAL_SECONDS,
      { positive: true, integer: true, max: 86_399 },
    ),
    rowOptions: rowOptionsOf(options.jobOptions ?? {}, workerOptions?.deferAfterMs),
    worker: workerOptions !== undefined,
    concurrency: numberOption('worker.concurrency', workerOptions?.concurrency, 64, {
      positive: true,
      integer: true,
      max: 10_000,
    }),
    pollingIntervalMs: numberOption('worker.pollingIntervalMs', workerOptions?.pollingIntervalMs, 2000, {
      positive: true,
    }),
    deferAfterMs: numberOption('worker.deferAfterMs', workerOptions?.deferAfterMs, 1000, { positive: true }),
    logger: options.logger,
  };
}

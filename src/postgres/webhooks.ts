import {
  type DurablePieces,
  durableBuilders,
  type ProcessOverrides,
  type SharedDispatcherOptions,
} from '../durable/durable-setup.js';
import type { WebhookWorker } from '../durable/worker.js';
import { numberOption, OptionsError } from '../extend.js';
import type { WebhookDispatcher } from '../index.js';
import { type PostgresDeliveryLogOptions, postgresDeliveryLog } from './delivery-log.js';
import { expireInSecondsFor } from './job-options.js';
import { migrate, type PostgresSchemaOptions } from './migrate.js';
import {
  type PgBossJobOptions,
  type PgBossQueueOptions,
  type PgBossWorkerOptions,
  pgBossQueue,
} from './queue.js';
import { assertPool, type PoolLike } from './sql.js';
import { postgresStore } from './store.js';

/**
 * Options of `postgresWebhooks()`: one set for every emitter and worker. Where the tables are (as for `migrate`),
 * the pg-boss queue, the delivery log's retention, and every `createWebhookDispatcher` option but the pieces it
 * builds (`store`, `queue`, `deliveryLog`).
 */
export interface PostgresWebhooksOptions extends PostgresSchemaOptions, SharedDispatcherOptions {
  /** A `pg.Pool`, not closed by the setup. Size it for the LISTEN connections (see the README). */
  pool: PoolLike;
  /** pg-boss's schema. @default 'pgboss' */
  bossSchema?: string;
  /** The pg-boss queue name. @default 'webhook-deliveries' */
  queueName?: PgBossQueueOptions['queueName'];
  /**
   * Written into each job and kept when a worker re-inserts it. `expireInSeconds` defaults to
   * `max(20, ceil((deferAfterMs + storeTimeoutMs + timeoutMs) / 1000) + 5)` from this setup's own options.
   */
  jobOptions?: PgBossJobOptions;
  /** @default 5000 */
  enqueueTimeoutMs?: number;
  /** @default 86_400_000 (24 hours) */
  dedupeWindowMs?: number;
  /** @default 10 */
  maintenanceIntervalSeconds?: number;
  /** A job its lane cannot start within this many ms goes back to the queue, delayed. @default 1000 */
  deferAfterMs?: number;
  /** How often `watch()` checks its LISTEN connection, in ms. @default 5000 */
  heartbeatMs?: number;
  /** Retention of the delivery log in `deliveriesTable`. */
  deliveryLogOptions?: Pick<
    PostgresDeliveryLogOptions,
    'maxAgeMs' | 'perWebhook' | 'maxAttemptsPerDelivery' | 'maxBodyBytes' | 'pruneIntervalMs'
  >;
}

/** What one worker process may set for itself besides `ProcessOverrides`. */
export type PostgresWorkerOverrides = ProcessOverrides &
  Pick<PgBossWorkerOptions, 'concurrency' | 'pollingIntervalMs'>;

/** The emitters and workers of one durable setup on Postgres. */
export interface PostgresWebhooks {
  /** The job options written into each job (`expireInSeconds` resolved). */
  readonly jobOptions: Readonly<Required<PgBossJobOptions>>;
  /** Creates the webhooks and delivery-log tables of this setup if missing (`migrate(pool, { schema, table, deliveriesTable })`). */
  migrate(): Promise<void>;
  /** An emitting dispatcher: it queues deliveries for the workers. Give it to `createWebhookApi` for the admin API. */
  dispatcher(overrides?: ProcessOverrides): WebhookDispatcher;
  /** A worker: it delivers the queued jobs and records every attempt in the shared delivery log. */
  worker(overrides?: PostgresWorkerOverrides): WebhookWorker;
}

/**
 * The durable path on Postgres configured once: `dispatcher()` and `worker()` build, from ONE set of options, the
 * store (`postgresStore`), the queue (`pgBossQueue`), the delivery log (`postgresDeliveryLog`), the job options and
 * the retry policy, so every process agrees on them: a worker records to the same log the admin API reads, and runs
 * with the job options the emitters write.
 *
 * @example
 * const webhooks = postgresWebhooks({ pool, retry: 3 });
 * await webhooks.migrate();
 * const dispatcher = webhooks.dispatcher();               // in the service
 * const worker = webhooks.worker({ concurrency: 32 });    // in each worker process
 */
export function postgresWebhooks(options: PostgresWebhooksOptions): PostgresWebhooks {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError(
      'pool',
      'Expected `postgresWebhooks()` options with a `pool` (a pg Pool), got nothing',
    );
  }
  const {
    pool,
    schema,
    table,
    deliveriesTable,
    bossSchema,
    queueName,
    jobOptions,
    enqueueTimeoutMs,
    dedupeWindowMs,
    maintenanceIntervalSeconds,
    deferAfterMs,
    heartbeatMs,
    deliveryLogOptions,
    ...shared
  } = options;
  assertPool('pool', pool);
  const derivedExpiry = expireInSecondsFor({
    timeoutMs: numberOption('timeoutMs', shared.timeoutMs, 10_000, { positive: true }),
    storeTimeoutMs: numberOption('storeTimeoutMs', shared.storeTimeoutMs, 10_000, { positive: true }),
    deferAfterMs: numberOption('deferAfterMs', deferAfterMs, 1000, { positive: true }),
  });
  const resolvedJobOptions = {
    expireInSeconds: jobOptions?.expireInSeconds ?? derivedExpiry,
    retryLimit: jobOptions?.retryLimit ?? 10,
    retryDelay: jobOptions?.retryDelay ?? 1,
  };
  const queueOptions: PgBossQueueOptions = {
    pool,
    schema: bossSchema,
    queueName,
    jobOptions: resolvedJobOptions,
    enqueueTimeoutMs,
    dedupeWindowMs,
    maintenanceIntervalSeconds,
  };
  // Validated now, not at the first dispatcher() or worker() call.
  pgBossQueue(queueOptions);
  const pieces = (): DurablePieces => {
    const deliveryLog = postgresDeliveryLog({ ...deliveryLogOptions, pool, schema, deliveriesTable });
    return {
      store: postgresStore({ pool, schema, table, heartbeatMs, logger: shared.logger }),
      deliveryLog,
      release: () => deliveryLog.close(),
    };
  };
  const builders = durableBuilders<Pick<PgBossWorkerOptions, 'concurrency' | 'pollingIntervalMs'>>(
    shared,
    pieces,
    (logger, worker) =>
      pgBossQueue({ ...queueOptions, logger, worker: worker && { ...worker, deferAfterMs } }),
    ['concurrency', 'pollingIntervalMs'],
  );
  return {
    jobOptions: resolvedJobOptions,
    migrate: () => migrate(pool, { schema, table, deliveriesTable }),
    dispatcher: builders.dispatcher,
    worker: builders.worker,
  };
}

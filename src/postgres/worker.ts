import { assertWorkerStore, type WebhookWorker, workerOf } from '../durable/worker.js';
import type { WebhookDispatcherOptions, WebhookStore } from '../index.js';
import { type PgBossQueueOptions, type PgBossWorkerOptions, pgBossQueue } from './queue.js';

/**
 * Options of `createWebhookWorker()`: where the jobs are (the same `pool`/`connectionString`, `schema` and
 * `queueName` as the emitting processes), how this worker takes them, and the dispatcher options that shape
 * delivery (`transport`, `retry`, `timeoutMs`, `allowPrivateNetworks`, `onDelivery`, ...).
 */
export interface WebhookWorkerOptions
  extends Omit<WebhookDispatcherOptions, 'store' | 'queue' | 'concurrency' | 'maxQueued'>,
    Omit<PgBossQueueOptions, 'worker' | 'logger'>,
    PgBossWorkerOptions {
  /**
   * The store the emitting processes write webhooks to (e.g. `postgresStore({ pool })`). Each job's webhook is
   * checked at send time, so a webhook changed, switched off or deleted after enqueue is honoured: from the
   * worker's index while the store's watch is live (it follows the store from its first job), else read from it.
   */
  store: WebhookStore;
}

export type { WebhookWorker };

/**
 * Starts a delivery worker: it takes the jobs that `emit` wrote with `pgBossQueue()` and delivers them with the
 * same filters, rendering, signing and retry policy as in-process delivery. Run it in as many processes as needed.
 *
 * @example
 * const worker = createWebhookWorker({ pool, store: postgresStore({ pool }) });
 * process.on('SIGTERM', () => worker.close({ deadlineMs: 10_000 }));
 */
export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  assertWorkerStore(options?.store, 'postgresStore({ pool })');
  const {
    pool,
    connectionString,
    schema,
    queueName,
    enqueueTimeoutMs,
    dedupeWindowMs,
    maintenanceIntervalSeconds,
    jobOptions,
    concurrency,
    pollingIntervalMs,
    deferAfterMs,
    ...dispatcherOptions
  } = options;
  const queue = pgBossQueue({
    pool,
    connectionString,
    schema,
    queueName,
    enqueueTimeoutMs,
    dedupeWindowMs,
    maintenanceIntervalSeconds,
    jobOptions,
    logger: options.logger,
    worker: { concurrency, pollingIntervalMs, deferAfterMs },
  });
  return workerOf(queue, dispatcherOptions);
}

import { splitKeys } from '../durable/options.js';
import { assertWorkerStore, type WebhookWorker, workerOf } from '../durable/worker.js';
import type { WebhookDispatcherOptions, WebhookStore } from '../index.js';
import { type PgBossQueueOptions, type PgBossWorkerOptions, pgBossQueue } from './queue.js';
import { PG_BOSS_QUEUE_KEYS, PG_BOSS_WORKER_KEYS } from './queue-options.js';

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
  const [queueOptions, rest] = splitKeys(options, PG_BOSS_QUEUE_KEYS);
  const [worker, dispatcherOptions] = splitKeys(rest, PG_BOSS_WORKER_KEYS);
  const queue = pgBossQueue({ ...queueOptions, logger: options.logger, worker });
  return workerOf(queue, dispatcherOptions);
}

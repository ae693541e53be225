import {
  createWebhookDispatcher,
  OptionsError,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookStore,
} from '../index.js';
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

export interface WebhookWorker {
  /** The worker's dispatcher: its `onDelivery`, delivery log and `webhooks` API live in this process. */
  readonly dispatcher: WebhookDispatcher;
  /** Resolves when pg-boss is ready and the worker is listening for new jobs. */
  ready(): Promise<void>;
  /**
   * Stops taking jobs and resolves when the jobs this worker holds are finished. With `deadlineMs`, deliveries
   * still running then are interrupted and their jobs go back to the queue for another worker.
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
}

/**
 * Starts a delivery worker: it takes the jobs that `emit` wrote with `pgBossQueue()` and delivers them with the
 * same filters, rendering, signing and retry policy as in-process delivery. Run it in as many processes as needed.
 *
 * @example
 * const worker = createWebhookWorker({ pool, store: postgresStore({ pool }) });
 * process.on('SIGTERM', () => worker.close({ deadlineMs: 10_000 }));
 */
export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  if (typeof options?.store?.get !== 'function') {
    throw new OptionsError(
      'store',
      'Expected `store` to be the WebhookStore the emitting processes use (e.g. postgresStore({ pool })), got ' +
        (options?.store === undefined ? 'undefined' : typeof options.store),
    );
  }
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
  const dispatcher = createWebhookDispatcher({ ...dispatcherOptions, queue });
  return {
    dispatcher,
    ready: () => queue.ready(),
    close: (closeOptions) => dispatcher.close(closeOptions),
  };
}

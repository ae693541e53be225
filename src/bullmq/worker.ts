import { splitKeys } from '../durable/options.js';
import { assertWorkerStore, type WebhookWorker, workerOf } from '../durable/worker.js';
import type { WebhookDispatcherOptions, WebhookStore } from '../index.js';
import { type BullmqQueueOptions, type BullmqWorkerOptions, bullmqQueue } from './queue.js';
import { BULLMQ_QUEUE_KEYS, BULLMQ_WORKER_KEYS } from './queue-options.js';

/**
 * Options of `createWebhookWorker()`: where the jobs are (the same `connection`, `queueName` and `prefix` as the
 * emitting processes), how this worker takes them, and the dispatcher options that shape delivery (`transport`,
 * `retry`, `timeoutMs`, `allowPrivateNetworks`, `onDelivery`, ...), which are the same as in-process delivery.
 */
export interface WebhookWorkerOptions
  extends Omit<WebhookDispatcherOptions, 'store' | 'queue' | 'concurrency' | 'maxQueued'>,
    Omit<BullmqQueueOptions, 'worker' | 'logger'>,
    BullmqWorkerOptions {
  /**
   * The store the emitting processes write webhooks to (e.g. `redisStore()`). Each job's webhook is read from it
   * at send time, so a webhook changed, switched off or deleted after enqueue is honoured.
   */
  store: WebhookStore;
}

export type { WebhookWorker };

/**
 * Starts a delivery worker: it takes the jobs that `emit` persisted with `bullmqQueue()` and delivers them with the
 * same filters, rendering, signing and retry policy as in-process delivery. Run it in as many processes or machines
 * as needed.
 *
 * @example
 * const worker = createWebhookWorker({
 *   connection: { url: process.env.REDIS_URL },
 *   store: redisStore({ client: new Redis(process.env.REDIS_URL) }),
 *   onDelivery: (result) => console.log(result.outcome, result.webhookId),
 * });
 * process.on('SIGTERM', () => worker.close({ deadlineMs: 10_000 }));
 */
export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  assertWorkerStore(options?.store, 'redisStore()');
  const [queueOptions, rest] = splitKeys(options, BULLMQ_QUEUE_KEYS);
  const [worker, dispatcherOptions] = splitKeys(rest, BULLMQ_WORKER_KEYS);
  const queue = bullmqQueue({ ...queueOptions, logger: options.logger, worker });
  return workerOf(queue, dispatcherOptions);
}

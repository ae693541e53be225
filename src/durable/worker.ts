import { type DeliveryQueue, OptionsError } from '../extend.js';
import { createWebhookDispatcher, type WebhookDispatcher, type WebhookDispatcherOptions } from '../index.js';

/** What `createWebhookWorker()` returns, on either durable queue. */
export interface WebhookWorker {
  /** The worker's dispatcher: its `onDelivery`, delivery log and `webhooks` API live in this process. */
  readonly dispatcher: WebhookDispatcher;
  /** Resolves when the worker is connected and taking jobs. */
  ready(): Promise<void>;
  /**
   * Stops taking jobs and resolves when the jobs this worker holds are finished. With `deadlineMs`, deliveries
   * still running then are interrupted and their jobs go back to the queue for another worker.
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
}

/** A worker reads each job's webhook from the store the emitters write to: it cannot start without it. */
export function assertWorkerStore(store: unknown, example: string): void {
  if (typeof (store as { get?: unknown } | undefined)?.get !== 'function') {
    throw new OptionsError(
      'store',
      `Expected \`store\` to be the WebhookStore the emitting processes use (e.g. ${example}), got ${
        store === undefined ? 'undefined' : typeof store
      }`,
    );
  }
}

/** The worker around a durable queue: a dispatcher delivering what the queue hands it. */
export function workerOf(
  queue: DeliveryQueue & { ready(): Promise<void> },
  dispatcherOptions: WebhookDispatcherOptions,
): WebhookWorker {
  const dispatcher = createWebhookDispatcher({ ...dispatcherOptions, queue });
  return {
    dispatcher,
    ready: () => queue.ready(),
    close: (closeOptions) => dispatcher.close(closeOptions),
  };
}

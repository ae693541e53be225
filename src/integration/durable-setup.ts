import {
  createWebhookDispatcher,
  type DeliveryQueue,
  OptionsError,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../index.js';
import { type WebhookWorker, workerOf } from './worker.js';

/**
 * Dispatcher options that a durable setup (`postgresWebhooks()`, `bullmqWebhooks()`) decides once for every
 * emitter and worker: the pieces it builds, and the bounds its job options are derived from.
 */
const SHARED_KEYS = ['store', 'queue', 'deliveryLog', 'retry', 'timeoutMs', 'storeTimeoutMs'] as const;
type SharedKey = (typeof SHARED_KEYS)[number];

/** The dispatcher options every process of a durable setup shares: all but the pieces the setup builds. */
export type SharedDispatcherOptions = Omit<
  WebhookDispatcherOptions,
  'store' | 'queue' | 'deliveryLog' | 'concurrency' | 'maxQueued'
>;

/**
 * What one process may set for itself in `dispatcher(overrides)` / `worker(overrides)`: `onDelivery`, `logger`,
 * `transport`, `instrumentation`, ... Not the store, queue, delivery log, `retry`, `timeoutMs` or `storeTimeoutMs`:
 * those are the setup's, the same in every process.
 */
export type ProcessOverrides = Omit<WebhookDispatcherOptions, SharedKey | 'concurrency' | 'maxQueued'>;

/** The pieces one process gets: built fresh for each call, so closing one process's dispatcher closes only its own. */
export interface DurablePieces {
  store: NonNullable<WebhookDispatcherOptions['store']>;
  deliveryLog: NonNullable<WebhookDispatcherOptions['deliveryLog']>;
  /** Runs after the dispatcher has closed (stops a log's timer, ends a connection the setup opened). */
  release(): void;
}

/** Refuses an override of what the setup shares, naming the option and where it is set. */
export function assertProcessOverrides(overrides: unknown, where: string): ProcessOverrides {
  if (overrides === undefined) return {};
  if (typeof overrides !== 'object' || overrides === null) {
    throw new OptionsError(
      'overrides',
      `Expected the options of ${where} to be an object, got ${String(overrides)}`,
    );
  }
  for (const key of SHARED_KEYS) {
    if (key in overrides) {
      throw new OptionsError(
        key,
        `\`${key}\` is shared by every emitter and worker of this setup: set it once in the setup's options, not in ${where}`,
      );
    }
  }
  return overrides as ProcessOverrides;
}

/** A dispatcher whose `close()` also releases the pieces built for it. */
function releasing(dispatcher: WebhookDispatcher, release: () => void): WebhookDispatcher {
  let releaseOnce: (() => void) | undefined = release;
  const close: WebhookDispatcher['close'] = async (closeOptions) => {
    try {
      await dispatcher.close(closeOptions);
    } finally {
      const run = releaseOnce;
      releaseOnce = undefined;
      try {
        run?.();
      } catch {
        // releasing a timer or a connection the setup opened never fails a close
      }
    }
  };
  return { ...dispatcher, close };
}

/** An emitting dispatcher of a setup: the shared options, this process's overrides, the setup's pieces. */
export function emitterOf(
  shared: SharedDispatcherOptions,
  overrides: ProcessOverrides,
  pieces: DurablePieces,
  queue: DeliveryQueue,
): WebhookDispatcher {
  const { release, ...parts } = pieces;
  return releasing(createWebhookDispatcher({ ...shared, ...overrides, ...parts, queue }), release);
}

/** A worker of a setup, built like `emitterOf` around a queue that takes jobs. */
export function setupWorkerOf(
  shared: SharedDispatcherOptions,
  overrides: ProcessOverrides,
  pieces: DurablePieces,
  queue: DeliveryQueue & { ready(): Promise<void> },
): WebhookWorker {
  const { release, ...parts } = pieces;
  const worker = workerOf(queue, { ...shared, ...overrides, ...parts });
  const dispatcher = releasing(worker.dispatcher, release);
  return { dispatcher, ready: worker.ready, close: (closeOptions) => dispatcher.close(closeOptions) };
}

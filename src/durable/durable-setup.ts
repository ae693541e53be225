import { type DeliveryQueue, OptionsError } from '../extend.js';
import { createWebhookDispatcher, type WebhookDispatcher, type WebhookDispatcherOptions } from '../index.js';
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

type SetupQueue = DeliveryQueue & { ready(): Promise<void> };

/** The two builders a durable setup returns; `W` are the options one worker process sets for itself. */
export interface DurableBuilders<W> {
  dispatcher(overrides?: ProcessOverrides): WebhookDispatcher;
  worker(overrides?: ProcessOverrides & W): WebhookWorker;
}

/**
 * `dispatcher()` and `worker()` of a setup: each call builds fresh pieces and a queue (`queueFor(logger)` for an
 * emitter, `queueFor(logger, workerOptions)` for a worker, `workerKeys` naming what a worker override may set), with
 * the shared options under this process's overrides.
 */
export function durableBuilders<W extends object>(
  shared: SharedDispatcherOptions,
  pieces: () => DurablePieces,
  queueFor: (logger: SharedDispatcherOptions['logger'], worker?: W) => SetupQueue,
  workerKeys: readonly (keyof W & string)[],
): DurableBuilders<W> {
  const build = (own: ProcessOverrides, worker?: W) => {
    const { release, ...parts } = pieces();
    const queue = queueFor(own.logger ?? shared.logger, worker);
    const options = { ...shared, ...own, ...parts };
    if (worker === undefined)
      return { dispatcher: createWebhookDispatcher({ ...options, queue }), queue, release };
    return { dispatcher: workerOf(queue, options).dispatcher, queue, release };
  };
  return {
    dispatcher(overrides) {
      const built = build(assertProcessOverrides(overrides, 'dispatcher()'));
      return releasing(built.dispatcher, built.release);
    },
    worker(overrides) {
      const rest: Record<string, unknown> = { ...overrides };
      const own: Record<string, unknown> = {};
      for (const key of workerKeys) {
        own[key] = rest[key];
        delete rest[key];
      }
      const built = build(assertProcessOverrides(rest, 'worker()'), own as W);
      const dispatcher = releasing(built.dispatcher, built.release);
      return {
        dispatcher,
        ready: () => built.queue.ready(),
        close: (closeOptions) => dispatcher.close(closeOptions),
      };
    },
  };
}

import { numberOption } from './options.js';
import type { DeliveryErrorCode, DeliveryResult, WebhookEvent } from './types.js';

/**
 * One (event, webhook) delivery waiting to be sent. Everything in it is plain data, so a durable queue can
 * persist it; `event` is shared between the jobs of one emit in memory.
 */
export interface DeliveryJob {
  /** The `webhook-id` header value: deterministic for (event id, webhook id), stable across retries. */
  deliveryId: string;
  webhookId: string;
  eventId: string;
  /** The event as emitted. */
  event: WebhookEvent;
  /** The event's JSON, computed once per emit and shared by every job of that emit. */
  eventBody: string;
  /** Set by `dispatcher.test()`: delivered even while the webhook is switched off. */
  test?: boolean;
}

/** Runs one job to its final outcome (all attempts included). Provided by the dispatcher. */
export type DeliveryWorker = (job: DeliveryJob) => Promise<DeliveryResult>;

/** Takes a final outcome to `onDelivery` and the logger. Provided by the dispatcher. */
export type DeliveryReporter = (result: DeliveryResult) => void;

/**
 * The seam between `emit` and delivery. The default runs jobs in this process with a concurrency limit; a durable
 * queue (Redis, a database) can replace it without touching anything else.
 */
export interface DeliveryQueue {
  /**
   * Called once by the dispatcher before the first job. The queue passes every FINAL outcome to `report` exactly
   * once (so `onDelivery` sees it): those the worker returns and those the queue decides itself (refused when
   * full or closed, a crashed worker). A durable queue that will run a job again does not report the interrupted
   * attempt.
   */
  start(worker: DeliveryWorker, report: DeliveryReporter): void;
  /** Resolves with the job's final outcome (or, for a durable queue, an outcome of `'queued'`). Never rejects. */
  enqueue(job: DeliveryJob): Promise<DeliveryResult>;
  /** Stops taking jobs (later ones end `ABORTED`) and resolves when the jobs already taken are finished. */
  close(): Promise<void>;
  /**
   * True for a queue whose jobs may be delivered by another process (a durable queue): the dispatcher then
   * re-reads each job's webhook from the store at send time instead of trusting its in-memory index, so a
   * webhook changed, switched off or deleted anywhere after enqueue is honoured. @default false
   */
  readonly readsStoreAtSendTime?: boolean;
}

export interface MemoryQueueOptions {
  /** Deliveries in flight at once. @default 64 */
  concurrency?: number;
  /**
   * Jobs waiting for a free slot at most. When it is reached, further jobs are not kept: they end at once with a
   * failed outcome whose error code is `QUEUE_FULL`, so memory stays bounded and nothing is lost silently.
   * @default 100_000
   */
  maxQueued?: number;
}

interface Waiting {
  job: DeliveryJob;
  resolve: (result: DeliveryResult) => void;
}

/** The default in-memory delivery queue: bounded, with a concurrency limit. */
export function memoryQueue(options: MemoryQueueOptions = {}): DeliveryQueue {
  const concurrency = numberOption('concurrency', options.concurrency, 64, {
    positive: true,
    integer: true,
    max: 100_000,
  });
  const maxQueued = numberOption('maxQueued', options.maxQueued, 100_000, {
    positive: true,
    integer: true,
    max: Number.MAX_SAFE_INTEGER,
  });
  let worker: DeliveryWorker | undefined;
  let report: DeliveryReporter | undefined;
  let running = 0;
  let closed = false;
  // A growable ring would be overkill: an array with a moving head, compacted now and then.
  let waiting: Waiting[] = [];
  let head = 0;
  let idle: (() => void) | undefined;

  const run = (job: DeliveryJob, resolve: (result: DeliveryResult) => void) => {
    running++;
    // Two callbacks rather than a `.finally` on top: one promise fewer per job.
    (worker as DeliveryWorker)(job).then(
      (result) => {
        resolve(reported(result));
        next();
      },
      (error: unknown) => {
        resolve(reported(crashed(job, error)));
        next();
      },
    );
  };

  const reported = (result: DeliveryResult): DeliveryResult => {
    try {
      report?.(result);
    } catch {
      // enqueue never rejects; a failing reporter is the dispatcher's to log.
    }
    return result;
  };

  const next = () => {
    running--;
    if (head < waiting.length) {
      const item = waiting[head] as Waiting;
      waiting[head++] = undefined as unknown as Waiting;
      if (head > 1024 && head * 2 > waiting.length) {
        waiting = waiting.slice(head);
        head = 0;
      }
      run(item.job, item.resolve);
    } else if (running === 0 && idle) {
      idle();
      idle = undefined;
    }
  };

  return {
    start(w, r) {
      worker = w;
      report = r;
    },
    enqueue(job) {
      if (!worker) throw new Error('memoryQueue: start() was not called');
      if (closed) {
        const message = 'the delivery queue is closed; not sent';
        return Promise.resolve(reported(unsentResult(job, 'failed', { code: 'ABORTED', message })));
      }
      return new Promise<DeliveryResult>((resolve) => {
        if (running < concurrency) run(job, resolve);
        else if (waiting.length - head < maxQueued) waiting.push({ job, resolve });
        else resolve(reported(queueFull(job, maxQueued)));
      });
    },
    close() {
      closed = true;
      if (running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const previous = idle;
        idle = () => {
          previous?.();
          resolve();
        };
      });
    },
  };
}

/** The outcome of a job that ended without an HTTP attempt (`attempts: 0`). */
export function unsentResult(
  job: DeliveryJob,
  outcome: 'failed' | 'queued',
  error?: { code: DeliveryErrorCode; message: string },
): DeliveryResult {
  const result: DeliveryResult = {
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    eventId: job.eventId,
    ok: false,
    outcome,
    attempts: 0,
    durationMs: 0,
  };
  if (error) result.error = error;
  return result;
}

function queueFull(job: DeliveryJob, maxQueued: number): DeliveryResult {
  return unsentResult(job, 'failed', {
    code: 'QUEUE_FULL',
    message: `delivery queue is full (${maxQueued} waiting); not sent`,
  });
}

/** A worker must not throw; if it does anyway the job still gets an outcome. */
function crashed(job: DeliveryJob, error: unknown): DeliveryResult {
  return unsentResult(job, 'failed', {
    code: 'TRANSPORT_ERROR',
    message: error instanceof Error ? error.message : String(error),
  });
}

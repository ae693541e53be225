import { errorMessage } from '../core/errors.js';
import type { DeliveryErrorCode, DeliveryResult, WebhookEvent } from '../core/types.js';
import { deliveryResult } from './result.js';

/**
 * One (event, webhook) delivery. Everything in it but `event` and `emitContext` is plain data, so a durable queue
 * can persist it; `event` is shared between the jobs of one emit in memory and rebuilt from `eventBody` by a queue.
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
  /**
   * Where a durable queue stored `eventBody` once for all the jobs of an emit (its own key), so that a job it
   * writes again (a retry, a deferral) refers to the stored body instead of carrying a copy. Set by the queue.
   */
  eventBodyRef?: string;
  /** The emit's tenant; at send time a webhook of another tenant gets nothing. */
  tenant?: string;
  /** `event.type`, for the log and traces. */
  eventType?: string;
  /** Set by `dispatcher.test()`: delivered even while the webhook is switched off. */
  test?: boolean;
  /** Attempts already made (a durable queue's retry job, a redelivery). @default 0 */
  attempt?: number;
  /** Attempts already made when this run began: retries are counted from here (a redelivery starts afresh). */
  retryBase?: number;
  /** Epoch ms of the first attempt of the delivery. */
  firstAttemptAt?: number;
  /** The exact body to send (a redelivery sends the logged body again instead of rendering). */
  body?: string;
  /** Made by `deliveries.redeliver()` / `recover()`. */
  redelivery?: boolean;
  /** Deliver even though the webhook is switched off (a forced redelivery). */
  force?: boolean;
  /** The webhook has `ordering: 'fifo'` (set at emit and redelivery): a durable queue keeps its jobs in order. */
  ordered?: boolean;
  /** A durable queue's place in line for an `ordered` job: taken when it is queued, kept by its retries. */
  sequence?: number;
  /** What `instrumentation.onEmit` returned for the emit (not persisted). */
  emitContext?: unknown;
}

/** Runs one job to its final outcome (all attempts included). Provided by the dispatcher. */
export type DeliveryWorker = (job: DeliveryJob) => Promise<DeliveryResult>;

/** Takes a final outcome to `onDelivery`, the logger and the instrumentation. Provided by the dispatcher. */
export type DeliveryReporter = (result: DeliveryResult) => void;

/** What one attempt of a durable job led to: a final outcome, or a retry for the queue to schedule. */
export type AttemptStep =
  | { result: DeliveryResult; retry?: undefined }
  | { retry: { job: DeliveryJob; delayMs: number }; result?: undefined };

/** The engine as a queue sees it (the third argument of `start`); the dispatcher's `InProcessEngine` implements it. */
export interface DeliveryEngine {
  /** Runs the job to its final outcome in this process: its lane, its circuit, retry waits as timers. */
  deliver(job: DeliveryJob): Promise<DeliveryResult>;
  /**
   * Runs ONE attempt through the webhook's lane. A retryable failure answers `{ retry: { job, delayMs } }` (the job
   * with its attempt count advanced) for a durable queue to schedule as a delayed job, so no worker sleeps and a
   * crash loses no attempt count; anything else answers `{ result }`.
   */
  attempt(job: DeliveryJob, options?: AttemptOptions): Promise<AttemptStep>;
}

export interface AttemptOptions {
  /**
   * A job that has not started within this many ms (its lane is full, paused or its circuit open) is handed back as
   * `{ retry: { job, delayMs } }` with its attempt count unchanged, so a worker slot is not held while it waits:
   * one hanging receiver cannot fill a worker with its jobs. Absent: the job waits its turn.
   */
  deferAfterMs?: number;
}

/**
 * Where deliveries go between `emit` and the engine. Without one, `emit` hands jobs straight to the engine in
 * this process; a durable queue (BullMQ, pg-boss) persists them and runs them in worker processes.
 */
export interface DeliveryQueue {
  /**
   * Called once by the dispatcher before the first job. The queue passes every FINAL outcome to `report` exactly
   * once (so `onDelivery` sees it): those the worker returns and those the queue decides itself (refused, a
   * crashed worker). A durable queue that will run a job again does not report the interrupted attempt.
   */
  start(worker: DeliveryWorker, report: DeliveryReporter, engine?: DeliveryEngine): void;
  /**
   * Resolves with the job's final outcome (or, for a durable queue, an outcome of `'queued'`). Never rejects, but
   * with `options.transaction`: a job that cannot be written in the host's transaction then rejects with a
   * `WebhookError` of code `ERR_ENQUEUE_FAILED`, so the host's `catch` rolls the transaction back.
   */
  enqueue(job: DeliveryJob, options?: EnqueueOptions): Promise<DeliveryResult>;
  /**
   * Optional batched form, used for the jobs of one emit (one insert for a fan-out, the event's body stored once).
   * Rejects as `enqueue` does: only with `options.transaction`.
   */
  enqueueMany?(jobs: DeliveryJob[], options?: EnqueueOptions): Promise<DeliveryResult[]>;
  /** True when `enqueue` can write inside the host's transaction (`emit(event, { transaction })`). */
  readonly supportsTransactions?: boolean;
  /** Stops taking jobs (later ones end `ABORTED`) and resolves when the jobs already taken are finished. */
  close(options?: { deadlineMs?: number }): Promise<void>;
  /**
   * True for a queue whose jobs may be delivered by another process (a durable queue): the dispatcher then
   * re-reads each job's webhook from the store at send time instead of trusting its in-memory index, so a
   * webhook changed, switched off or deleted anywhere after enqueue is honoured. @default false
   */
  readonly readsStoreAtSendTime?: boolean;
}

export interface EnqueueOptions {
  /** The host's database client inside `BEGIN`, for queues with `supportsTransactions`. */
  transaction?: unknown;
}

/**
 * A `DeliveryQueue` that delivers in this process, through the dispatcher's engine. It is what the dispatcher uses
 * without a `queue`; it exists as a value for wrappers (a queue that logs, then delegates to this one).
 */
export function memoryQueue(): DeliveryQueue {
  let worker: DeliveryWorker | undefined;
  let report: DeliveryReporter | undefined;
  let closed = false;
  // A count and one waiter instead of a set of promises and a `then` each to forget them. Measured together with
  // the scheduler's slot without a closure and emit's one-job `then`: "HTTP, log off vs bare request()" 0.88x ->
  // 0.99x (three interleaved runs, each +6% or more; docs/performance.md).
  let running = 0;
  let idle: (() => void) | undefined;
  const settled = (result: DeliveryResult): DeliveryResult => {
    safeReport(report, result);
    if (--running === 0 && idle !== undefined) idle();
    return result;
  };
  return {
    start(w, r) {
      worker = w;
      report = r;
    },
    enqueue(job) {
      if (!worker) throw new Error('memoryQueue: start() was not called');
      if (closed) {
        const result = unsentResult(job, 'failed', {
          code: 'ABORTED',
          message: 'the delivery queue is closed; not sent',
        });
        safeReport(report, result);
        return Promise.resolve(result);
      }
      running++;
      let delivered: Promise<DeliveryResult>;
      try {
        delivered = worker(job);
      } catch (error) {
        return Promise.resolve(settled(crashed(job, error)));
      }
      return delivered.then(settled, (error: unknown) => settled(crashed(job, error)));
    },
    async close() {
      closed = true;
      if (running === 0) return;
      await new Promise<void>((resolve) => {
        const before = idle;
        idle = () => {
          before?.();
          resolve();
        };
      });
    },
  };
}

function safeReport(report: DeliveryReporter | undefined, result: DeliveryResult): DeliveryResult {
  try {
    report?.(result);
  } catch {
    // enqueue never rejects; a failing reporter is the dispatcher's to log.
  }
  return result;
}

/** The outcome of a job that ended without an HTTP attempt (`attempts: 0`): refused, or persisted by a queue. */
export function unsentResult(
  job: DeliveryJob,
  outcome: 'failed' | 'queued',
  error?: { code: DeliveryErrorCode; message: string },
): DeliveryResult {
  return deliveryResult(job, outcome, error ? { error } : {});
}

/** A worker must not throw; if it does anyway the job still gets an outcome. */
export function crashed(job: DeliveryJob, error: unknown): DeliveryResult {
  return unsentResult(job, 'failed', {
    code: 'TRANSPORT_ERROR',
    message: errorMessage(error),
  });
}

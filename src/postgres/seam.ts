// The queue seam of the new delivery engine, declared here until it lands in the core (src/queue.ts); the names
// and shapes are the core's, so this file shrinks to re-exports then.
import type {
  DeliveryJob,
  DeliveryQueue,
  DeliveryReporter,
  DeliveryResult,
  DeliveryWorker,
} from '../index.js';

/** A `DeliveryJob` with the fields of the new engine (all optional, so today's jobs are valid). */
export interface EngineJob extends DeliveryJob {
  tenant?: string;
  eventType?: string;
  /** Attempts already made (0 or absent for a new delivery); a durable retry carries it. */
  attempt?: number;
  /** Epoch ms of the first attempt. */
  firstAttemptAt?: number;
  /** Made by redeliver()/recover(): a new job of the same delivery, not deduplicated against the first. */
  redelivery?: boolean;
  force?: boolean;
}

/** Given by the dispatcher as the 3rd argument of `start()`. */
export interface DeliveryEngine {
  deliver(job: EngineJob): Promise<DeliveryResult>;
  /** ONE attempt: `{ retry }` asks the durable queue to schedule the next attempt as a delayed job. */
  attempt(
    job: EngineJob,
  ): Promise<{ result: DeliveryResult } | { retry: { job: EngineJob; delayMs: number } }>;
}

export interface EnqueueOptions {
  /** A `pg` client inside `BEGIN`: the jobs are written in that transaction. */
  transaction?: unknown;
}

/** The queue seam with the additions of the new engine. */
export interface TransactionalQueue extends DeliveryQueue {
  start(worker: DeliveryWorker, report: DeliveryReporter, engine?: DeliveryEngine): void;
  enqueue(job: EngineJob, options?: EnqueueOptions): Promise<DeliveryResult>;
  enqueueMany(jobs: EngineJob[], options?: EnqueueOptions): Promise<DeliveryResult[]>;
  readonly supportsTransactions: true;
  close(options?: { deadlineMs?: number }): Promise<void>;
}

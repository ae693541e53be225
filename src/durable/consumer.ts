import type { DeliveryEngine, DeliveryJob, DeliveryWorker } from '../extend.js';
import type { DeliveryResult } from '../index.js';
import type { Reporter } from './queue.js';

/** What one run of a durable job led to; the backend settles its job accordingly. */
export type JobStep =
  /** A final outcome, already reported: the job is complete. */
  | { kind: 'done'; result: DeliveryResult }
  /**
   * The next attempt (`job`, its attempt count advanced) is due in `delayMs`, or, with the count unchanged, a job
   * its lane could not start soon: the backend writes it back, delayed, instead of holding a worker slot.
   */
  | { kind: 'retry'; job: DeliveryJob; delayMs: number }
  /** Cut off by a close with a deadline: not delivered and not its final outcome; the job must run again. */
  | { kind: 'interrupted'; message: string };

/**
 * The consumer's half of the skeleton: job → delivery → re-queue. One attempt per run through the engine, so no
 * worker sleeps through a retry schedule and a crash or deploy loses no attempt count. A job that throws (the store
 * is unreachable) rejects: the backend keeps it for another run.
 */
export class JobRunner {
  constructor(
    private readonly deliver: DeliveryWorker,
    private readonly reporter: Reporter,
    private readonly engine: DeliveryEngine | undefined,
  ) {}

  async run(job: DeliveryJob, deferAfterMs: number): Promise<JobStep> {
    let result: DeliveryResult;
    if (this.engine) {
      const step = await this.engine.attempt(job, { deferAfterMs });
      if (step.retry !== undefined)
        return { kind: 'retry', job: step.retry.job, delayMs: step.retry.delayMs };
      result = step.result;
    } else {
      result = await this.deliver(job);
    }
    if (result.outcome === 'failed' && result.error?.code === 'ABORTED') {
      return { kind: 'interrupted', message: result.error.message };
    }
    this.reporter.once(result);
    return { kind: 'done', result };
  }
}

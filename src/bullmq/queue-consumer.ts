import { DelayedError, type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import type { JobRunner } from '../durable/consumer.js';
import { bodyCache } from '../durable/event-bodies.js';
import { type DeliveryJob, within } from '../extend.js';
import type { DeliveryResult } from '../index.js';
import { type BodyClient, eventBodies } from './event-bodies.js';
import { type DeliveryJobData, fromJobData, toJobData } from './job.js';
import type { ResolvedBullmqOptions } from './queue-options.js';

/** How long a BullMQ worker's lane may take to start a job before it goes back to Redis, delayed. */
const DEFER_AFTER_MS = 1000;

/** Thrown from the processor so that BullMQ keeps the job: it was not delivered and must run again. */
class DeliveryInterruptedError extends Error {
  override name = 'DeliveryInterruptedError';
}

/**
 * Ends a BullMQ Queue's or Worker's Redis connections now (ioredis `disconnect()`: no QUIT, no reconnection), its
 * blocking one included, whatever Redis does. Through `getBackend()`, BullMQ's escape hatch to the raw clients.
 */
export function endConnections(owner: Queue | Worker): Promise<unknown> {
  const backend = owner.getBackend();
  return Promise.allSettled([
    // Marks the backend closed, so that its blocking-read watchdog does not connect again.
    backend.close(true),
    ...[backend.blockingClient, backend.client].map(async (client) => (await client)?.disconnect()),
  ]);
}

/**
 * Stops a BullMQ Worker's lock renewal and stalled-job check, which its `close()` stops only once the jobs it holds
 * are finished in Redis. They are not public API: each is looked up and skipped if absent.
 */
function stopTimers(worker: Worker): void {
  const internals = worker as unknown as {
    lockManager?: { close?: () => unknown };
    stalledCheckStopper?: () => void;
  };
  try {
    Promise.resolve(internals.lockManager?.close?.()).catch(() => {});
    internals.stalledCheckStopper?.();
  } catch {
    // A BullMQ without these members: ending the connections below is all there is to do.
  }
}

/** The consumer of a BullMQ queue: a BullMQ Worker whose processor runs each job through the skeleton. */
export class BullmqConsumer {
  readonly worker: Worker<DeliveryJobData, DeliveryResult>;
  private readonly bodies: ReturnType<typeof eventBodies>;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** The bodies of fan-outs this worker read lately. */
  private readonly bodyOf = bodyCache(async (key) => this.bodies.load(await this.client(), key));

  constructor(
    private readonly options: ResolvedBullmqOptions,
    private readonly runner: JobRunner,
  ) {
    this.bodies = eventBodies(options.keyBase);
    const { base, concurrency, lockDuration, stalledInterval, maxStalledCount, logger, name } = options;
    this.worker = new Worker<DeliveryJobData, DeliveryResult>(
      name,
      (job, token) => this.process(job, token),
      {
        ...base,
        concurrency,
        lockDuration,
        stalledInterval,
        maxStalledCount,
      },
    );
    this.worker.on('error', (error) =>
      logger.error('webhook-dispatcher/bullmq: worker error', { queue: name, error: String(error) }),
    );
    // Bodies no job needs any more go when the worker starts and every 10 minutes.
    this.sweepBodies();
    this.sweepTimer = setInterval(() => this.sweepBodies(), 10 * 60_000);
    this.sweepTimer.unref?.();
    this.worker.on('failed', (job, error) => {
      logger.warn('webhook-dispatcher/bullmq: delivery job failed', {
        queue: name,
        jobId: job?.id,
        attemptsMade: job?.attemptsMade,
        error: error.message,
      });
    });
  }

  /**
   * One attempt per run: a retry becomes this job, delayed, with its attempt count saved. A job whose lane cannot
   * start it soon goes back to Redis, delayed, instead of holding a worker slot.
   */
  private async process(job: Job<DeliveryJobData, DeliveryResult>, token?: string): Promise<DeliveryResult> {
    const step = await this.runner.run(await this.deliveryJobOf(job.data), DEFER_AFTER_MS);
    if (step.kind === 'retry') {
      await job.updateData(toJobData(step.job));
      await job.moveToDelayed(Date.now() + step.delayMs, token);
      throw new DelayedError();
    }
    // Closed with a deadline mid-delivery: not delivered, so the job must not complete (and this is not its
    // final outcome: another worker delivers it).
    if (step.kind === 'interrupted') throw new DeliveryInterruptedError(step.message);
    return step.result;
  }

  /** The job as the engine takes it, its body read from Redis when it refers to one. */
  private async deliveryJobOf(data: DeliveryJobData): Promise<DeliveryJob> {
    const stored = data.eventBodyRef === undefined ? undefined : await this.bodyOf(data.eventBodyRef);
    const job = fromJobData(data, stored);
    if (job === undefined) {
      // Retrying cannot bring it back: BullMQ fails it for good (kept with the failed jobs, logged as failed).
      throw new UnrecoverableError(
        data.eventBodyRef === undefined
          ? 'the job has no event body'
          : `its event body ${data.eventBodyRef} is gone`,
      );
    }
    return job;
  }

  private async client(): Promise<BodyClient> {
    return (await this.worker.getBackend().client) as unknown as BodyClient;
  }

  private sweepBodies(): void {
    void (async () => {
      const client = await this.client();
      await within(() => this.bodies.sweep(client), 60_000, 'Redis did not answer within 60000 ms', true);
    })().catch((error: unknown) =>
      this.options.logger.warn('webhook-dispatcher/bullmq: could not remove old event bodies', {
        queue: this.options.name,
        error: String(error),
      }),
    );
  }

  /** Stops taking jobs; resolves when the jobs it holds are finished (BullMQ's graceful close). */
  close(): Promise<void> {
    clearInterval(this.sweepTimer);
    return this.worker.close();
  }

  /** Stops the worker's timers at once (see `stopTimers`); its connections are ended by the caller. */
  stopTimers(): void {
    clearInterval(this.sweepTimer);
    stopTimers(this.worker);
  }
}

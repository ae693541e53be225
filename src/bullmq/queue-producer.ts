import { type JobsOptions, Queue } from 'bullmq';
import { sharedBodyKey } from '../durable/event-bodies.js';
import type { Reporter } from '../durable/queue.js';
import { type DeliveryJob, within } from '../extend.js';
import type { DeliveryResult } from '../index.js';
import { type BodyClient, eventBodies } from './event-bodies.js';
import { type DeliveryJobData, enqueueFailedResult, JOB_NAME, queuedResult, toJobData } from './job.js';
import type { ResolvedBullmqOptions } from './queue-options.js';

/** How many jobs of one fan-out go in one pipelined `addBulk` (one chunk in flight at a time). */
const ADD_CHUNK = 1000;

/** The error of the jobs of a fan-out left unsent after a chunk failed. */
const NOT_SENT = new Error('not sent: Redis did not accept an earlier job of this emit');

/** The producer of a BullMQ queue: one job per delivery, the event's body of a fan-out stored once. */
export class BullmqProducer {
  private queue: Queue<DeliveryJobData, DeliveryResult> | undefined;
  private readonly bodies: ReturnType<typeof eventBodies>;

  constructor(
    private readonly options: ResolvedBullmqOptions,
    private readonly reporter: Reporter,
  ) {
    this.bodies = eventBodies(options.keyBase);
  }

  /** The BullMQ Queue, opened on first use. */
  get(): Queue<DeliveryJobData, DeliveryResult> {
    if (!this.queue) {
      this.queue = new Queue<DeliveryJobData, DeliveryResult>(this.options.name, this.options.base);
      this.queue.on('error', (error) =>
        this.logError('webhook-dispatcher/bullmq: queue connection error', error),
      );
    }
    return this.queue;
  }

  /** The Queue if it was opened (for `close()`). */
  get opened(): Queue | undefined {
    return this.queue;
  }

  /** One job, its data as it is (a single job keeps its body inline, or its own reference). */
  enqueueOne(job: DeliveryJob): Promise<DeliveryResult> {
    return this.add(job, toJobData(job));
  }

  /** The jobs of one emit: their event's body stored once, each job referring to it. */
  async enqueueMany(jobs: DeliveryJob[]): Promise<DeliveryResult[]> {
    const bodyRef = sharedBodyKey(jobs);
    if (bodyRef === undefined) return Promise.all(jobs.map((job) => this.add(job, toJobData(job))));
    const { enqueueTimeoutMs } = this.options;
    try {
      await within(
        async () =>
          this.bodies.store(
            (await this.get().getBackend().client) as unknown as BodyClient,
            bodyRef,
            (jobs[0] as DeliveryJob).eventBody,
            jobs.map((job) => job.deliveryId),
          ),
        enqueueTimeoutMs,
        `Redis did not accept the event body within ${enqueueTimeoutMs} ms`,
      );
    } catch (error) {
      return jobs.map((job) => this.failedToQueue(job, error));
    }
    // One pipelined `addBulk` per ADD_CHUNK jobs (one round trip each), one chunk in flight at a time: 10,000 adds
    // in flight at once grew the emitter by 86 MiB. Once a chunk failed (Redis refused or did not answer within
    // `enqueueTimeoutMs`), the rest are not sent: a fan-out waits for a Redis that is away only once.
    // Kept for the "bare addBulk of 1000, emitter CPU" row of `bench/bullmq.mjs`: the "1000 queue.add at once" row
    // (what `emit` did before) took 1.11x, 1.79x, 1.16x and 0.95x its CPU in four runs on a machine at a load average
    // of 7-12, whose times were too noisy to tell (0.67x to 1.40x); each `add` costs a promise, a trace span and Job
    // bookkeeping of its own, on top of the same add script per job in Redis.
    const results: DeliveryResult[] = [];
    let failure: unknown;
    for (let i = 0; i < jobs.length; i += ADD_CHUNK) {
      const chunk = jobs.slice(i, i + ADD_CHUNK);
      const error = failure === undefined ? await this.addChunk(chunk, bodyRef) : NOT_SENT;
      failure ??= error;
      for (const job of chunk)
        results.push(error === undefined ? queuedResult(job) : this.failedToQueue(job, error));
    }
    return results;
  }

  /** Adds the jobs of one chunk in one pipelined `addBulk`; resolves with the error when it failed. */
  private async addChunk(chunk: DeliveryJob[], bodyRef: string): Promise<unknown> {
    const { enqueueTimeoutMs } = this.options;
    const bulk = chunk.map((job) => ({
      name: JOB_NAME,
      data: toJobData(job, bodyRef),
      opts: this.jobOptionsFor(job),
    }));
    try {
      await within(
        () => this.get().addBulk(bulk),
        enqueueTimeoutMs,
        `Redis did not accept the jobs within ${enqueueTimeoutMs} ms`,
      );
      return undefined;
    } catch (error) {
      return error ?? new Error('addBulk failed');
    }
  }

  /** The job id is the delivery id (the `webhook-id`), deduplicated for `dedupeWindowMs`. */
  private jobOptionsFor(job: DeliveryJob): JobsOptions {
    return {
      ...this.options.jobDefaults,
      jobId: job.deliveryId,
      deduplication: { id: job.deliveryId, ttl: this.options.dedupeTtl },
    };
  }

  /** Adds one job (its data as given), bounded by `enqueueTimeoutMs`; a failure is its own result. */
  private add(job: DeliveryJob, data: DeliveryJobData) {
    return within(
      () => this.get().add(JOB_NAME, data, this.jobOptionsFor(job)),
      this.options.enqueueTimeoutMs,
      `Redis did not accept the job within ${this.options.enqueueTimeoutMs} ms`,
    ).then(
      () => queuedResult(job),
      (error: unknown) => this.failedToQueue(job, error),
    );
  }

  private failedToQueue(job: DeliveryJob, error: unknown): DeliveryResult {
    this.logError('webhook-dispatcher/bullmq: enqueue failed', error);
    return this.reporter.once(enqueueFailedResult(job, error));
  }

  private logError(message: string, error: unknown): void {
    this.options.logger.error(message, { queue: this.options.name, error: String(error) });
  }
}

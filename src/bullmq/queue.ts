import {
  type ConnectionOptions,
  DelayedError,
  type JobsOptions,
  Queue,
  UnrecoverableError,
  Worker,
} from 'bullmq';
import { bodyCache, sharedBodyKey } from '../durable/event-bodies.js';
import {
  type DeliveryEngine,
  type DeliveryJob,
  type DeliveryQueue,
  type DeliveryReporter,
  type DeliveryWorker,
  numberOption,
  OptionsError,
  within,
} from '../extend.js';
import { type DeliveryResult, type Logger, toLogger } from '../index.js';
import { type BodyClient, eventBodies } from './event-bodies.js';
import {
  type DeliveryJobData,
  enqueueFailedResult,
  fromJobData,
  JOB_NAME,
  queuedResult,
  toJobData,
} from './job.js';

/** The BullMQ queue name used when `queueName` is not given. */
export const DEFAULT_QUEUE_NAME = 'webhook-deliveries';

/** How a process that runs a worker takes jobs, and how jobs of dead workers are recovered. */
export interface BullmqWorkerOptions {
  /** Deliveries this process runs at once. @default 64 */
  concurrency?: number;
  /**
   * Lifetime in ms of the lock a worker holds on a job while it delivers it; the worker renews it every half of
   * that while alive. A job whose worker died is handed to another worker once the lock has expired and the next
   * stalled-job checks (`stalledInterval`) run: BullMQ marks the active jobs at one check and moves those whose
   * lock has expired at the next, so within `lockDuration + 2 × stalledInterval` (35 s by default).
   * @default 15_000
   */
  lockDuration?: number;
  /** How often in ms each worker looks for jobs whose worker died. @default 10_000 */
  stalledInterval?: number;
  /**
   * How many times one job may be recovered from a dead (or event-loop-blocked) worker before BullMQ fails it for
   * good. Every recovery may mean one more delivery of the same `webhook-id`.
   * @default 10
   */
  maxStalledCount?: number;
}

/**
 * BullMQ job options the queue applies to every delivery job. `jobId` and `deduplication` are set by the queue.
 *
 * `attempts` and `backoff` are BullMQ's own retries. They apply only when delivery itself could not run (the
 * store was unreachable at send time, or the worker was closed with a deadline mid-delivery): a receiver that
 * fails is retried by the dispatcher's `retry` policy and ends as a `failed` DeliveryResult, not a failed job.
 */
export type BullmqJobOptions = Pick<
  JobsOptions,
  'attempts' | 'backoff' | 'removeOnComplete' | 'removeOnFail' | 'priority' | 'delay'
>;

/** Options of `bullmqQueue()`. */
export interface BullmqQueueOptions {
  /**
   * How to reach Redis: ioredis options (`{ host, port }`, `{ url }`) or a client instance, as BullMQ takes it.
   * @example connection: { url: process.env.REDIS_URL }
   */
  connection: ConnectionOptions;
  /** The BullMQ queue name; emitters and workers must use the same one. @default 'webhook-deliveries' */
  queueName?: string;
  /** BullMQ's Redis key prefix; emitters and workers must use the same one. @default 'bull' (BullMQ's own) */
  prefix?: string;
  /**
   * Whether this process delivers jobs too. `false`: it only enqueues (an emitting process); `true` or options: it
   * runs a BullMQ Worker with the dispatcher's filters, rendering, signing and retry policy.
   * @default false
   */
  worker?: boolean | BullmqWorkerOptions;
  /**
   * How long in ms a delivery id is remembered after it was enqueued: a second emit of the same event (same
   * event id) to the same webhook within this window is not queued again, even after the first was delivered.
   * @default 86_400_000 (24 hours)
   */
  dedupeWindowMs?: number;
  /**
   * Defaults: `{ attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 86_400,
   * count: 1000 }, removeOnFail: { age: 604_800 } }` (ages in seconds).
   */
  jobOptions?: BullmqJobOptions;
  /**
   * How long `emit` waits for Redis to accept a job, in ms; past it the delivery is `ENQUEUE_FAILED` (with Redis
   * down, ioredis would otherwise queue the command until it reconnects). A job accepted after the deadline may
   * still be delivered: at least once, never silently lost. @default 5_000
   */
  enqueueTimeoutMs?: number;
  /** Where BullMQ connection and worker errors go. Silent by default. @example logger: console */
  logger?: Partial<Logger>;
}

/** A `DeliveryQueue` on BullMQ, with a few BullMQ-specific extras. */
export interface BullmqDeliveryQueue extends DeliveryQueue {
  readonly readsStoreAtSendTime: true;
  /** The queue name in use. */
  readonly name: string;
  /** The jobs of one emit, their event's body stored once in Redis (see "Durable delivery with BullMQ"). */
  enqueueMany(jobs: DeliveryJob[]): Promise<DeliveryResult[]>;
  /** Resolves when this process is connected to Redis: its worker if it runs one, else its queue. */
  ready(): Promise<void>;
}

const DEFAULT_JOB_OPTIONS: BullmqJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 86_400, count: 1000 },
  removeOnFail: { age: 604_800 },
};

/** How many adds of one fan-out are in flight at once. */
const ADD_CHUNK = 1000;

/** The core's validator, so every entry words (and bounds) a bad number the same way. */
function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  return numberOption(field, value, fallback, { positive: true, integer: true });
}

/**
 * Ends a BullMQ Queue's or Worker's Redis connections now (ioredis `disconnect()`: no QUIT, no reconnection), its
 * blocking one included, whatever Redis does. Through `getBackend()`, BullMQ's escape hatch to the raw clients.
 */
function endConnections(owner: Queue | Worker): Promise<unknown> {
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

/** Thrown from the processor so that BullMQ keeps the job: it was not delivered and must run again. */
class DeliveryInterruptedError extends Error {
  override name = 'DeliveryInterruptedError';
}

/**
 * A durable, distributed `DeliveryQueue`: `emit` persists one BullMQ job per (event, webhook) in Redis, with the
 * delivery id as job id, and any number of worker processes deliver them.
 *
 * @example
 * // The emitting process (your service):
 * const dispatcher = createWebhookDispatcher({ store, queue: bullmqQueue({ connection }) });
 * // Each worker process:
 * const worker = createWebhookWorker({ connection, store });
 */
export function bullmqQueue(options: BullmqQueueOptions): BullmqDeliveryQueue {
  if (typeof options !== 'object' || options === null || options.connection == null) {
    throw new OptionsError(
      'connection',
      'Expected `connection` to be ioredis options or a Redis client, got undefined',
    );
  }
  const name = options.queueName ?? DEFAULT_QUEUE_NAME;
  if (typeof name !== 'string' || name === '' || name.includes(':')) {
    throw new OptionsError(
      'queueName',
      `Expected \`queueName\` to be a non-empty string without ":", got ${JSON.stringify(name)}`,
    );
  }
  if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix === '')) {
    throw new OptionsError(
      'prefix',
      `Expected \`prefix\` to be a non-empty string, got ${JSON.stringify(options.prefix)}`,
    );
  }
  const dedupeTtl = positiveInteger('dedupeWindowMs', options.dedupeWindowMs, 86_400_000);
  const enqueueTimeoutMs = positiveInteger('enqueueTimeoutMs', options.enqueueTimeoutMs, 5_000);
  const workerOptions = options.worker === true ? {} : options.worker || undefined;
  const concurrency = positiveInteger('worker.concurrency', workerOptions?.concurrency, 64);
  const lockDuration = positiveInteger('worker.lockDuration', workerOptions?.lockDuration, 15_000);
  const stalledInterval = positiveInteger('worker.stalledInterval', workerOptions?.stalledInterval, 10_000);
  const maxStalledCount = positiveInteger('worker.maxStalledCount', workerOptions?.maxStalledCount, 10);
  const jobDefaults: BullmqJobOptions = { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions };
  const logger = toLogger(options.logger);
  const logError = (message: string, error: unknown) =>
    logger.error(message, { queue: name, error: String(error) });
  const base =
    options.prefix === undefined
      ? { connection: options.connection }
      : { connection: options.connection, prefix: options.prefix };

  let producer: Queue<DeliveryJobData, DeliveryResult> | undefined;
  let consumer: Worker<DeliveryJobData, DeliveryResult> | undefined;
  let deliverHere: DeliveryWorker | undefined;
  /** Outcomes decided here (ENQUEUE_FAILED) still reach `onDelivery` through it. */
  let report: DeliveryReporter | undefined;
  /** `dispatcher.test()` deliveries run in this process; `close()` waits for them. */
  const running = new Set<Promise<DeliveryResult>>();

  const reportOnce = (result: DeliveryResult) => {
    try {
      report?.(result);
    } catch {
      // enqueue and the processor never fail because of a reporter; it is the dispatcher's to log.
    }
  };

  /** The job id is the delivery id (the `webhook-id`), deduplicated for `dedupeWindowMs`: see `enqueue`. */
  const jobOptionsFor = (job: DeliveryJob): JobsOptions => ({
    ...jobDefaults,
    jobId: job.deliveryId,
    deduplication: { id: job.deliveryId, ttl: dedupeTtl },
  });

  const keyBase = `${options.prefix ?? 'bull'}:${name}:`;
  const bodies = eventBodies(keyBase);
  let sweepTimer: NodeJS.Timeout | undefined;

  /** Adds one job (its data as given), bounded by `enqueueTimeoutMs`; a failure is its own result. */
  const add = (
    job: DeliveryJob,
    data: DeliveryJobData,
    timeoutMs = enqueueTimeoutMs,
  ): Promise<DeliveryResult> =>
    within(
      () => {
        // The rest of a fan-out after a failure is not sent at all.
        if (timeoutMs <= 0) throw new Error('not sent: Redis did not accept an earlier job of this emit');
        return getProducer().add(JOB_NAME, data, jobOptionsFor(job));
      },
      timeoutMs,
      `Redis did not accept the job within ${enqueueTimeoutMs} ms`,
    ).then(
      () => queuedResult(job),
      (error: unknown) => failedToQueue(job, error),
    );
  const failedToQueue = (job: DeliveryJob, error: unknown) => {
    logError('webhook-dispatcher/bullmq: enqueue failed', error);
    const result = enqueueFailedResult(job, error);
    reportOnce(result);
    return result;
  };

  /** The jobs of one emit: their event's body stored once, each job referring to it. */
  async function enqueueMany(jobs: DeliveryJob[]): Promise<DeliveryResult[]> {
    const bodyRef = sharedBodyKey(jobs);
    if (bodyRef === undefined) return Promise.all(jobs.map((job) => add(job, toJobData(job))));
    try {
      await within(
        async () =>
          bodies.store(
            (await getProducer().getBackend().client) as unknown as BodyClient,
            bodyRef,
            (jobs[0] as DeliveryJob).eventBody,
            jobs.map((job) => job.deliveryId),
          ),
        enqueueTimeoutMs,
        `Redis did not accept the event body within ${enqueueTimeoutMs} ms`,
      );
    } catch (error) {
      return jobs.map((job) => failedToQueue(job, error));
    }
    // One add per job, issued together (ioredis sends them in one round trip), ADD_CHUNK at a time: 10,000 adds
    // in flight at once grew the emitter by 86 MiB. Once a chunk had a failure (Redis refused or did not answer
    // within `enqueueTimeoutMs`), the rest are not sent: a fan-out waits for a Redis that is away only once.
    const results: DeliveryResult[] = [];
    let failed = false;
    for (let i = 0; i < jobs.length; i += ADD_CHUNK) {
      const chunk = jobs.slice(i, i + ADD_CHUNK);
      const added = await Promise.all(
        chunk.map((job) => add(job, toJobData(job, bodyRef), failed ? 0 : undefined)),
      );
      failed ||= added.some((result) => result.outcome !== 'queued');
      results.push(...added);
    }
    return results;
  }

  /** The bodies of fan-outs this worker read lately. */
  const bodyOf = bodyCache(async (key) =>
    bodies.load((await (consumer as Worker).getBackend().client) as unknown as BodyClient, key),
  );

  /** The job as the engine takes it, its body read from Redis when it refers to one. */
  async function deliveryJobOf(data: DeliveryJobData): Promise<DeliveryJob> {
    const stored = data.eventBodyRef === undefined ? undefined : await bodyOf(data.eventBodyRef);
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

  function sweepBodies(): void {
    void (async () => {
      const client = (await (consumer as Worker).getBackend().client) as unknown as BodyClient;
      await within(() => bodies.sweep(client), 60_000, 'Redis did not answer within 60000 ms', true);
    })().catch((error: unknown) =>
      logger.warn('webhook-dispatcher/bullmq: could not remove old event bodies', {
        queue: name,
        error: String(error),
      }),
    );
  }

  const getProducer = () => {
    if (!producer) {
      producer = new Queue<DeliveryJobData, DeliveryResult>(name, base);
      producer.on('error', (error) => logError('webhook-dispatcher/bullmq: queue connection error', error));
    }
    return producer;
  };

  const queue: BullmqDeliveryQueue = {
    readsStoreAtSendTime: true,
    name,

    start(deliver, reporter, engine?: DeliveryEngine) {
      deliverHere = deliver;
      report = reporter;
      if (!workerOptions) return;
      consumer = new Worker<DeliveryJobData, DeliveryResult>(
        name,
        async (job, token) => {
          let result: DeliveryResult;
          if (engine) {
            // One attempt per run: a retry becomes this job, delayed, with its attempt count saved, so no worker
            // sleeps through a retry schedule and a crash or deploy loses no attempt.
            // A job whose lane cannot start it soon goes back to Redis, delayed, instead of holding a worker slot.
            const step = await engine.attempt(await deliveryJobOf(job.data), { deferAfterMs: 1000 });
            if (step.retry) {
              await job.updateData(toJobData(step.retry.job));
              await job.moveToDelayed(Date.now() + step.retry.delayMs, token);
              throw new DelayedError();
            }
            result = step.result;
          } else {
            result = await deliver(await deliveryJobOf(job.data));
          }
          if (result.outcome === 'failed' && result.error?.code === 'ABORTED') {
            // Closed with a deadline mid-delivery: not delivered, so the job must not complete (and this is not
            // its final outcome: another worker delivers it).
            throw new DeliveryInterruptedError(result.error.message);
          }
          reportOnce(result);
          return result;
        },
        { ...base, concurrency, lockDuration, stalledInterval, maxStalledCount },
      );
      consumer.on('error', (error) => logError('webhook-dispatcher/bullmq: worker error', error));
      // Bodies no job needs any more go when the worker starts and every 10 minutes.
      sweepBodies();
      sweepTimer = setInterval(sweepBodies, 10 * 60_000);
      sweepTimer.unref?.();
      consumer.on('failed', (job, error) => {
        logger.warn('webhook-dispatcher/bullmq: delivery job failed', {
          queue: name,
          jobId: job?.id,
          attemptsMade: job?.attemptsMade,
          error: error.message,
        });
      });
    },

    enqueue(job: DeliveryJob): Promise<DeliveryResult> {
      if (job.test && deliverHere) {
        // `dispatcher.test()` answers with the real outcome, so it is delivered here and now, not queued.
        const delivered = deliverHere(job).then((result) => {
          reportOnce(result);
          return result;
        });
        running.add(delivered);
        const forget = () => running.delete(delivered);
        delivered.then(forget, forget);
        return delivered;
      }
      return add(job, toJobData(job));
    },

    enqueueMany,

    async ready() {
      await (consumer ?? getProducer()).waitUntilReady();
    },

    async close(closeOptions) {
      clearInterval(sweepTimer);
      // The worker first: it finishes the attempts it holds before its connections close. With a deadline, a worker
      // or producer that cannot finish (Redis unreachable) is closed by force when it passes.
      const graceful = (async () => {
        await consumer?.close();
        await Promise.allSettled(running);
        await producer?.close();
      })();
      const deadlineMs = closeOptions?.deadlineMs;
      if (deadlineMs === undefined) return graceful;
      let timer: NodeJS.Timeout | undefined;
      const passed = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), deadlineMs + 1000);
        }),
      ]);
      clearTimeout(timer);
      if (!passed) return;
      graceful.catch(() => {});
      // By force, and bounded (deadlineMs + 2 s in all). BullMQ's `close(true)` is no help here: it answers with the
      // close under way, which waits for Redis (38 s until ioredis gave up when stopped, forever when black-holed),
      // and only that close would stop the worker's lock renewal, which otherwise runs for good and keeps the process
      // alive. Its `disconnect()` never settles for a connection between reconnect attempts (ioredis emits no `end`
      // then), and ends the blocking connection only after that one. So the timers are stopped and every connection
      // is ended here.
      if (consumer) stopTimers(consumer);
      const forced = Promise.allSettled([consumer, producer].map((owner) => owner && endConnections(owner)));
      await Promise.race([forced, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    },
  };
  return queue;
}

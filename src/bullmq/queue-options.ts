import type { ConnectionOptions, JobsOptions } from 'bullmq';
import { numberOption, OptionsError } from '../extend.js';
import { type Logger, toLogger } from '../index.js';

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

/** The keys of `BullmqWorkerOptions`, named once for every place that splits mixed options. */
export const BULLMQ_WORKER_KEYS = [
  'concurrency',
  'lockDuration',
  'stalledInterval',
  'maxStalledCount',
] as const;

/** The keys of `BullmqQueueOptions` that emitters and workers share (all but `worker` and `logger`). */
export const BULLMQ_QUEUE_KEYS = [
  'connection',
  'queueName',
  'prefix',
  'dedupeWindowMs',
  'enqueueTimeoutMs',
  'jobOptions',
] as const;

const DEFAULT_JOB_OPTIONS: BullmqJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 86_400, count: 1000 },
  removeOnFail: { age: 604_800 },
};

/** `BullmqQueueOptions` checked, with every default filled in. */
export interface ResolvedBullmqOptions {
  name: string;
  /** What BullMQ's Queue and Worker take: the connection, and the prefix when given. */
  base: { connection: ConnectionOptions; prefix?: string };
  /** The prefix of this queue's Redis keys (BullMQ's, and the stored event bodies'). */
  keyBase: string;
  dedupeTtl: number;
  enqueueTimeoutMs: number;
  /** Whether this process takes jobs. */
  worker: boolean;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
  jobDefaults: BullmqJobOptions;
  logger: Logger;
}

/** The core's validator, so every entry words (and bounds) a bad number the same way. */
function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  return numberOption(field, value, fallback, { positive: true, integer: true });
}

function nameOf(options: BullmqQueueOptions): string {
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
  return name;
}

/** Checks the options of `bullmqQueue()` (each bad one named in its error) and fills in the defaults. */
export function resolveBullmqOptions(options: BullmqQueueOptions): ResolvedBullmqOptions {
  const name = nameOf(options);
  const workerOptions = options.worker === true ? {} : options.worker || undefined;
  return {
    name,
    base:
      options.prefix === undefined
        ? { connection: options.connection }
        : { connection: options.connection, prefix: options.prefix },
    keyBase: `${options.prefix ?? 'bull'}:${name}:`,
    dedupeTtl: positiveInteger('dedupeWindowMs', options.dedupeWindowMs, 86_400_000),
    enqueueTimeoutMs: positiveInteger('enqueueTimeoutMs', options.enqueueTimeoutMs, 5_000),
    worker: workerOptions !== undefined,
    concurrency: positiveInteger('worker.concurrency', workerOptions?.concurrency, 64),
    lockDuration: positiveInteger('worker.lockDuration', workerOptions?.lockDuration, 15_000),
    stalledInterval: positiveInteger('worker.stalledInterval', workerOptions?.stalledInterval, 10_000),
    maxStalledCount: positiveInteger('worker.maxStalledCount', workerOptions?.maxStalledCount, 10),
    jobDefaults: { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions },
    logger: toLogger(options.logger),
  };
}

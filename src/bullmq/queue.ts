import { type DurableBackend, DurableQueue, Reporter } from '../durable/queue.js';
import type { DeliveryJob, DeliveryQueue } from '../extend.js';
import type { DeliveryResult } from '../index.js';
import { BullmqConsumer, endConnections } from './queue-consumer.js';
import {
  type BullmqQueueOptions,
  type ResolvedBullmqOptions,
  resolveBullmqOptions,
} from './queue-options.js';
import { BullmqProducer } from './queue-producer.js';

export type { BullmqJobOptions, BullmqQueueOptions, BullmqWorkerOptions } from './queue-options.js';
export { DEFAULT_QUEUE_NAME } from './queue-options.js';

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

/** The BullMQ backend of the durable skeleton: a BullMQ Queue to produce, a BullMQ Worker to consume. */
class BullmqBackend implements DurableBackend {
  readonly takesJobs: boolean;
  private readonly producer: BullmqProducer;
  private consumer: BullmqConsumer | undefined;

  constructor(
    private readonly options: ResolvedBullmqOptions,
    reporter: Reporter,
  ) {
    this.takesJobs = options.worker;
    this.producer = new BullmqProducer(options, reporter);
  }

  enqueueOne: NonNullable<DurableBackend['enqueueOne']> = (job) => this.producer.enqueueOne(job);

  enqueueMany: DurableBackend['enqueueMany'] = (jobs) => this.producer.enqueueMany(jobs);

  startConsumer: DurableBackend['startConsumer'] = (runner) => {
    this.consumer = new BullmqConsumer(this.options, runner);
  };

  async ready(): Promise<void> {
    await (this.consumer?.worker ?? this.producer.get()).waitUntilReady();
  }

  /**
   * The worker first: it finishes the attempts it holds before its connections close. With a deadline, a worker
   * or producer that cannot finish (Redis unreachable) is closed by force when it passes.
   */
  async close(deadlineMs: number | undefined, pending: () => Promise<unknown>): Promise<void> {
    const consumer = this.consumer;
    const graceful = (async () => {
      await consumer?.close();
      await pending();
      await this.producer.opened?.close();
    })();
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
    consumer?.stopTimers();
    const owners = [consumer?.worker, this.producer.opened];
    const forced = Promise.allSettled(owners.map((owner) => owner && endConnections(owner)));
    await Promise.race([forced, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }
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
  const resolved = resolveBullmqOptions(options);
  const reporter = new Reporter();
  return new DurableQueue(resolved.name, new BullmqBackend(resolved, reporter), reporter);
}

import type PgBoss from 'pg-boss';
import { type DurableBackend, DurableQueue, Reporter } from '../durable/queue.js';
import { within } from '../extend.js';
import { PgBossConnection } from './queue-boss.js';
import { PgBossConsumer } from './queue-consumer.js';
import { type PgBossQueueOptions, resolvePgBossOptions } from './queue-options.js';
import { PgBossProducer } from './queue-producer.js';
import type { TransactionalQueue } from './seam.js';

export type { PgBossJobOptions, PgBossQueueOptions, PgBossWorkerOptions } from './queue-options.js';
export { DEFAULT_QUEUE_NAME } from './queue-options.js';

/** A `DeliveryQueue` on pg-boss. */
export interface PgBossDeliveryQueue extends TransactionalQueue {
  readonly readsStoreAtSendTime: true;
  readonly name: string;
  /** Resolves when pg-boss is installed in its schema and the queue exists (and, with a worker, it is taking jobs). */
  ready(): Promise<void>;
  /** The pg-boss instance (started by `ready()` or the first enqueue), for inspection. */
  boss(): Promise<PgBoss>;
}

/** The pg-boss backend of the durable skeleton: a producer, a consumer (with a worker) and their connection. */
class PgBossBackend implements DurableBackend {
  readonly takesJobs: boolean;
  private readonly producer: PgBossProducer;
  private consumer: PgBossConsumer | undefined;

  constructor(
    private readonly connection: PgBossConnection,
    reporter: Reporter,
  ) {
    this.takesJobs = connection.options.worker;
    this.producer = new PgBossProducer(connection, reporter);
  }

  enqueueMany: DurableBackend['enqueueMany'] = (jobs, options) => this.producer.enqueueMany(jobs, options);

  startConsumer: DurableBackend['startConsumer'] = (runner) => {
    const consumer = new PgBossConsumer(this.connection, runner);
    this.consumer = consumer;
    this.producer.wakeWorker = consumer.alarm.wake;
    consumer.start();
  };

  async ready(): Promise<void> {
    await this.connection.start();
    await this.consumer?.ready();
  }

  async close(deadlineMs: number | undefined, pending: () => Promise<unknown>): Promise<void> {
    this.connection.closed = true;
    this.producer.notifier.flush();
    await this.consumer?.stop();
    const all = Promise.all([this.consumer?.held(), pending()]);
    const bound = deadlineMs === undefined ? undefined : deadlineMs + 2000;
    await (bound === undefined ? all : within(() => all, bound, 'close deadline', true)).catch(() => {});
    await this.connection.stop();
  }
}

/**
 * A durable `DeliveryQueue` on Postgres with pg-boss 10: `emit` writes one job per (event, webhook) in one
 * batched insert (inside the host's transaction when `emit(event, { transaction })` is given), keyed by the
 * `webhook-id`, and any number of worker processes deliver them.
 *
 * @example
 * const dispatcher = createWebhookDispatcher({ store: postgresStore({ pool }), queue: pgBossQueue({ pool }) });
 */
export function pgBossQueue(options: PgBossQueueOptions): PgBossDeliveryQueue {
  const connection = new PgBossConnection(resolvePgBossOptions(options));
  const reporter = new Reporter();
  const queue = new DurableQueue(connection.name, new PgBossBackend(connection, reporter), reporter);
  return Object.assign(queue, {
    supportsTransactions: true as const,
    enqueueMany: queue.enqueueMany,
    boss: connection.start,
  });
}

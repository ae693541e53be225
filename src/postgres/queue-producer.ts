import { randomUUID } from 'node:crypto';
import type PgBoss from 'pg-boss';
import { sharedBodyKey } from '../durable/event-bodies.js';
import type { Reporter } from '../durable/queue.js';
import { type DeliveryJob, type EnqueueOptions, unsentResult, within } from '../extend.js';
import { type DeliveryResult, WebhookError } from '../index.js';
import { OrderedWrites } from './fifo.js';
import { enqueueFailedResult, type PgDeliveryJobData, queuedResult, toJobData } from './job.js';
import { jobIdFor } from './job-id.js';
import type { RowOptions } from './job-options.js';
import { adapter, type PgBossConnection } from './queue-boss.js';
import { errorMessage, type Queryable } from './sql.js';

/** The shortest time in ms between two wake-up NOTIFYs of one queue (see `Notifier`). */
const NOTIFY_SPACING_MS = 50;

/** One pg-boss row of a delivery job. */
export function rowFor(
  queueName: string,
  job: DeliveryJob,
  id: string,
  own: RowOptions,
  options: { startAfterSeconds?: number; bodyRef?: string } = {},
): PgBoss.JobInsert<PgDeliveryJobData> & RowOptions {
  const row: PgBoss.JobInsert<PgDeliveryJobData> & RowOptions = {
    id,
    name: queueName,
    data: toJobData(job, options.bodyRef ?? job.eventBodyRef),
    ...own,
  };
  const after = options.startAfterSeconds;
  if (after !== undefined && after > 0) row.startAfter = String(after);
  return row;
}

/** The job id: the `webhook-id` for a new delivery (so a second insert is a no-op), fresh for a redelivery. */
const idOf = (job: DeliveryJob) =>
  job.redelivery ? randomUUID() : jobIdFor(job.attempt ? `${job.deliveryId}#${job.attempt}` : job.deliveryId);

/**
 * One NOTIFY in flight at most, and at most one per `NOTIFY_SPACING_MS` (the first of a burst at once): the
 * enqueues meanwhile are covered by one more after it (a wake-up is a wake-up). A NOTIFY is a transaction of its
 * own that wakes every listening session; one per emit made 2.95 statements per delivery instead of 2.19 with a
 * 10 ms spacing, and 50 ms made 1.88–2.05 instead of 2.24–2.37 (the "Postgres statements per delivery" row of
 * `bench/pgboss.mjs`). Workers in other processes see a burst's later jobs at most that much later; the worker
 * of the emitting process is woken in-process at once.
 */
class Notifier {
  private state: 'idle' | 'scheduled' | 'busy' | 'again' = 'idle';
  private notifiedAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly connection: PgBossConnection) {}

  notify(): void {
    if (this.state !== 'idle') {
      if (this.state === 'busy') this.state = 'again';
      return;
    }
    const wait = this.notifiedAt + NOTIFY_SPACING_MS - performance.now();
    if (wait <= 0) {
      this.send();
      return;
    }
    this.state = 'scheduled';
    this.timer = setTimeout(() => this.send(), wait);
    this.timer.unref?.();
  }

  /** The last enqueues' NOTIFY is not left to a timer that may outlive the pool. */
  flush(): void {
    if (this.state === 'scheduled') this.send();
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.state = 'busy';
    this.notifiedAt = performance.now();
    this.connection
      .pool()
      .query('SELECT pg_notify($1, $2)', [this.connection.channel, ''])
      .catch(() => {})
      .then(() => {
        const again = this.state === 'again';
        this.state = 'idle';
        if (again) this.notify();
      });
  }
}

/** The producer of a pg-boss queue: the jobs of one emit in one insert, in the host's transaction when given. */
export class PgBossProducer {
  readonly notifier: Notifier;
  /** Wakes this process's own worker after an insert outside a transaction. */
  wakeWorker: () => void = () => {};
  /** Emits with fifo jobs outside a transaction are written in call order (see `OrderedWrites`). */
  private readonly ordered: OrderedWrites;

  constructor(
    private readonly connection: PgBossConnection,
    private readonly reporter: Reporter,
  ) {
    this.notifier = new Notifier(connection);
    this.ordered = new OrderedWrites(
      (emits) => this.writeOrdered(emits),
      connection.options.enqueueTimeoutMs,
    );
  }

  enqueueMany(jobs: DeliveryJob[], options: EnqueueOptions): Promise<DeliveryResult[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    if (this.connection.closed) {
      const message = 'the delivery queue is closed; not sent';
      return Promise.resolve(
        jobs.map((job) => this.reporter.once(unsentResult(job, 'failed', { code: 'ABORTED', message }))),
      );
    }
    if (options.transaction === undefined) {
      return this.insertJobs(jobs).then(
        () => jobs.map(queuedResult),
        (error: unknown) => {
          this.connection.say('error', 'webhook-dispatcher/postgres: enqueue failed', {
            error: errorMessage(error),
          });
          return jobs.map((job) => this.reporter.once(enqueueFailedResult(job, errorMessage(error))));
        },
      );
    }
    // Inside the host's transaction a failure rejects, so that the host's own `catch` rolls back (an aborted
    // transaction's COMMIT is a silent rollback in pg).
    const client = this.transactionClient(options.transaction);
    const written =
      typeof client === 'string' ? Promise.reject(new Error(client)) : this.insertJobs(jobs, client);
    return written.then(
      () => jobs.map(queuedResult),
      (error: unknown) => {
        throw new WebhookError(
          'ERR_ENQUEUE_FAILED',
          `emit: the deliveries could not be queued in the transaction; roll it back: ${errorMessage(error)}`,
          { cause: error },
        );
      },
    );
  }

  private transactionClient(transaction: unknown): Queryable | string {
    const client = transaction as Queryable | undefined;
    if (typeof client?.query !== 'function') {
      return `Expected \`transaction\` to be a pg client inside BEGIN (from pool.connect()), got ${transaction === null ? 'null' : typeof transaction}`;
    }
    if (client === (this.connection.options.pool as unknown)) {
      return 'Expected `transaction` to be a pg client inside BEGIN (from pool.connect()), got the pool itself';
    }
    return client;
  }

  /**
   * Writes the jobs of one emit in one insert (inside the host's transaction when `db` is its client), bounded by
   * `enqueueTimeoutMs`. The jobs of a fan-out refer to their event's body, written once just before them.
   */
  private insertJobs(jobs: DeliveryJob[], db?: Queryable): Promise<void> {
    const { name, rowOptions, enqueueTimeoutMs } = this.connection.options;
    const bodyRef = sharedBodyKey(jobs);
    const inserted = async () => {
      const boss = await this.connection.start();
      const target = db ?? this.connection.pool();
      const numbered = await this.connection.fifo.number(this.connection.pool(), target, jobs);
      const rows = numbered.map((job) => rowFor(name, job, idOf(job), rowOptions, { bodyRef }));
      if (bodyRef !== undefined) {
        await this.connection.bodies.insert(target, bodyRef, (jobs[0] as DeliveryJob).eventBody);
      }
      if (db) {
        // One after the other: pg deprecates a query sent while the client is busy (a DeprecationWarning in the
        // host's process). The NOTIFY is delivered at COMMIT, not at all on ROLLBACK: workers wake when the jobs
        // become visible.
        await boss.insert(rows, { db: adapter(db) } as PgBoss.InsertOptions);
        await db.query('SELECT pg_notify($1, $2)', [this.connection.channel, '']);
      } else {
        await boss.insert(rows);
        this.notifier.notify();
        this.wakeWorker();
      }
    };
    const started =
      db === undefined && jobs.some((job) => job.ordered === true) ? this.ordered.add(jobs) : inserted();
    return within(
      () => started,
      enqueueTimeoutMs,
      `Postgres did not answer within ${enqueueTimeoutMs} ms`,
      true,
    );
  }

  /**
   * The emits of one ordered batch (see `OrderedWrites`): numbered in call order, their bodies written, their jobs in
   * one insert.
   */
  private async writeOrdered(emits: DeliveryJob[][]): Promise<void> {
    const { name, rowOptions } = this.connection.options;
    const boss = await this.connection.start();
    const pool = this.connection.pool();
    const numbered = await this.connection.fifo.number(pool, pool, emits.flat());
    const rows: ReturnType<typeof rowFor>[] = [];
    const bodies: Promise<unknown>[] = [];
    let next = 0;
    for (const jobs of emits) {
      const bodyRef = sharedBodyKey(jobs);
      if (bodyRef !== undefined) {
        bodies.push(this.connection.bodies.insert(pool, bodyRef, (jobs[0] as DeliveryJob).eventBody));
      }
      for (const job of numbered.slice(next, next + jobs.length)) {
        rows.push(rowFor(name, job, idOf(job), rowOptions, { bodyRef }));
      }
      next += jobs.length;
    }
    await Promise.all(bodies);
    await boss.insert(rows);
    this.notifier.notify();
    this.wakeWorker();
  }
}

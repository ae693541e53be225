import type PgBoss from 'pg-boss';
import type { JobRunner } from '../durable/consumer.js';
import { bodyCache } from '../durable/event-bodies.js';
import { type DeliveryJob, within } from '../extend.js';
import { admitInLine, wakeNextInLine } from './fifo.js';
import { bodyRefOf, fromJobData } from './job.js';
import { jobIdFor } from './job-id.js';
import { type FetchedOptions, ownOptions } from './job-options.js';
import { type Listener, startListener } from './listener.js';
import { adapter, type PgBossConnection } from './queue-boss.js';
import { rowFor } from './queue-producer.js';
import { errorMessage, inTransaction } from './sql.js';

/**
 * The shortest time in ms between two fetches of a worker that had emptied the queue: the jobs enqueued one by one
 * meanwhile are taken in one fetch (and completed in one statement) instead of one fetch each.
 */
const FETCH_SPACING_MS = 10;

/**
 * How long in ms a finished job waits for others to finish before its completion is written: the jobs of one fetch
 * rarely finish in the same turn, and one statement completes all that finish within this.
 */
const COMPLETE_WINDOW_MS = 5;

/** How often a worker deletes the stored event bodies that no job needs any more (and once when it starts). */
const SWEEP_INTERVAL_MS = 10 * 60_000;

interface FetchedJob extends FetchedOptions {
  id: string;
  data: unknown;
}

/** Wake-ups of the fetch loop: an enqueue, a NOTIFY, a retry's time, or a slot freed while it was full. */
class Alarm {
  private wakeUp: (() => void) | undefined;
  /** Set by a wake-up that came while the loop was not sleeping (mid-fetch): its next sleep returns at once. */
  woken = false;

  constructor(private readonly isClosed: () => boolean) {}

  readonly wake = (): void => {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  };

  sleep(ms: number): Promise<void> {
    if (this.woken || this.isClosed()) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.woken = false;
        resolve();
      };
    });
  }
}

/**
 * Completions are written in one statement per batch (as pg-boss's own `work()` does): the jobs that finish
 * within `COMPLETE_WINDOW_MS` of each other, and those that finish while the previous statement runs (one in
 * flight at most). The outcome itself is in `onDelivery` and the delivery log, not in the job row.
 * Without the one-in-flight rule: 2.54 statements per delivery instead of 2.19; the 5 ms window instead of the
 * same turn: 1.87–2.08 instead of 2.24–2.37 (the "Postgres statements per delivery" row of `bench/pgboss.mjs`).
 */
class Completions {
  private batch: { ids: string[]; done: Promise<void> } | undefined;
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(private readonly write: (ids: string[]) => Promise<void>) {}

  add(id: string): Promise<void> {
    if (this.batch) {
      this.batch.ids.push(id);
      return this.batch.done;
    }
    const batch = { ids: [id], done: Promise.resolve() };
    const previous = this.lastWrite;
    batch.done = new Promise<void>((resolve) => {
      setTimeout(() => {
        void previous.then(() => {
          if (this.batch === batch) this.batch = undefined;
          return this.write(batch.ids).then(resolve);
        });
      }, COMPLETE_WINDOW_MS);
    });
    this.lastWrite = batch.done;
    this.batch = batch;
    return batch.done;
  }
}

/** The consumer of a pg-boss queue: a fetch loop woken by LISTEN/NOTIFY, each job run through the skeleton. */
export class PgBossConsumer {
  readonly alarm: Alarm;
  private listener: Listener | undefined;
  private running = 0;
  private loopDone: Promise<void> | undefined;
  /** The loop waits for a free slot (not for new jobs): a finished job wakes it. */
  private full = false;
  private readonly inFlight = new Set<Promise<void>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly completions: Completions;
  /** The bodies of fan-outs this worker read lately (see `eventBodies`). */
  private readonly bodyOf: ReturnType<typeof bodyCache>;

  constructor(
    private readonly connection: PgBossConnection,
    private readonly runner: JobRunner,
  ) {
    this.alarm = new Alarm(() => connection.closed);
    const { name, enqueueTimeoutMs } = connection.options;
    this.completions = new Completions((ids) => this.settle(() => connection.boss?.complete(name, ids)));
    this.bodyOf = bodyCache((key) =>
      within(
        () => connection.bodies.load(connection.pool(), key),
        Math.max(enqueueTimeoutMs, 5000),
        'Postgres did not answer',
        true,
      ),
    );
  }

  start(): void {
    const say = this.connection.say;
    this.listener = startListener({
      pool: this.connection.pool(),
      channels: [this.connection.channel],
      onNotify: this.alarm.wake,
      onConnect: this.alarm.wake,
      onError: (error) =>
        say('warn', 'webhook-dispatcher/postgres: LISTEN connection lost', { error: errorMessage(error) }),
    });
    this.loopDone = this.loop();
    this.connection.start().then(
      () => this.sweepBodies(),
      () => {},
    );
    this.sweepTimer = setInterval(() => this.sweepBodies(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref?.();
  }

  async ready(): Promise<void> {
    if (this.listener) await this.listener.ready;
  }

  /** Stops the loop and the listener. */
  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.alarm.wake();
    await this.listener?.stop();
  }

  /** Settles when the loop has ended and the jobs it took are finished. */
  held(): Promise<unknown> {
    return Promise.all([this.loopDone, ...this.inFlight]);
  }

  private async loop(): Promise<void> {
    const { concurrency, pollingIntervalMs } = this.connection.options;
    let failures = 0;
    while (!this.connection.closed) {
      if (this.running >= concurrency) {
        this.full = true;
        await this.alarm.sleep(pollingIntervalMs);
        this.full = false;
        continue;
      }
      const asked = concurrency - this.running;
      // A wake-up from now on may be for a job this fetch does not see: it makes the next sleep return at once.
      this.alarm.woken = false;
      const fetchedAt = performance.now();
      let jobs: FetchedJob[];
      try {
        jobs = await this.fetch(asked);
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 20 === 0) {
          this.connection.say('warn', 'webhook-dispatcher/postgres: cannot take jobs', {
            error: errorMessage(error),
          });
        }
        await this.alarm.sleep(Math.min(pollingIntervalMs * failures, 10_000));
        continue;
      }
      if (this.connection.closed) {
        // Taken just as we closed: hand them straight back.
        const ids = jobs.map((j) => j.id);
        if (ids.length) void this.settle(() => this.connection.boss?.fail(this.connection.name, ids));
        break;
      }
      for (const job of jobs) this.run(job);
      // Fewer than asked: nothing else is due now; the next enqueue, NOTIFY or retry timer wakes the loop (and
      // polling covers a lost one). A full batch: there may be more, so the loop goes on (or waits for a slot).
      // One fetch per wake-up, not one per finished job, and at most one per FETCH_SPACING_MS after an empty queue:
      // the delivery row of `bench/pgboss.mjs` went from 0.65x to 0.72x (medians of 3 runs) with the spacing.
      if (jobs.length < asked) {
        await this.alarm.sleep(pollingIntervalMs);
        const gap = fetchedAt + FETCH_SPACING_MS - performance.now();
        if (gap > 0 && !this.connection.closed) await new Promise((resolve) => setTimeout(resolve, gap));
      }
    }
  }

  /** Up to `asked` due jobs, with their row's options (which a re-inserted job keeps); none once closed. */
  private async fetch(asked: number): Promise<FetchedJob[]> {
    const { name, enqueueTimeoutMs } = this.connection.options;
    const boss = await this.connection.start();
    if (this.connection.closed) return [];
    return (await within(
      () => boss.fetch(name, { batchSize: asked, includeMetadata: true }) as Promise<FetchedJob[]>,
      Math.max(enqueueTimeoutMs, 5000),
      'fetch timed out',
      true,
    )) as FetchedJob[];
  }

  /** Runs a completion write, bounded in time; when it fails the job stays active and expires (redelivered). */
  private async settle(write: () => Promise<unknown> | undefined): Promise<void> {
    try {
      await within(write, 10_000, 'Postgres did not answer within 10000 ms', true);
    } catch (error) {
      this.connection.say(
        'warn',
        'webhook-dispatcher/postgres: could not record a job outcome; it will run again',
        {
          error: errorMessage(error),
        },
      );
    }
  }

  private run(fetched: FetchedJob): void {
    this.running++;
    const task = this.handle(fetched).finally(() => {
      this.running--;
      this.inFlight.delete(task);
      if (this.full) this.alarm.wake();
    });
    this.inFlight.add(task);
  }

  private async handle(fetched: FetchedJob): Promise<void> {
    const boss = this.connection.boss as PgBoss;
    const name = this.connection.name;
    const fail = (message: string | undefined) => this.settle(() => boss.fail(name, fetched.id, { message }));
    let job: DeliveryJob | undefined;
    try {
      job = await this.jobOf(fetched);
    } catch (error) {
      // Postgres is away: the job runs again later.
      return fail(errorMessage(error));
    }
    if (!job) {
      this.connection.say(
        'error',
        'webhook-dispatcher/postgres: a job is not a delivery (or its event body is gone); failed for good',
        { jobId: fetched.id, eventBodyRef: bodyRefOf(fetched.data) },
      );
      return this.settle(() => boss.deleteJob(name, fetched.id));
    }
    if (job.sequence !== undefined) {
      // `ordering: 'fifo'`: sent only when first in its webhook's line, else written back held (see `FifoJobs`).
      const gate = await admitInLine(this.connection, boss, fetched, job).catch((error: unknown) => error);
      if (gate === 'held') return;
      if (gate !== 'go') return fail(errorMessage(gate));
    }
    try {
      // A job whose lane cannot start it soon (full, paused, circuit open) comes back as a retry with its
      // attempt count unchanged and goes back to Postgres, delayed, instead of holding a worker slot.
      const step = await this.runner.run(job, this.connection.options.deferAfterMs);
      if (step.kind === 'retry') return this.scheduleRetry(boss, fetched, step.job, step.delayMs);
      // Closed with a deadline mid-delivery: not delivered, and not its final outcome; it runs again.
      if (step.kind === 'interrupted') return fail(step.message);
    } catch (error) {
      return fail(errorMessage(error));
    }
    await this.completions.add(fetched.id);
    if (job.sequence !== undefined) await wakeNextInLine(this.connection, job.webhookId, this.alarm.wake);
  }

  /** The delivery job of a fetched row, its body read when it refers to one; undefined when it is not one. */
  private async jobOf(fetched: FetchedJob): Promise<DeliveryJob | undefined> {
    const ref = bodyRefOf(fetched.data);
    if (ref === undefined) return fromJobData(fetched.data);
    const stored = await this.bodyOf(ref);
    return stored === undefined ? undefined : fromJobData(fetched.data, stored);
  }

  /** The next attempt as a delayed job, written in one transaction with the completion of this one. */
  private async scheduleRetry(
    boss: PgBoss,
    fetched: FetchedJob,
    next: DeliveryJob,
    delayMs: number,
  ): Promise<void> {
    const { name, rowOptions } = this.connection.options;
    const jobId = fetched.id;
    const row = rowFor(
      name,
      next,
      jobIdFor(`${jobId}#${next.attempt ?? 0}`),
      ownOptions(fetched, rowOptions),
      {
        startAfterSeconds: Math.max(0, delayMs) / 1000,
      },
    );
    await this.settle(() =>
      inTransaction(this.connection.pool(), async (client) => {
        await boss.insert([row], { db: adapter(client) } as PgBoss.InsertOptions);
        await boss.complete(name, jobId, { retry: next.attempt, delayMs }, {
          db: adapter(client),
        } as PgBoss.ConnectionOptions);
      }),
    );
    // This process will likely still be here when it is due: look then, not a polling interval later.
    const timer = setTimeout(this.alarm.wake, Math.max(0, delayMs) + 5);
    timer.unref?.();
  }

  private sweepBodies(): void {
    const { bodies, say } = this.connection;
    within(
      () => bodies.sweep(this.connection.pool()),
      60_000,
      'Postgres did not answer within 60000 ms',
      true,
    ).then(
      (count) => say('debug', 'webhook-dispatcher/postgres: removed event bodies no job needs', { count }),
      (error: unknown) =>
        say('warn', 'webhook-dispatcher/postgres: could not remove old event bodies', {
          error: errorMessage(error),
        }),
    );
  }
}

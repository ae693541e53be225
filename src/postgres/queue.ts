import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { bodyCache, sharedBodyKey } from '../durable/event-bodies.js';
import {
  type DeliveryEngine,
  type DeliveryJob,
  type DeliveryReporter,
  type DeliveryWorker,
  type EnqueueOptions,
  numberOption,
  OptionsError,
  unsentResult,
  within,
} from '../extend.js';
import { type DeliveryResult, type Logger, WebhookError } from '../index.js';
import { eventBodies } from './event-bodies.js';

import {
  bodyRefOf,
  enqueueFailedResult,
  fromJobData,
  type PgDeliveryJobData,
  queuedResult,
  toJobData,
} from './job.js';
import { jobIdFor } from './job-id.js';
import {
  DEFAULT_MAINTENANCE_INTERVAL_SECONDS,
  expireInSecondsFor,
  type FetchedOptions,
  ownOptions,
  type RowOptions,
} from './job-options.js';
import { type Listener, startListener } from './listener.js';
import type { TransactionalQueue } from './seam.js';
import { assertPool, errorMessage, type PoolClientLike, type PoolLike, type Queryable } from './sql.js';

/** The pg-boss queue name used when `queueName` is not given. */
export const DEFAULT_QUEUE_NAME = 'webhook-deliveries';

/** How a process that runs a worker takes jobs. */
export interface PgBossWorkerOptions {
  /** Deliveries this process runs at once. @default 64 */
  concurrency?: number;
  /**
   * How often in ms an idle worker looks for due jobs when no notification woke it (NOTIFY wakes it at once
   * after an enqueue; polling picks up scheduled retries and anything a lost notification missed). @default 2000
   */
  pollingIntervalMs?: number;
  /**
   * A job that its webhook's lane cannot start within this many ms (the lane is full, paused by `Retry-After`, or
   * its circuit is open) goes back to the queue, delayed, with its attempt count unchanged, so one slow or failing
   * receiver cannot fill this worker with its jobs. @default 1000
   */
  deferAfterMs?: number;
}

/**
 * pg-boss job options of every delivery job. Emitters write them into the job, and a worker that re-inserts a job
 * (a retry, a lane deferral) keeps the job's own, so the emitters' options are the ones that count.
 */
export interface PgBossJobOptions {
  /**
   * How long in seconds a worker may hold a job before it is taken to have died with it: the job then goes back to
   * the queue (redelivered, same `webhook-id`). A worker killed mid-delivery is recovered after this plus at most
   * one `maintenanceIntervalSeconds`. It must exceed one run of a job: one attempt (`timeoutMs`), the send-time
   * store read (`storeTimeoutMs`) and the lane wait (`deferAfterMs`).
   * @default max(20, ceil((deferAfterMs + storeTimeoutMs + timeoutMs) / 1000) + 5): 26 with the defaults
   * (`postgresWebhooks()` uses its own `timeoutMs` and `storeTimeoutMs`; `pgBossQueue()` the dispatcher defaults)
   */
  expireInSeconds?: number;
  /**
   * How many times pg-boss runs one job again when delivery itself could not finish (a worker died, was closed
   * with a deadline mid-delivery, or the store was unreachable). Every one may mean one more delivery of the same
   * `webhook-id`. @default 10
   */
  retryLimit?: number;
  /** Seconds before such a job runs again. @default 1 */
  retryDelay?: number;
}

/** Options of `pgBossQueue()`. */
export interface PgBossQueueOptions {
  /** A `pg.Pool` the queue uses (not closed by it). Give this or `connectionString`. */
  pool?: PoolLike;
  /** Used to open a pool of the queue's own (closed by `close()`) when `pool` is not given. */
  connectionString?: string;
  /** The Postgres schema pg-boss keeps its tables in; emitters and workers must use the same. @default 'pgboss' */
  schema?: string;
  /** The pg-boss queue name; emitters and workers must use the same one. @default 'webhook-deliveries' */
  queueName?: string;
  /**
   * Whether this process delivers jobs too. `false`: it only enqueues (an emitting process); `true` or options: it
   * takes jobs with the dispatcher's filters, rendering, signing and retry policy.
   * @default false
   */
  worker?: boolean | PgBossWorkerOptions;
  /**
   * How long in ms `emit` waits for Postgres to take the jobs. When it is down or does not answer in time, `emit`
   * resolves with failed `ENQUEUE_FAILED` results instead of waiting: those deliveries are not known to be queued
   * (a late insert may still land; emitting the same event again is safe, the job id is the `webhook-id`).
   * @default 5000
   */
  enqueueTimeoutMs?: number;
  /**
   * How long in ms a delivery id is remembered after it was delivered: a second emit of the same event to the same
   * webhook within this window is not queued again (pg-boss's `archiveCompletedAfterSeconds`).
   * @default 86_400_000 (24 hours)
   */
  dedupeWindowMs?: number;
  /**
   * How often in seconds pg-boss's maintenance runs (puts back the expired jobs of dead workers, archives). It runs
   * once per interval across all processes on the schema (the shortest interval among them wins). @default 10
   */
  maintenanceIntervalSeconds?: number;
  jobOptions?: PgBossJobOptions;
  /** Where connection and worker errors go. Silent by default. */
  logger?: Partial<Logger>;
}

/** A `DeliveryQueue` on pg-boss. */
export interface PgBossDeliveryQueue extends TransactionalQueue {
  readonly readsStoreAtSendTime: true;
  readonly name: string;
  /** Resolves when pg-boss is installed in its schema and the queue exists (and, with a worker, it is taking jobs). */
  ready(): Promise<void>;
  /** The pg-boss instance (started by `ready()` or the first enqueue), for inspection. */
  boss(): Promise<PgBoss>;
}

/**
 * The shortest time in ms between two fetches of a worker that had emptied the queue: the jobs enqueued one by one
 * meanwhile are taken in one fetch (and completed in one statement) instead of one fetch each.
 */
const FETCH_SPACING_MS = 10;

/** The shortest time in ms between two wake-up NOTIFYs of one queue (see `notifyWorkers`). */
const NOTIFY_SPACING_MS = 50;

/**
 * How long in ms a finished job waits for others to finish before its completion is written: the jobs of one fetch
 * rarely finish in the same turn, and one statement completes all that finish within this.
 */
const COMPLETE_WINDOW_MS = 5;

/** How often a worker deletes the stored event bodies that no job needs any more (and once when it starts). */
const SWEEP_INTERVAL_MS = 10 * 60_000;

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,50}$/;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,49}$/;

type DbAdapter = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };
const adapter = (db: Queryable): DbAdapter => ({
  executeSql: (text, values) => db.query(text, values) as Promise<{ rows: unknown[] }>,
});

interface FetchedJob extends FetchedOptions {
  id: string;
  data: unknown;
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
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('pool', 'Expected `pool` (a pg Pool) or `connectionString`, got nothing');
  }
  if (options.pool === undefined) {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new OptionsError(
        'pool',
        `Expected \`pool\` (a pg Pool) or \`connectionString\` (a postgres:// URL), got ${options.connectionString === undefined ? 'neither' : JSON.stringify(options.connectionString)}`,
      );
    }
  } else {
    assertPool('pool', options.pool);
  }
  const name = options.queueName ?? DEFAULT_QUEUE_NAME;
  if (typeof name !== 'string' || !QUEUE_NAME.test(name)) {
    throw new OptionsError(
      'queueName',
      `Expected \`queueName\` to be 1 to 50 letters, digits, _ or -, got ${JSON.stringify(name)}`,
    );
  }
  const schema = options.schema ?? 'pgboss';
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new OptionsError(
      'schema',
      `Expected \`schema\` to be a SQL identifier of at most 50 characters, got ${JSON.stringify(schema)}`,
    );
  }
  const enqueueTimeoutMs = numberOption('enqueueTimeoutMs', options.enqueueTimeoutMs, 5000, {
    positive: true,
  });
  const dedupeWindowMs = numberOption('dedupeWindowMs', options.dedupeWindowMs, 86_400_000, {
    positive: true,
    max: 365 * 86_400_000,
  });
  const maintenanceIntervalSeconds = numberOption(
    'maintenanceIntervalSeconds',
    options.maintenanceIntervalSeconds,
    DEFAULT_MAINTENANCE_INTERVAL_SECONDS,
    { positive: true, integer: true, max: 86_399 },
  );
  const workerOptions = options.worker === true ? {} : options.worker || undefined;
  const jobOptions = options.jobOptions ?? {};
  /** Written into each new job; a re-inserted job keeps those of its row (see `ownOptions`). */
  const rowOptions: RowOptions = {
    expireInSeconds: numberOption(
      'jobOptions.expireInSeconds',
      jobOptions.expireInSeconds,
      expireInSecondsFor({ deferAfterMs: workerOptions?.deferAfterMs }),
      { positive: true, integer: true, max: 86_399 },
    ),
    retryLimit: numberOption('jobOptions.retryLimit', jobOptions.retryLimit, 10, {
      integer: true,
      max: 1000,
    }),
    retryDelay: numberOption('jobOptions.retryDelay', jobOptions.retryDelay, 1, {
      integer: true,
      max: 86_400,
    }),
  };
  const concurrency = numberOption('worker.concurrency', workerOptions?.concurrency, 64, {
    positive: true,
    integer: true,
    max: 10_000,
  });
  const pollingIntervalMs = numberOption('worker.pollingIntervalMs', workerOptions?.pollingIntervalMs, 2000, {
    positive: true,
  });
  const deferAfterMs = numberOption('worker.deferAfterMs', workerOptions?.deferAfterMs, 1000, {
    positive: true,
  });
  const logger = options.logger;
  const say = (level: keyof Logger, message: string, meta: Record<string, unknown>) => {
    try {
      logger?.[level]?.call(logger, message, { queue: name, ...meta });
    } catch {
      // a logger that throws changes nothing here
    }
  };

  const ownsPool = options.pool === undefined;
  let ownPool: pg.Pool | undefined;
  const getPool = (): PoolLike => {
    if (options.pool) return options.pool;
    if (!ownPool) {
      ownPool = new pg.Pool({
        connectionString: options.connectionString,
        // A connection attempt to a host that does not answer fails within the enqueue budget.
        connectionTimeoutMillis: enqueueTimeoutMs,
      });
      ownPool.on('error', (error) =>
        say('warn', 'webhook-dispatcher/postgres: idle connection error', { error: errorMessage(error) }),
      );
    }
    return ownPool as unknown as PoolLike;
  };
  const bodies = eventBodies(schema);
  const channel = `wd_q_${createHash('sha1').update(`${schema}\n${name}`).digest('hex').slice(0, 24)}`;

  let starting: Promise<PgBoss> | undefined;
  let started: PgBoss | undefined;
  const newBoss = () => {
    const boss = new PgBoss({
      db: adapter(getPool()),
      schema,
      schedule: false,
      supervise: true,
      migrate: true,
      maintenanceIntervalSeconds,
      archiveCompletedAfterSeconds: Math.max(1, Math.ceil(dedupeWindowMs / 1000)),
    } as PgBoss.ConstructorOptions);
    boss.on('error', (error) =>
      say('warn', 'webhook-dispatcher/postgres: pg-boss error', { error: errorMessage(error) }),
    );
    return boss;
  };
  const start = (): Promise<PgBoss> => {
    if (!starting) {
      starting = (async () => {
        for (let attempt = 1; ; attempt++) {
          const boss = newBoss();
          try {
            await boss.start();
            await boss.createQueue(name, { name });
            await getPool().query(bodies.createSql);
            started = boss;
            return boss;
          } catch (error) {
            // pg-boss cannot restart a failed start: a fresh instance is made (here, or by the next call, so a
            // Postgres that was down is tried again).
            boss.stop({ graceful: false, close: false }).catch(() => {});
            // Processes starting together on a fresh database race in pg-boss's install (CREATE SCHEMA, a
            // duplicate key) and in createQueue (a deadlock): Postgres lets one of them win; the others try
            // again and find the schema and the queue there.
            if (attempt >= 5 || closed || !isStartRace(error)) throw error;
            await new Promise((resolve) => setTimeout(resolve, 25 * attempt + Math.random() * 50));
          }
        }
      })();
      starting.catch(() => {
        starting = undefined;
      });
    }
    return starting;
  };

  let deliverHere: DeliveryWorker | undefined;
  let report: DeliveryReporter | undefined;
  let engine: DeliveryEngine | undefined;
  let closed = false;
  /** `dispatcher.test()` deliveries run in this process; `close()` waits for them. */
  const testing = new Set<Promise<DeliveryResult>>();

  const reportOnce = (result: DeliveryResult) => {
    try {
      report?.(result);
    } catch {
      // the dispatcher logs its own reporter's failures
    }
  };

  const rowFor = (
    job: DeliveryJob,
    id: string,
    startAfterSeconds?: number,
    own = rowOptions,
    bodyRef?: string,
  ) => {
    const row: PgBoss.JobInsert<PgDeliveryJobData> & RowOptions = {
      id,
      name,
      data: toJobData(job, bodyRef ?? job.eventBodyRef),
      ...own,
    };
    if (startAfterSeconds !== undefined && startAfterSeconds > 0) row.startAfter = String(startAfterSeconds);
    return row;
  };

  /** The job id: the `webhook-id` for a new delivery (so a second insert is a no-op), fresh for a redelivery. */
  const idOf = (job: DeliveryJob) =>
    job.redelivery
      ? randomUUID()
      : jobIdFor(job.attempt ? `${job.deliveryId}#${job.attempt}` : job.deliveryId);

  function transactionClient(transaction: unknown): Queryable | string {
    const client = transaction as Queryable | undefined;
    if (typeof client?.query !== 'function') {
      return `Expected \`transaction\` to be a pg client inside BEGIN (from pool.connect()), got ${transaction === null ? 'null' : typeof transaction}`;
    }
    if (client === (options.pool as unknown)) {
      return 'Expected `transaction` to be a pg client inside BEGIN (from pool.connect()), got the pool itself';
    }
    return client;
  }

  /**
   * One NOTIFY in flight at most, and at most one per `NOTIFY_SPACING_MS` (the first of a burst at once): the
   * enqueues meanwhile are covered by one more after it (a wake-up is a wake-up). A NOTIFY is a transaction of its
   * own that wakes every listening session; one per emit made 2.95 statements per delivery instead of 2.19 with a
   * 10 ms spacing, and 50 ms made 1.88–2.05 instead of 2.24–2.37 (the "Postgres statements per delivery" row of
   * `bench/pgboss.mjs`). Workers in other processes see a burst's later jobs at most that much later; the worker
   * of the emitting process is woken in-process at once.
   */
  let notifying: 'idle' | 'scheduled' | 'busy' | 'again' = 'idle';
  let notifiedAt = Number.NEGATIVE_INFINITY;
  let notifyTimer: NodeJS.Timeout | undefined;
  function notifyWorkers(): void {
    if (notifying !== 'idle') {
      if (notifying === 'busy') notifying = 'again';
      return;
    }
    const wait = notifiedAt + NOTIFY_SPACING_MS - performance.now();
    if (wait <= 0) {
      sendNotify();
      return;
    }
    notifying = 'scheduled';
    notifyTimer = setTimeout(sendNotify, wait);
    notifyTimer.unref?.();
  }
  function sendNotify(): void {
    clearTimeout(notifyTimer);
    notifyTimer = undefined;
    notifying = 'busy';
    notifiedAt = performance.now();
    getPool()
      .query('SELECT pg_notify($1, $2)', [channel, ''])
      .catch(() => {})
      .then(() => {
        const again = notifying === 'again';
        notifying = 'idle';
        if (again) notifyWorkers();
      });
  }

  function enqueueMany(jobs: DeliveryJob[], enqueueOptions: EnqueueOptions = {}): Promise<DeliveryResult[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    if (closed) {
      const message = 'the delivery queue is closed; not sent';
      return Promise.resolve(
        jobs.map((job) => {
          const result = unsentResult(job, 'failed', { code: 'ABORTED', message });
          reportOnce(result);
          return result;
        }),
      );
    }
    if (enqueueOptions.transaction === undefined) {
      return insertJobs(jobs).then(
        () => jobs.map(queuedResult),
        (error: unknown) => {
          say('error', 'webhook-dispatcher/postgres: enqueue failed', { error: errorMessage(error) });
          return jobs.map((job) => {
            const result = enqueueFailedResult(job, errorMessage(error));
            reportOnce(result);
            return result;
          });
        },
      );
    }
    // Inside the host's transaction a failure rejects, so that the host's own `catch` rolls back (an aborted
    // transaction's COMMIT is a silent rollback in pg).
    const client = transactionClient(enqueueOptions.transaction);
    const written = typeof client === 'string' ? Promise.reject(new Error(client)) : insertJobs(jobs, client);
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

  /**
   * Writes the jobs of one emit in one insert (inside the host's transaction when `db` is its client), bounded by
   * `enqueueTimeoutMs`. The jobs of a fan-out refer to their event's body, written once just before them.
   */
  function insertJobs(jobs: DeliveryJob[], db?: Queryable): Promise<void> {
    const bodyRef = sharedBodyKey(jobs);
    const rows = jobs.map((job) => rowFor(job, idOf(job), undefined, rowOptions, bodyRef));
    const inserted = (async () => {
      const boss = await start();
      const target = db ?? getPool();
      if (bodyRef !== undefined) await bodies.insert(target, bodyRef, (jobs[0] as DeliveryJob).eventBody);
      if (db) {
        // One after the other: pg deprecates a query sent while the client is busy (a DeprecationWarning in the
        // host's process). The NOTIFY is delivered at COMMIT, not at all on ROLLBACK: workers wake when the jobs
        // become visible.
        await boss.insert(rows, { db: adapter(db) } as PgBoss.InsertOptions);
        await db.query('SELECT pg_notify($1, $2)', [channel, '']);
      } else {
        await boss.insert(rows);
        notifyWorkers();
        wake();
      }
    })();
    return within(
      () => inserted,
      enqueueTimeoutMs,
      `Postgres did not answer within ${enqueueTimeoutMs} ms`,
      true,
    );
  }

  // ---- the worker ----
  let listener: Listener | undefined;
  let running = 0;
  let loopDone: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  /** Set by a wake-up that came while the loop was not sleeping (mid-fetch): its next sleep returns at once. */
  let woken = false;
  /** The loop waits for a free slot (not for new jobs): a finished job wakes it. */
  let full = false;
  const inFlight = new Set<Promise<void>>();
  /** New jobs may be due (an enqueue, a NOTIFY, a retry's time): the loop fetches. */
  function wake() {
    woken = true;
    const w = wakeUp;
    wakeUp = undefined;
    w?.();
  }
  const sleep = (ms: number) => {
    if (woken || closed) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wakeUp = undefined;
        resolve();
      }, ms);
      wakeUp = () => {
        clearTimeout(timer);
        woken = false;
        resolve();
      };
    });
  };

  async function loop(): Promise<void> {
    let failures = 0;
    let fetchedAt = 0;
    while (!closed) {
      if (running >= concurrency) {
        full = true;
        await sleep(pollingIntervalMs);
        full = false;
        continue;
      }
      let jobs: FetchedJob[] = [];
      const asked = concurrency - running;
      // A wake-up from now on may be for a job this fetch does not see: it makes the next sleep return at once.
      woken = false;
      fetchedAt = performance.now();
      try {
        const boss = await start();
        if (closed) break;
        jobs = (await within(
          // With its row's options, which a re-inserted job keeps.
          () => boss.fetch(name, { batchSize: asked, includeMetadata: true }) as Promise<FetchedJob[]>,
          Math.max(enqueueTimeoutMs, 5000),
          'fetch timed out',
          true,
        )) as FetchedJob[];
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 20 === 0) {
          say('warn', 'webhook-dispatcher/postgres: cannot take jobs', { error: errorMessage(error) });
        }
        await sleep(Math.min(pollingIntervalMs * failures, 10_000));
        continue;
      }
      if (closed) {
        // Taken just as we closed: hand them straight back.
        if (jobs.length)
          void settle(() =>
            started?.fail(
              name,
              jobs.map((j) => j.id),
            ),
          );
        break;
      }
      for (const job of jobs) run(job);
      // Fewer than asked: nothing else is due now; the next enqueue, NOTIFY or retry timer wakes the loop (and
      // polling covers a lost one). A full batch: there may be more, so the loop goes on (or waits for a slot).
      // One fetch per wake-up, not one per finished job, and at most one per FETCH_SPACING_MS after an empty queue:
      // the delivery row of `bench/pgboss.mjs` went from 0.65x to 0.72x (medians of 3 runs) with the spacing.
      if (jobs.length < asked) {
        await sleep(pollingIntervalMs);
        const gap = fetchedAt + FETCH_SPACING_MS - performance.now();
        if (gap > 0 && !closed) await new Promise((resolve) => setTimeout(resolve, gap));
      }
    }
  }

  /** Runs a completion write, bounded in time; when it fails the job stays active and expires (redelivered). */
  async function settle(write: () => Promise<unknown> | undefined): Promise<void> {
    try {
      await within(write, 10_000, 'Postgres did not answer within 10000 ms', true);
    } catch (error) {
      say('warn', 'webhook-dispatcher/postgres: could not record a job outcome; it will run again', {
        error: errorMessage(error),
      });
    }
  }

  function run(fetched: FetchedJob): void {
    running++;
    const task = handle(fetched).finally(() => {
      running--;
      inFlight.delete(task);
      if (full) wake();
    });
    inFlight.add(task);
  }

  /** The bodies of fan-outs this worker read lately (see `eventBodies`). */
  const bodyOf = bodyCache((key) =>
    within(
      () => bodies.load(getPool(), key),
      Math.max(enqueueTimeoutMs, 5000),
      'Postgres did not answer',
      true,
    ),
  );

  async function handle(fetched: FetchedJob): Promise<void> {
    const boss = started as PgBoss;
    const ref = bodyRefOf(fetched.data);
    let stored: Awaited<ReturnType<typeof bodyOf>>;
    if (ref !== undefined) {
      try {
        stored = await bodyOf(ref);
      } catch (error) {
        // Postgres is away: the job runs again later.
        await settle(() => boss.fail(name, fetched.id, { message: errorMessage(error) }));
        return;
      }
    }
    const job = ref !== undefined && stored === undefined ? undefined : fromJobData(fetched.data, stored);
    if (!job) {
      say(
        'error',
        'webhook-dispatcher/postgres: a job is not a delivery (or its event body is gone); failed for good',
        {
          jobId: fetched.id,
          eventBodyRef: ref,
        },
      );
      await settle(() => boss.deleteJob(name, fetched.id));
      return;
    }
    let result: DeliveryResult;
    try {
      if (engine) {
        // A job whose lane cannot start it soon (full, paused, circuit open) comes back as a retry with its
        // attempt count unchanged and goes back to Postgres, delayed, instead of holding a worker slot.
        const outcome = await engine.attempt(job, { deferAfterMs });
        if (outcome.retry !== undefined) {
          await scheduleRetry(boss, fetched, outcome.retry.job, outcome.retry.delayMs);
          return;
        }
        result = outcome.result;
      } else {
        result = await (deliverHere as DeliveryWorker)(job);
      }
    } catch (error) {
      await settle(() => boss.fail(name, fetched.id, { message: errorMessage(error) }));
      return;
    }
    if (result.outcome === 'failed' && result.error?.code === 'ABORTED') {
      // Closed with a deadline mid-delivery: not delivered, and not its final outcome; it runs again.
      await settle(() => boss.fail(name, fetched.id, { message: result.error?.message }));
      return;
    }
    reportOnce(result);
    await complete(boss, fetched.id);
  }

  /**
   * Completions are written in one statement per batch (as pg-boss's own `work()` does): the jobs that finish
   * within `COMPLETE_WINDOW_MS` of each other, and those that finish while the previous statement runs (one in
   * flight at most). The outcome itself is in `onDelivery` and the delivery log, not in the job row.
   * Without the one-in-flight rule: 2.54 statements per delivery instead of 2.19; the 5 ms window instead of the
   * same turn: 1.87–2.08 instead of 2.24–2.37 (the "Postgres statements per delivery" row of `bench/pgboss.mjs`).
   */
  let completing: { ids: string[]; done: Promise<void> } | undefined;
  let completionWrite: Promise<void> = Promise.resolve();
  function complete(boss: PgBoss, id: string): Promise<void> {
    if (completing) {
      completing.ids.push(id);
      return completing.done;
    }
    const batch = { ids: [id], done: Promise.resolve() };
    const previous = completionWrite;
    batch.done = new Promise<void>((resolve) => {
      setTimeout(() => {
        void previous.then(() => {
          if (completing === batch) completing = undefined;
          return settle(() => boss.complete(name, batch.ids)).then(resolve);
        });
      }, COMPLETE_WINDOW_MS);
    });
    completionWrite = batch.done;
    completing = batch;
    return batch.done;
  }

  /** The next attempt as a delayed job, written in one transaction with the completion of this one. */
  async function scheduleRetry(
    boss: PgBoss,
    fetched: FetchedJob,
    next: DeliveryJob,
    delayMs: number,
  ): Promise<void> {
    const jobId = fetched.id;
    const startAfter = Math.max(0, delayMs) / 1000;
    const row = rowFor(
      next,
      jobIdFor(`${jobId}#${next.attempt ?? 0}`),
      startAfter,
      ownOptions(fetched, rowOptions),
    );
    await settle(async () => {
      const client = (await getPool().connect()) as PoolClientLike;
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        await boss.insert([row], { db: adapter(client) } as PgBoss.InsertOptions);
        await boss.complete(name, jobId, { retry: next.attempt, delayMs }, {
          db: adapter(client),
        } as PgBoss.ConnectionOptions);
        await client.query('COMMIT');
      } catch (error) {
        broken = error instanceof Error ? error : new Error(String(error));
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release(broken);
      }
    });
    // This process will likely still be here when it is due: look then, not a polling interval later.
    const timer = setTimeout(wake, Math.max(0, delayMs) + 5);
    timer.unref?.();
  }

  let sweepTimer: NodeJS.Timeout | undefined;
  function sweepBodies(): void {
    within(() => bodies.sweep(getPool()), 60_000, 'Postgres did not answer within 60000 ms', true).then(
      (count) => say('debug', 'webhook-dispatcher/postgres: removed event bodies no job needs', { count }),
      (error: unknown) =>
        say('warn', 'webhook-dispatcher/postgres: could not remove old event bodies', {
          error: errorMessage(error),
        }),
    );
  }

  let closing: Promise<void> | undefined;
  async function shutdown(deadlineMs: number | undefined): Promise<void> {
    closed = true;
    clearInterval(sweepTimer);
    wake();
    // The last enqueues' NOTIFY is not left to a timer that may outlive the pool.
    if (notifying === 'scheduled') sendNotify();
    await listener?.stop();
    const bound = deadlineMs === undefined ? undefined : deadlineMs + 2000;
    const waitFor = (promise: Promise<unknown>) =>
      (bound === undefined ? promise : within(() => promise, bound, 'close deadline', true)).catch(() => {});
    await waitFor(Promise.all([loopDone, ...inFlight, ...testing]));
    const boss = started;
    if (boss)
      await within(
        () => boss.stop({ graceful: false, close: false, wait: true }),
        5000,
        'pg-boss stop',
        true,
      ).catch(() => {});
    const pool = ownPool;
    if (ownsPool && pool) await within(() => pool.end(), 2000, 'pool end', true).catch(() => {});
  }

  const queue: PgBossDeliveryQueue = {
    readsStoreAtSendTime: true,
    supportsTransactions: true,
    name,

    start(worker, reporter, deliveryEngine?: DeliveryEngine) {
      deliverHere = worker;
      report = reporter;
      engine = deliveryEngine;
      if (!workerOptions) return;
      listener = startListener({
        pool: getPool(),
        channels: [channel],
        onNotify: () => wake(),
        onConnect: () => wake(),
        onError: (error) =>
          say('warn', 'webhook-dispatcher/postgres: LISTEN connection lost', { error: errorMessage(error) }),
      });
      loopDone = loop();
      start().then(sweepBodies, () => {});
      sweepTimer = setInterval(sweepBodies, SWEEP_INTERVAL_MS);
      sweepTimer.unref?.();
    },

    enqueue(job, enqueueOptions) {
      if (job.test && deliverHere && enqueueOptions?.transaction === undefined) {
        // `dispatcher.test()` answers with the real outcome, so it is delivered here and now, not queued.
        const delivered = deliverHere(job).then((result) => {
          reportOnce(result);
          return result;
        });
        testing.add(delivered);
        const forget = () => testing.delete(delivered);
        delivered.then(forget, forget);
        return delivered;
      }
      return enqueueMany([job], enqueueOptions).then((results) => results[0] as DeliveryResult);
    },

    enqueueMany,

    async ready() {
      await start();
      if (listener) await listener.ready;
    },

    boss: start,

    close(closeOptions = {}) {
      closing ??= shutdown(closeOptions.deadlineMs);
      return closing;
    },
  };
  return queue;
}

/** A duplicate key (23505) or a deadlock (40P01): what concurrent first starts of pg-boss on one database hit. */
function isStartRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === '40P01';
}

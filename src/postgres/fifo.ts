// `ordering: 'fifo'` on the pg-boss queue: a place in line for each ordered job, the check that only the first of
// its webhook runs, and the wake-up of the next when it ends. Across every worker process on the schema.
import type PgBoss from 'pg-boss';
import { type DeliveryJob, within } from '../extend.js';
import { jobIdFor } from './job-id.js';
import { type FetchedOptions, ownOptions } from './job-options.js';
import { adapter, type PgBossConnection } from './queue-boss.js';
import { rowFor } from './queue-producer.js';
import { inTransaction, type PoolLike, type Queryable } from './sql.js';

/**
 * The jobs of a fifo webhook carry `sequence` in their data: a number from `<schema>.webhook_dispatcher_fifo_seq`
 * taken when the job is written (a retry or a deferral is written again with the same number, in the transaction
 * that completes the job before it, so a delivery keeps its place until its final outcome). A worker sends a job
 * only when no job of the same webhook with a lower number is still waiting, retrying or active in pg-boss's job
 * table; otherwise the job is written back delayed (`held`), holding no worker slot, and the job that ends first
 * brings the next one forward (`promote`). The check and the hold run under a transaction-scoped advisory lock on
 * the webhook, as does the wake-up, so a hold cannot miss the wake-up of the job it waited for.
 */
export interface FifoJobs {
  /** The jobs with their `sequence`, taken in order for those that are `ordered` and have none yet. */
  number(pool: PoolLike, db: Queryable, jobs: DeliveryJob[]): Promise<DeliveryJob[]>;
  /**
   * `go` when no job of the webhook is ahead of this one; else, in one transaction under the webhook's lock and
   * counted again (at most `MAX_COUNTED`), `hold(client, delayMs)` writes the job back before the lock is let go.
   */
  gate(
    pool: PoolLike,
    job: DeliveryJob,
    hold: (client: Queryable, delayMs: number) => Promise<void>,
  ): Promise<'go' | 'held'>;
  /**
   * A job of the webhook ended: its next held job, if it is the first in line, is made due now, and the workers
   * on `channel` are told at commit.
   */
  promote(pool: PoolLike, webhookId: string, channel: string): Promise<boolean>;
}

/** Processes starting together race in `CREATE ... IF NOT EXISTS` (a duplicate key): the second try finds it. */
async function twice(statement: () => Promise<unknown>): Promise<void> {
  try {
    await statement();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 50));
    await statement();
  }
}

/** Jobs ahead that the hold's delay grows with (the count stops there). */
const MAX_COUNTED = 1000;
/**
 * A held job's own delay, for when no wake-up comes (a worker died): 1 s plus 100 ms per job ahead, at most 30 s.
 * The job that ends before it normally makes it due long before.
 */
export const holdDelayMs = (ahead: number) => Math.min(30_000, 1000 + 100 * ahead);

export function fifoJobs(schema: string, queue: string): FifoJobs {
  const job = `"${schema}".job`;
  const sequence = `"${schema}".webhook_dispatcher_fifo_seq`;
  const seq = `(data->>'sequence')::bigint`;
  const pending = `name = $1 AND state < 'completed' AND data ? 'sequence' AND data->>'webhookId' = $2`;
  let prepared: Promise<void> | undefined;
  /** The sequence and an index for the check, made on first use (so a queue without fifo webhooks has neither). */
  const prepare = (pool: PoolLike): Promise<void> => {
    prepared ??= (async () => {
      await twice(() => pool.query(`CREATE SEQUENCE IF NOT EXISTS ${sequence}`));
      // Without the index the check still works, reading more rows: a failure here is not one of the queue's.
      await twice(() =>
        pool.query(
          `CREATE INDEX IF NOT EXISTS webhook_dispatcher_fifo_i ON ${job} (name, (data->>'webhookId'), (${seq})) WHERE state < 'completed' AND data ? 'sequence'`,
        ),
      ).catch(() => {});
    })();
    prepared.catch(() => {
      prepared = undefined;
    });
    return prepared;
  };
  const lockKey = (webhookId: string) => `webhook-dispatcher fifo ${schema}.${queue} ${webhookId}`;
  return {
    async number(pool, db, jobs) {
      const ordered = jobs.filter((j) => j.ordered === true && j.sequence === undefined);
      if (ordered.length === 0) return jobs;
      await prepare(pool);
      const { rows } = await db.query<{ n: string }>(
        `SELECT nextval('${sequence}') AS n FROM generate_series(1, $1::int)`,
        [ordered.length],
      );
      const numbers = rows.map((row) => Number(row.n)).sort((a, b) => a - b);
      let next = 0;
      return jobs.map((j) =>
        j.ordered === true && j.sequence === undefined ? { ...j, sequence: numbers[next++] } : j,
      );
    },

    async gate(pool, delivery, hold) {
      await prepare(pool);
      const ahead = async (db: Queryable) => {
        const { rows } = await db.query<{ ahead: string }>(
          `SELECT count(*) AS ahead FROM (SELECT 1 FROM ${job} WHERE ${pending} AND ${seq} < $3 LIMIT ${MAX_COUNTED}) AS t`,
          [queue, delivery.webhookId, delivery.sequence],
        );
        return Number(rows[0]?.ahead ?? 0);
      };
      // First in line needs no lock (the lock only keeps a hold from missing the wake-up of the job it waits for).
      if ((await ahead(pool)) === 0) return 'go';
      return inTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          lockKey(delivery.webhookId),
        ]);
        const count = await ahead(client);
        if (count === 0) return 'go';
        await hold(client, holdDelayMs(count));
        return 'held';
      });
    },

    async promote(pool, webhookId, channel) {
      await prepare(pool);
      return inTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockKey(webhookId)]);
        // Only a held job: the first in line may be a retry waiting for its time, which keeps its wait.
        const { rowCount } = await client.query(
          `UPDATE ${job} SET start_after = now() WHERE name = $1 AND id = (
             SELECT id FROM ${job} WHERE ${pending} AND state < 'active' ORDER BY ${seq} LIMIT 1
           ) AND data ? 'held' AND start_after > now()`,
          [queue, webhookId],
        );
        const promoted = (rowCount ?? 0) > 0;
        if (promoted) await client.query('SELECT pg_notify($1, $2)', [channel, '']);
        return promoted;
      });
    },
  };
}

/** A fetched pg-boss row, as the consumer has it. */
interface FetchedRow extends FetchedOptions {
  id: string;
}

/**
 * The consumer's gate for a job with a `sequence`: `go` when it is first in line; `held` when it was written back
 * (delayed, marked `held`) and completed in the gate's transaction. Rejects when Postgres did not answer (the
 * caller fails the job: it runs again later, still in its place).
 */
export function admitInLine(
  connection: PgBossConnection,
  boss: PgBoss,
  fetched: FetchedRow,
  job: DeliveryJob,
): Promise<'go' | 'held'> {
  const { name, rowOptions, enqueueTimeoutMs } = connection.options;
  const hold = async (client: Queryable, delayMs: number) => {
    const row = rowFor(name, job, jobIdFor(`${fetched.id}#held`), ownOptions(fetched, rowOptions), {
      startAfterSeconds: delayMs / 1000,
    });
    (row.data as { held?: boolean }).held = true;
    await boss.insert([row], { db: adapter(client) } as PgBoss.InsertOptions);
    await boss.complete(name, fetched.id, { held: true, delayMs }, {
      db: adapter(client),
    } as PgBoss.ConnectionOptions);
  };
  return within(
    () => connection.fifo.gate(connection.pool(), job, hold),
    Math.max(enqueueTimeoutMs, 5000),
    'Postgres did not answer',
    true,
  );
}

/** A job with a `sequence` ended: the next held one of its webhook is made due, and this process's worker woken. */
export async function wakeNextInLine(
  connection: PgBossConnection,
  webhookId: string,
  wake: () => void,
): Promise<void> {
  try {
    const promoted = await within(
      () => connection.fifo.promote(connection.pool(), webhookId, connection.channel),
      10_000,
      'Postgres did not answer within 10000 ms',
      true,
    );
    if (promoted) wake();
  } catch (error) {
    // The held job runs at its own time instead (see `holdDelayMs`).
    connection.say('warn', 'webhook-dispatcher/postgres: could not wake the next fifo job', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** Emits one batch of ordered writes takes at most (their jobs are written in one insert). */
const MAX_BATCH_EMITS = 500;
/** Emits waiting for their batch at most: past it (Postgres is slow or away) an emit fails at once. */
const MAX_WAITING_EMITS = 10_000;

/**
 * The writes of emits with fifo jobs outside a transaction, in `emit` call order: one batch in flight at a time,
 * and the emits that come meanwhile written together by the next one (numbered in call order, one insert), so
 * order costs one round of statements per batch rather than per emit. A batch that does not finish within
 * `timeoutMs` fails its emits and lets the next batch go (a late insert may still land, as for any timed-out emit);
 * at most `MAX_WAITING_EMITS` wait, so a Postgres that does not answer cannot make them pile up.
 */
export class OrderedWrites {
  private pending: { jobs: DeliveryJob[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writing = false;

  constructor(
    private readonly write: (emits: DeliveryJob[][]) => Promise<void>,
    private readonly timeoutMs: number,
  ) {}

  add(jobs: DeliveryJob[]): Promise<void> {
    if (this.pending.length >= MAX_WAITING_EMITS) {
      return Promise.reject(new Error(`${MAX_WAITING_EMITS} ordered emits already wait for Postgres`));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ jobs, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH_EMITS);
      try {
        await within(
          () => this.write(batch.map((emit) => emit.jobs)),
          this.timeoutMs,
          `Postgres did not answer within ${this.timeoutMs} ms`,
          true,
        );
        for (const emit of batch) emit.resolve();
      } catch (error) {
        for (const emit of batch) emit.reject(error);
      }
    }
    this.writing = false;
  }
}

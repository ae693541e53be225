// The Postgres durable path configured once: the jobs a worker re-inserts keep their own options, and
// `postgresWebhooks()` writes the same job options from every process. The cases it shares with `bullmqWebhooks()`
// (the shared delivery log, per-process overrides refused, a SIGKILLed worker with default options) run over both
// backends in test/durable-queues.test.ts. Real Postgres, real loopback receivers.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryResult } from '../src/core/types.js';
import { createWebhookDispatcher } from '../src/index.js';
import {
  createWebhookWorker,
  migrate,
  pgBossQueue,
  postgresStore,
  postgresWebhooks,
} from '../src/postgres/index.js';
import { until } from './helpers/durable.js';
import { ldEvent } from './helpers/events.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { type Receiver, type Responder, startReceiver } from './helpers/receiver.js';

const BOSS_SCHEMA = 'wd_test_pgwebhooks';

let postgres: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  postgres = await startPostgres();
  pool = new pg.Pool({ connectionString: postgres.url, max: 10 });
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Place {
  queueName: string;
  table: string;
  deliveriesTable: string;
  receiver: Receiver;
  /** The pg-boss rows of this place's queue, archived ones included. */
  jobs(): Promise<
    { id: string; state: string; expire: number; retry_limit: number; data: { attempt?: number } }[]
  >;
}

/** A queue name, webhook tables and a receiver of this test's own. */
async function place(respond?: Responder): Promise<Place> {
  const queueName = `q-${randomUUID().slice(0, 8)}`;
  const table = `webhooks_${randomUUID().slice(0, 8)}`;
  const deliveriesTable = `${table}_log`;
  await migrate(pool, { table, deliveriesTable });
  const receiver = await startReceiver(respond);
  cleanups.push(async () => {
    await receiver.close();
    await pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}, ${deliveriesTable}`);
  });
  const columns = 'id, state, EXTRACT(epoch FROM expire_in)::int AS expire, retry_limit, data';
  return {
    queueName,
    table,
    deliveriesTable,
    receiver,
    jobs: async () =>
      (
        await pool.query(
          `SELECT ${columns} FROM ${BOSS_SCHEMA}.job WHERE name = $1 UNION ALL SELECT ${columns} FROM ${BOSS_SCHEMA}.archive WHERE name = $1`,
          [queueName],
        )
      ).rows,
  };
}

describe('jobs a pg-boss worker re-inserts', () => {
  it("keep the options the emitter wrote into the job, not the worker's (retries and lane deferrals)", async () => {
    // The first attempt of each delivery fails (its retry is re-inserted); each answer takes 150 ms and the lane
    // holds one delivery at a time, so the jobs behind it are deferred (re-inserted too).
    const failed = new Set<unknown>();
    const p = await place((request, _n, res) => {
      const first = !failed.has(request.headers['webhook-id']);
      failed.add(request.headers['webhook-id']);
      setTimeout(() => {
        res.statusCode = first ? 503 : 200;
        res.end();
      }, 150);
      return 'handled';
    });
    const emitter = createWebhookDispatcher({
      store: postgresStore({ pool, table: p.table }),
      queue: pgBossQueue({
        pool,
        schema: BOSS_SCHEMA,
        queueName: p.queueName,
        jobOptions: { expireInSeconds: 5, retryLimit: 3 },
      }),
      allowPrivateNetworks: true,
    });
    cleanups.push(() => emitter.close());
    await emitter.webhooks.create({ url: p.receiver.url });
    const seen: DeliveryResult[] = [];
    const worker = createWebhookWorker({
      pool,
      schema: BOSS_SCHEMA,
      queueName: p.queueName,
      store: postgresStore({ pool, table: p.table }),
      allowPrivateNetworks: true,
      retry: { retries: 2, delayMs: 50, jitter: 0 },
      health: false,
      perWebhookConcurrency: 1,
      deferAfterMs: 100,
      pollingIntervalMs: 100,
      onDelivery: (result) => seen.push(result),
    });
    cleanups.push(() => worker.close({ deadlineMs: 1000 }));

    for (let i = 0; i < 6; i++) await emitter.emit(ldEvent());
    await until(() => seen.length === 6, 'six deliveries', 30_000);

    expect(seen.map((r) => r.outcome)).toEqual(seen.map(() => 'delivered'));
    const jobs = await p.jobs();
    // Re-inserted rows: the retries (an attempt number) and the deferrals (more rows than emits and retries).
    expect(jobs.some((j) => (j.data.attempt ?? 0) > 0)).toBe(true);
    expect(jobs.length).toBeGreaterThan(6 + jobs.filter((j) => (j.data.attempt ?? 0) > 0).length);
    expect(jobs.map((j) => [j.expire, j.retry_limit])).toEqual(jobs.map(() => [5, 3]));
  }, 60_000);
});

describe('postgresWebhooks(): emitters and workers from one set of options', () => {
  it('writes the same job options from every process, derived from its own timeoutMs, and keeps them on re-insert', async () => {
    const p = await place((_request, n) => (n === 0 ? 503 : 200));
    const webhooks = postgresWebhooks({
      pool,
      table: p.table,
      deliveriesTable: p.deliveriesTable,
      bossSchema: BOSS_SCHEMA,
      queueName: p.queueName,
      allowPrivateNetworks: true,
      timeoutMs: 60_000,
      retry: { retries: 1, delayMs: 50, jitter: 0 },
      jobOptions: { retryLimit: 4 },
    });
    // one attempt of 60 s, a store read of 10 s and the lane's 1 s, plus the 5 s margin
    expect(webhooks.jobOptions).toEqual({ expireInSeconds: 76, retryLimit: 4, retryDelay: 1 });
    await webhooks.migrate();
    const emitter = webhooks.dispatcher();
    cleanups.push(() => emitter.close());
    const seen: DeliveryResult[] = [];
    const worker = webhooks.worker({ onDelivery: (result) => seen.push(result), pollingIntervalMs: 100 });
    cleanups.push(() => worker.close({ deadlineMs: 1000 }));
    await emitter.webhooks.create({ url: p.receiver.url });

    await emitter.emit(ldEvent());
    await until(() => seen.length === 1, 'the retried delivery');

    expect(seen[0]).toMatchObject({ outcome: 'delivered', attempts: 2 });
    const jobs = await p.jobs();
    expect(jobs).toHaveLength(2);
    expect(jobs.map((j) => [j.expire, j.retry_limit])).toEqual([
      [76, 4],
      [76, 4],
    ]);
  }, 30_000);

  it('refuses bad setup options, naming the field', () => {
    expect(() => postgresWebhooks({ pool: undefined as never })).toThrow(/pool/);
    expect(() => postgresWebhooks({ pool, maintenanceIntervalSeconds: 0 })).toThrow(
      /maintenanceIntervalSeconds/,
    );
    expect(() => postgresWebhooks({ pool, timeoutMs: -1 })).toThrow(/`timeoutMs`/);
  });
});

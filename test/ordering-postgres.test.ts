import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookDispatcher, type WebhookDispatcher } from '../src/index.js';
import { migrate, pgBossQueue, postgresStore } from '../src/postgres/index.js';
import { EVENTS, failingFirstAttempts, flakyReceiver, inOrder } from './helpers/ordering.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

// `ordering: 'fifo'` on the pg-boss queue, on a real Postgres: one emitter and two workers (each its own
// dispatcher and pool, as two processes would have), a receiver that fails a seeded 20% of first attempts.

const BOSS_SCHEMA = 'wd_test_fifo';

let postgres: TestPostgres;
let pool: pg.Pool;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
}, 60_000);
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
});

async function until(test: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A dispatcher as one process would open it: its own pool, the shared webhook table and pg-boss queue. */
function process_(table: string, queueName: string, worker: boolean): WebhookDispatcher {
  const own = new pg.Pool({ connectionString: postgres.url, max: 6 });
  const queue = pgBossQueue({
    pool: own,
    schema: BOSS_SCHEMA,
    queueName,
    worker: worker && { concurrency: 16, pollingIntervalMs: 500 },
  });
  const dispatcher = createWebhookDispatcher({
    store: postgresStore({ pool: own, table }),
    queue,
    allowPrivateNetworks: true,
    retry: { schedule: [20], jitter: 0 },
    health: false,
  });
  cleanups.push(async () => {
    await dispatcher.close({ deadlineMs: 2000 });
    await own.end();
  });
  return dispatcher;
}

describe("ordering: 'fifo' on Postgres (pg-boss)", () => {
  it('200 events arrive in emit order across two workers through 20% failed first attempts', async () => {
    const table = `fifo_${randomUUID().slice(0, 8)}`;
    const queueName = `fifo-${randomUUID().slice(0, 8)}`;
    await migrate(pool, { table, deliveriesTable: `${table}_log` });
    cleanups.push(() =>
      pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}, ${table}_log`),
    );
    const failing = failingFirstAttempts(7);
    const fifo = await flakyReceiver(failing);
    const unordered = await flakyReceiver(failing);
    cleanups.push(
      () => fifo.receiver.close(),
      () => unordered.receiver.close(),
    );

    const emitter = process_(table, queueName, false);
    const ordered = await emitter.webhooks.create({
      url: fifo.receiver.url,
      events: ['*'],
      ordering: 'fifo',
    });
    await emitter.webhooks.create({ url: unordered.receiver.url, events: ['*'] });
    const workers = [process_(table, queueName, true), process_(table, queueName, true)];
    // Each worker takes jobs once its dispatcher has opened its queue; each reads the field back from the store.
    for (const worker of workers) expect((await worker.webhooks.get(ordered.id))?.ordering).toBe('fifo');

    // Emitted one after the other from one process, without waiting for each other.
    const emits = Array.from({ length: EVENTS }, (_, i) =>
      emitter.emit({ id: `e${i}`, type: 'flag-updated' }),
    );
    const queued = (await Promise.all(emits)).flat();
    expect(queued.filter((result) => result.outcome === 'queued')).toHaveLength(2 * EVENTS);

    await until(
      () => fifo.delivered.length >= EVENTS && unordered.delivered.length >= EVENTS,
      'every delivery',
      90_000,
    );
    // Each event delivered once, in emit order; a failed first attempt's retry came before the next event.
    expect(fifo.delivered).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
    expect(fifo.receiver.requests).toHaveLength(EVENTS + failing.size);
    // Beside it, the unordered webhook on the same queue got everything too, its retries late (reordered).
    expect([...unordered.delivered].sort((a, b) => a - b)).toEqual(fifo.delivered);
    expect(inOrder(unordered.delivered)).toBe(false);
    // The workers held jobs that had others of their webhook ahead (written back, marked held).
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${BOSS_SCHEMA}.job WHERE name = $1 AND data ? 'held'`,
      [queueName],
    );
    expect(rows[0].n).toBeGreaterThan(0);
  }, 120_000);
});

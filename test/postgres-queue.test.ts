import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryResult, WebhookStore } from '../src/core/types.js';
import { type DeliveryEngine, type DeliveryJob, deliveryIdFor, OptionsError } from '../src/extend.js';
import { createWebhookDispatcher, type WebhookDispatcher, WebhookError } from '../src/index.js';
import {
  createWebhookWorker,
  jobIdFor,
  migrate,
  type PgBossDeliveryQueue,
  pgBossQueue,
  postgresStore,
} from '../src/postgres/index.js';
import type { PgEmitterFixtureConfig } from './fixtures/pg-emitter.js';
import type { PgWorkerFixtureConfig } from './fixtures/pg-worker.js';
import { bundleFixture, spawnWorkerProcess, type WorkerProcess } from './helpers/durable.js';
import { ldEvent } from './helpers/events.js';
import { bigFanOut, expectSignedCopies, peakRssGrowth } from './helpers/fan-out.js';
import { startOutageProxy, startPostgres, type TestPostgres } from './helpers/postgres.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER_BUNDLE = `${ROOT}node_modules/.cache/webhook-dispatcher-tests/pg-worker.mjs`;
const EMITTER_BUNDLE = `${ROOT}node_modules/.cache/webhook-dispatcher-tests/pg-emitter.mjs`;
const BOSS_SCHEMA = 'wd_test_pgboss';

let postgres: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  postgres = await startPostgres();
  pool = new pg.Pool({ connectionString: postgres.url, max: 10 });
  await bundleFixture(`${ROOT}test/fixtures/pg-emitter.ts`, EMITTER_BUNDLE);
  await bundleFixture(`${ROOT}test/fixtures/pg-worker.ts`, WORKER_BUNDLE);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface World {
  queueName: string;
  table: string;
  store: WebhookStore;
  queue: PgBossDeliveryQueue;
  dispatcher: WebhookDispatcher;
  receiver: Receiver;
  /** Rows of this world's pg-boss queue. */
  jobs(): Promise<{ id: string; state: string; data: Record<string, unknown> }[]>;
}

async function world(
  respond?: Parameters<typeof startReceiver>[0],
  queueOptions: Partial<Parameters<typeof pgBossQueue>[0]> = {},
): Promise<World> {
  const queueName = `q-${randomUUID().slice(0, 8)}`;
  const table = `webhooks_${randomUUID().slice(0, 8)}`;
  await migrate(pool, { table, deliveriesTable: `${table}_log` });
  const store = postgresStore({ pool, table });
  const queue = pgBossQueue({ pool, schema: BOSS_SCHEMA, queueName, ...queueOptions });
  const dispatcher = createWebhookDispatcher({ store, queue, allowPrivateNetworks: true, retry: 0 });
  const receiver = await startReceiver(respond);
  cleanups.push(async () => {
    await dispatcher.close();
    await receiver.close();
    await pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}, ${table}_log`);
  });
  return {
    queueName,
    table,
    store,
    queue,
    dispatcher,
    receiver,
    jobs: async () =>
      (
        await pool.query(
          `SELECT id, state, data FROM ${BOSS_SCHEMA}.job WHERE name = $1 UNION ALL SELECT id, state, data FROM ${BOSS_SCHEMA}.archive WHERE name = $1`,
          [queueName],
        )
      ).rows,
  };
}

async function spawnWorker(
  w: World,
  name: string,
  options: { concurrency?: number; expireInSeconds?: number; retry?: PgWorkerFixtureConfig['retry'] } = {},
): Promise<WorkerProcess> {
  const config: PgWorkerFixtureConfig = {
    name,
    databaseUrl: postgres.url,
    schema: BOSS_SCHEMA,
    queueName: w.queueName,
    table: w.table,
    concurrency: options.concurrency ?? 8,
    expireInSeconds: options.expireInSeconds ?? 300,
    retry: options.retry,
  };
  return spawnWorkerProcess(WORKER_BUNDLE, config, cleanups);
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** What `promise` rejects with; fails when it resolves. */
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );

/** The stored event bodies under this key (one at most). */
async function storedBodies(key: string): Promise<string[]> {
  const { rows } = await pool.query(`SELECT body FROM ${BOSS_SCHEMA}.webhook_event_bodies WHERE key = $1`, [
    key,
  ]);
  return rows.map((row) => row.body);
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The jobs `emit` would make for one event to these webhooks (the dispatcher's own delivery ids). */
function jobsFor(event: ReturnType<typeof ldEvent>, webhookIds: string[]): DeliveryJob[] {
  const eventId = event._id as string;
  return webhookIds.map((webhookId) => ({
    deliveryId: deliveryIdFor(eventId, webhookId),
    webhookId,
    eventId,
    event,
    eventBody: JSON.stringify(event),
  }));
}

describe('pgBossQueue: emit', () => {
  it('writes a fan-out as one batched insert', async () => {
    const w = await world();
    await w.queue.ready();
    const event = ldEvent();
    const jobs = jobsFor(
      event,
      Array.from({ length: 500 }, (_, i) => `hook${i}`),
    );
    const client = await pool.connect();
    const statements: string[] = [];
    const counting = {
      query: (text: string, values?: unknown[]) => {
        statements.push(text.trim().split(/\s+/).slice(0, 2).join(' '));
        return client.query(text, values);
      },
    };
    try {
      await client.query('BEGIN');
      const results = await w.queue.enqueueMany(jobs, { transaction: counting });
      await client.query('COMMIT');
      expect(results.every((r) => r.outcome === 'queued')).toBe(true);
    } finally {
      client.release();
    }
    // One INSERT of the event's body, one for the 500 jobs, one NOTIFY to wake the workers.
    expect(statements).toHaveLength(3);
    expect(statements[0]).toMatch(/^INSERT INTO/);
    expect(statements[1]).toMatch(/^WITH defaults/);
    expect(statements[2]).toMatch(/pg_notify/);
    expect(await w.jobs()).toHaveLength(500);
  });

  it('does not queue the same delivery twice, but a redelivery is a new job with the same webhook-id', async () => {
    const w = await world();
    const event = ldEvent();
    const [job] = jobsFor(event, ['hook1']);
    const first = await w.queue.enqueue(job as DeliveryJob);
    const again = await w.queue.enqueue(job as DeliveryJob);
    expect([first.outcome, again.outcome]).toEqual(['queued', 'queued']);
    expect(await w.jobs()).toHaveLength(1);

    await w.queue.enqueue({ ...(job as DeliveryJob), redelivery: true });
    const jobs = await w.jobs();
    expect(jobs).toHaveLength(2);
    expect(new Set(jobs.map((j) => j.data.deliveryId))).toEqual(new Set([job?.deliveryId]));
    expect(jobs.find((j) => j.id !== jobIdFor(job?.deliveryId as string))?.data.redelivery).toBe(true);
  });

  it('writes inside the host transaction: rollback sends nothing, commit sends everything, once', async () => {
    const w = await world();
    const hooks = [
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` }),
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` }),
    ];
    const worker = await spawnWorker(w, 'one');
    const rolledBack = ldEvent();
    const committed = ldEvent();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const results = await w.queue.enqueueMany(
        jobsFor(
          rolledBack,
          hooks.map((h) => h.id),
        ),
        { transaction: client },
      );
      expect(results.map((r) => r.outcome)).toEqual(['queued', 'queued']);
      await client.query('ROLLBACK');

      await client.query('BEGIN');
      await w.queue.enqueueMany(
        jobsFor(
          committed,
          hooks.map((h) => h.id),
        ),
        { transaction: client },
      );
      // Not visible to any worker before COMMIT.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(w.receiver.requests).toHaveLength(0);
      await client.query('COMMIT');
    } finally {
      client.release();
    }

    await worker.waitForResults(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(w.receiver.requests.map((r) => JSON.parse(r.body)._id)).toEqual([committed._id, committed._id]);
    expect(w.receiver.requests.map((r) => r.url).sort()).toEqual(['/a', '/b']);
    expect(worker.results.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    expect((await w.jobs()).map((j) => j.data.eventId)).toEqual([committed._id, committed._id]);
  });

  it("keeps the emit's trace context with the job, and drops one that cannot be stored instead of failing", async () => {
    const w = await world();
    const [plain, hostile] = jobsFor(ldEvent(), ['hook1', 'hook2']) as [DeliveryJob, DeliveryJob];
    const cyclic: Record<string, unknown> = { traceparent: 'x' };
    cyclic.self = cyclic;
    const results = await w.queue.enqueueMany([
      { ...plain, emitContext: { traceparent: '00-abc-def-01' } },
      { ...hostile, emitContext: cyclic },
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['queued', 'queued']);
    const byWebhook = new Map((await w.jobs()).map((j) => [j.data.webhookId, j.data]));
    expect(byWebhook.get('hook1')?.emitContext).toEqual({ traceparent: '00-abc-def-01' });
    expect(byWebhook.get('hook2')).not.toHaveProperty('emitContext');
  });

  it('rejects with ERR_ENQUEUE_FAILED, not a failed result, when the transaction client is not a client or is aborted', async () => {
    const w = await world();
    const [job] = jobsFor(ldEvent(), ['hook1']);
    const notAClient = await rejection(w.queue.enqueue(job as DeliveryJob, { transaction: {} }));
    expect(notAClient).toMatchObject({ code: 'ERR_ENQUEUE_FAILED' });
    expect((notAClient as Error).message).toMatch(/`transaction` to be a pg client/);

    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1/0').catch(() => {});
      const aborted = await rejection(
        w.queue.enqueueMany(jobsFor(ldEvent(), ['hook1', 'hook2']), { transaction: client }),
      );
      expect(aborted).toBeInstanceOf(WebhookError);
      expect(aborted).toMatchObject({ code: 'ERR_ENQUEUE_FAILED' });
      expect((aborted as Error).message).toMatch(/aborted/);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await w.jobs()).toHaveLength(0);
  });
});

describe('pgBossQueue: the event body stored once per emit', () => {
  it('queues a 1 MiB event to 10,000 webhooks with table bytes bounded by the event size plus 2 KB a job (emitter memory: 4 KB); deliveries verify', async () => {
    const w = await world();
    await w.queue.ready();
    const { hooks, eventBody, jobs, bound } = await bigFanOut(w);

    const { value: results, growth, ms } = await peakRssGrowth(() => w.queue.enqueueMany(jobs));

    const { rows } = await pool.query(
      `SELECT (SELECT sum(pg_column_size(j.*)) FROM ${BOSS_SCHEMA}.job j WHERE name = $1)::bigint AS jobs,
              (SELECT sum(octet_length(body)) FROM ${BOSS_SCHEMA}.webhook_event_bodies
                WHERE key IN (SELECT data->>'eventBodyRef' FROM ${BOSS_SCHEMA}.job WHERE name = $1))::bigint AS body`,
      [w.queueName],
    );
    const tableBytes = Number(rows[0].jobs) + Number(rows[0].body);
    console.log(
      `1 MiB x 10,000 on pg-boss: enqueueMany ${ms} ms, emitter RSS +${(growth / 1048576).toFixed(1)} MiB, ` +
        `job rows ${(Number(rows[0].jobs) / 1048576).toFixed(1)} MiB + body ${(Number(rows[0].body) / 1048576).toFixed(2)} MiB ` +
        `(bound ${(bound / 1048576).toFixed(1)} MiB)`,
    );
    expect(results.filter((r) => r.outcome !== 'queued')).toHaveLength(0);
    expect(Number(rows[0].body)).toBe(Buffer.byteLength(eventBody));
    expect(tableBytes).toBeLessThan(bound);
    // The emitter's peak also holds the insert's JSON, the row objects and the results of 10,000 jobs (and V8's
    // slack): 2.6 KB a job measured, so its bound allows 4 KB a job. Before, the insert failed ("Invalid string
    // length") after growing by hundreds of MB.
    expect(growth).toBeLessThan(3 * eventBody.length + 4096 * jobs.length);

    // The three webhooks that exist get their delivery (the others' jobs are dropped here rather than sent).
    await pool.query(
      `DELETE FROM ${BOSS_SCHEMA}.job WHERE name = $1 AND NOT (data->>'webhookId' = ANY($2))`,
      [w.queueName, hooks.map((h) => h.id)],
    );
    const worker = await spawnWorker(w, 'one');
    await worker.waitForResults(3);
    expect(worker.results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
    expectSignedCopies(w.receiver.requests, ['/0', '/1', '/2'], eventBody, 'shh');
  }, 180_000);

  it('removes a stored body once no job needs it, and keeps it while one does', async () => {
    const w = await world();
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` });
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` });
    await w.dispatcher.emit(ldEvent());
    const ref = (await w.jobs())[0]?.data.eventBodyRef as string;
    const orphan = `orphan-${randomUUID()}`;
    await pool.query(`INSERT INTO ${BOSS_SCHEMA}.webhook_event_bodies (key, body) VALUES ($1, '{}')`, [
      orphan,
    ]);
    const age = () =>
      pool.query(
        `UPDATE ${BOSS_SCHEMA}.webhook_event_bodies SET written_at = now() - interval '2 hours' WHERE key = ANY($1)`,
        [[ref, orphan]],
      );
    // A worker sweeps the schema's bodies when it starts (and every 10 minutes): one of another queue will do.
    const sweeper = async () => {
      const other = createWebhookWorker({
        pool,
        schema: BOSS_SCHEMA,
        queueName: `other-${randomUUID().slice(0, 8)}`,
        store: w.store,
      });
      cleanups.push(() => other.close());
      await other.ready();
    };
    await age();
    await sweeper();
    await until(async () => (await storedBodies(orphan)).length === 0, 'the orphan body to go');
    expect(await storedBodies(ref)).toHaveLength(1);

    const worker = await spawnWorker(w, 'one');
    await worker.waitForResults(2);
    await until(async () => (await w.jobs()).every((j) => j.state === 'completed'), 'the jobs to complete');
    await age();
    await sweeper();
    await until(async () => (await storedBodies(ref)).length === 0, 'the delivered body to go');
  });
});

describe('createWebhookWorker (pg-boss)', () => {
  it('delivers with the same body, signature and webhook-id as in-process delivery', async () => {
    const w = await world();
    const hook = await w.dispatcher.webhooks.create({
      url: w.receiver.url,
      secret: 'shh',
      bodyTemplate: '{"flag":"{{event.name}}","raw":{{{eventJson}}}}',
    });
    const event = ldEvent('production', { changedAt: new Date('2024-10-16T12:00:00.000Z') });
    const expected = await w.dispatcher.preview(hook.id, event);
    const [queued] = await w.dispatcher.emit(event);
    const worker = await spawnWorker(w, 'one');

    await worker.waitForResults(1);

    const [request] = w.receiver.requests;
    expect(request?.body).toBe(expected.body);
    expect(request?.headers['x-ld-signature']).toBe(expected.headers['x-ld-signature']);
    expect(request?.headers['webhook-id']).toBe(queued?.deliveryId);
    expect(worker.results[0]).toMatchObject({
      deliveryId: queued?.deliveryId,
      outcome: 'delivered',
      ok: true,
    });
    await until(async () => (await w.jobs())[0]?.state === 'completed', 'the job to complete');
  });

  it('loses nothing when one of two workers is SIGKILLed mid-delivery: the other redelivers its jobs with the same webhook-id', async () => {
    // Worker "a" never gets an answer, so its jobs are certainly mid-delivery when it is killed.
    // The emitter writes each job's expiry: a job held longer than 2 s is taken to be a dead worker's.
    const w = await world(
      (request, _n, res) => {
        if (request.headers['x-test-worker'] === 'a') return 'handled';
        res.statusCode = 200;
        res.end('ok');
        return 'handled';
      },
      { jobOptions: { expireInSeconds: 2, retryDelay: 0 } },
    );
    await w.dispatcher.webhooks.create({ url: w.receiver.url });
    const a = await spawnWorker(w, 'a', { concurrency: 4, expireInSeconds: 2 });
    const events = Array.from({ length: 30 }, () => ldEvent());
    const emitted = (await Promise.all(events.map((event) => w.dispatcher.emit(event)))).flat();
    const expected = new Set(emitted.map((r) => r.deliveryId));
    expect(expected.size).toBe(30);
    const from = (name: string) => w.receiver.requests.filter((r) => r.headers['x-test-worker'] === name);
    await until(() => from('a').length === 4, 'worker a to hold 4 deliveries');

    await a.kill();
    const b = await spawnWorker(w, 'b', { concurrency: 4, expireInSeconds: 2 });
    await until(
      () => new Set(from('b').map((r) => header(r.headers['webhook-id']))).size === 30,
      'all 30',
      30_000,
    );

    const heldByA = from('a').map((r) => header(r.headers['webhook-id']));
    const deliveredByB = new Set(from('b').map((r) => header(r.headers['webhook-id'])));
    expect(heldByA).toHaveLength(4);
    for (const id of heldByA) expect(deliveredByB.has(id)).toBe(true);
    expect(deliveredByB).toEqual(expected);
    expect(b.results.every((r) => r.outcome === 'delivered')).toBe(true);
    await until(
      async () => (await w.jobs()).filter((j) => j.state === 'completed').length === 30,
      'every job to complete',
    );
  }, 60_000);

  it('starts several workers at once on a fresh database: the losers of pg-boss install and createQueue races try again', async () => {
    // Without the retry one start in two or three rounds failed with a duplicate pg_namespace key (CREATE
    // SCHEMA in pg-boss's install) or a deadlock in create_queue.
    for (let round = 0; round < 5; round++) {
      const schema = `wd_test_race_${randomUUID().slice(0, 8)}`;
      cleanups.push(() => pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      const queues = Array.from({ length: 4 }, () => pgBossQueue({ pool, schema, queueName: 'race' }));
      cleanups.push(() => Promise.all(queues.map((queue) => queue.close())));
      const started = await Promise.allSettled(queues.map((queue) => queue.ready()));
      expect(started.filter((result) => result.status === 'rejected')).toEqual([]);
      const { rows } = await pool.query(`SELECT name FROM ${schema}.queue`);
      expect(rows).toEqual([{ name: 'race' }]);
    }
  }, 60_000);

  it('refuses bad options with the field named', () => {
    expect(() => createWebhookWorker({ pool } as never)).toThrow(OptionsError);
    expect(() => createWebhookWorker({ pool } as never)).toThrow(/`store`/);
    expect(() => pgBossQueue({} as never)).toThrow(/`pool`/);
    expect(() => pgBossQueue({ pool: {} as never })).toThrow(/`pool` to be a pg Pool/);
    expect(() => pgBossQueue({ pool, queueName: 'a b' })).toThrow(/`queueName`/);
    expect(() => pgBossQueue({ pool, worker: { concurrency: 0 } })).toThrow(/`worker.concurrency`/);
    expect(() => pgBossQueue({ pool, enqueueTimeoutMs: -1 })).toThrow(/`enqueueTimeoutMs`/);
  });
});

describe('pgBossQueue under a Postgres outage', () => {
  it('settles emit within enqueueTimeoutMs with ENQUEUE_FAILED while Postgres is away, closes on time, and loses nothing queued before or after', async () => {
    const proxy = await startOutageProxy(postgres);
    cleanups.push(() => proxy.close());
    const proxied = new pg.Pool({ connectionString: proxy.url, max: 5, connectionTimeoutMillis: 1000 });
    proxied.on('error', () => {});
    cleanups.push(() => proxied.end().catch(() => {}));
    const w = await world();
    const hook = await w.dispatcher.webhooks.create({ url: w.receiver.url });
    const reported: DeliveryResult[] = [];
    const queue = pgBossQueue({
      pool: proxied,
      schema: BOSS_SCHEMA,
      queueName: w.queueName,
      enqueueTimeoutMs: 800,
    });
    const emitter = createWebhookDispatcher({
      store: w.store,
      queue,
      allowPrivateNetworks: true,
      onDelivery: (r) => reported.push(r),
    });
    cleanups.push(() => emitter.close());
    const before = ldEvent();
    expect((await emitter.emit(before)).map((r) => r.outcome)).toEqual(['queued']);

    // Stopped: connections reset, new ones refused.
    await proxy.down();
    let started = Date.now();
    const [refused] = await emitter.emit(ldEvent());
    expect(Date.now() - started).toBeLessThan(3000);
    expect(refused).toMatchObject({
      webhookId: hook.id,
      outcome: 'failed',
      error: { code: 'ENQUEUE_FAILED' },
    });
    // A black hole: connections accepted, never answered. Bounded by enqueueTimeoutMs.
    await proxy.hang();
    started = Date.now();
    const [hung] = await emitter.emit(ldEvent());
    const waited = Date.now() - started;
    expect(hung).toMatchObject({ outcome: 'failed', error: { code: 'ENQUEUE_FAILED' } });
    expect(hung?.error?.message).toMatch(/within 800 ms|timeout/);
    expect(waited).toBeGreaterThanOrEqual(700);
    expect(waited).toBeLessThan(3000);
    expect(reported.map((r) => r.error?.code)).toEqual(['ENQUEUE_FAILED', 'ENQUEUE_FAILED']);

    // Back: the next emit is queued again.
    await proxy.up();
    const after = ldEvent();
    await until(
      async () => (await emitter.emit(after))[0]?.outcome === 'queued',
      'an emit to be queued again',
      10_000,
    );
    const worker = await spawnWorker(w, 'one');
    await worker.waitForResults(2);
    expect(w.receiver.requests.map((r) => JSON.parse(r.body)._id).sort()).toEqual(
      [before._id, after._id].sort(),
    );
  }, 40_000);

  it('close({ deadlineMs }) of a worker returns on time while Postgres does not answer', async () => {
    const proxy = await startOutageProxy(postgres);
    cleanups.push(() => proxy.close());
    const proxied = new pg.Pool({ connectionString: proxy.url, max: 5, connectionTimeoutMillis: 1000 });
    proxied.on('error', () => {});
    const w = await world((_request, _n, _res) => 'handled');
    await w.dispatcher.webhooks.create({ url: w.receiver.url });
    const worker = createWebhookWorker({
      pool: proxied,
      schema: BOSS_SCHEMA,
      queueName: w.queueName,
      store: w.store,
      allowPrivateNetworks: true,
      retry: 0,
    });
    await worker.ready();
    await w.dispatcher.emit(ldEvent());
    await w.receiver.waitFor(1);
    await proxy.hang();

    const started = Date.now();
    await worker.close({ deadlineMs: 500 });
    expect(Date.now() - started).toBeLessThan(4000);
  }, 30_000);
});

describe('pgBossQueue: durable retries through the engine', () => {
  it('schedules each retry as a delayed job carrying the attempt number; a new worker continues the schedule', async () => {
    const w = await world();
    const [job] = jobsFor(ldEvent(), ['hook1']);
    const seen: { worker: string; attempt: number; at: number }[] = [];
    const reported: DeliveryResult[] = [];
    // A stand-in for the dispatcher's engine: attempts 0 and 1 fail and ask for a retry in 400 ms, attempt 2 works.
    const engine = (worker: string): DeliveryEngine => ({
      deliver: () => Promise.reject(new Error('not used by a durable queue')),
      attempt: async (j: DeliveryJob) => {
        const attempt = j.attempt ?? 0;
        seen.push({ worker, attempt, at: Date.now() });
        if (attempt < 2) {
          return {
            retry: {
              job: { ...j, attempt: attempt + 1, firstAttemptAt: j.firstAttemptAt ?? Date.now() },
              delayMs: 400,
            },
          };
        }
        return {
          result: {
            ...queuedResultOf(j),
            ok: true,
            outcome: 'delivered',
            status: 200,
            attempts: attempt + 1,
          },
        };
      },
    });
    const unused = () => Promise.reject(new Error('not used when an engine is given'));
    const first = pgBossQueue({
      pool,
      schema: BOSS_SCHEMA,
      queueName: w.queueName,
      worker: { pollingIntervalMs: 100 },
    });
    first.start(unused, (r) => reported.push(r), engine('first'));
    await first.ready();
    await first.enqueue(job as DeliveryJob);
    await until(() => seen.length === 1, 'the first attempt');
    // A deploy: the first worker goes away while the retry waits in Postgres.
    await first.close();
    expect(seen.map((s) => s.attempt)).toEqual([0]);

    const second = pgBossQueue({
      pool,
      schema: BOSS_SCHEMA,
      queueName: w.queueName,
      worker: { pollingIntervalMs: 100 },
    });
    cleanups.push(() => second.close());
    second.start(unused, (r) => reported.push(r), engine('second'));
    await until(() => reported.length === 1, 'the final outcome');

    expect(seen.map((s) => [s.worker, s.attempt])).toEqual([
      ['first', 0],
      ['second', 1],
      ['second', 2],
    ]);
    for (let i = 1; i < seen.length; i++) {
      expect((seen[i] as { at: number }).at - (seen[i - 1] as { at: number }).at).toBeGreaterThanOrEqual(380);
    }
    expect(reported).toMatchObject([{ deliveryId: job?.deliveryId, outcome: 'delivered', attempts: 3 }]);
    // The outcome is reported before the job's completion is written (batched with others finishing meanwhile).
    let jobs = await w.jobs();
    await until(async () => {
      jobs = await w.jobs();
      return jobs.every((j) => j.state === 'completed');
    }, 'the last job to be completed');
    expect(jobs.map((j) => [j.data.deliveryId, j.data.attempt ?? 0, j.state]).sort()).toEqual([
      [job?.deliveryId, 0, 'completed'],
      [job?.deliveryId, 1, 'completed'],
      [job?.deliveryId, 2, 'completed'],
    ]);
    // The first attempt's time travels with the retries.
    const firstAt = jobs.filter((j) => j.data.attempt).map((j) => j.data.firstAttemptAt);
    expect(firstAt).toHaveLength(2);
    expect(firstAt[0]).toBe(firstAt[1]);
    expect(firstAt[0]).toBeGreaterThanOrEqual(seen[0]?.at as number);
  });
});

function queuedResultOf(job: DeliveryJob) {
  return {
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    eventId: job.eventId,
    ok: false,
    outcome: 'queued',
    attempts: 0,
    durationMs: 0,
  };
}

describe('through the dispatcher', () => {
  it('emit(event, { transaction }): rollback sends nothing, commit sends everything, once, written in one insert', async () => {
    const w = await world();
    const hooks = [
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` }),
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` }),
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/c` }),
    ];
    const worker = await spawnWorker(w, 'one');
    const rolledBack = ldEvent();
    const committed = ldEvent();
    const client = await pool.connect();
    const inserts: string[] = [];
    const counting = {
      query: (text: string, values?: unknown[]) => {
        if (/INSERT INTO/i.test(text)) inserts.push(text);
        return client.query(text, values);
      },
    };
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE flags (key text) ON COMMIT DROP');
      await client.query("INSERT INTO flags VALUES ('never')");
      const results = await w.dispatcher.emit(rolledBack, { transaction: counting });
      expect(results.map((r) => r.outcome)).toEqual(['queued', 'queued', 'queued']);
      await client.query('ROLLBACK');

      await client.query('BEGIN');
      await w.dispatcher.emit(committed, { transaction: counting });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    // The fan-out of each emit is one INSERT of its jobs, after one of the event's body.
    expect(inserts).toHaveLength(4);
    await worker.waitForResults(3);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(w.receiver.requests.map((r) => JSON.parse(r.body)._id)).toEqual([
      committed._id,
      committed._id,
      committed._id,
    ]);
    expect(w.receiver.requests.map((r) => r.url).sort()).toEqual(['/a', '/b', '/c']);
    expect(worker.results).toHaveLength(3);
    expect(hooks).toHaveLength(3);
  });

  it('emit(event, { transaction }) rejects when its deliveries cannot be written, so the host rolls back its own change too', async () => {
    const w = await world(undefined, { enqueueTimeoutMs: 500 });
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` });
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` });
    await w.queue.ready();
    const hostTable = `host_${randomUUID().slice(0, 8)}`;
    await pool.query(`CREATE TABLE ${hostTable} (key text)`);
    cleanups.push(() => pool.query(`DROP TABLE ${hostTable}`));
    // Another session holds pg-boss's job table: the insert waits past enqueueTimeoutMs.
    const blocker = await pool.connect();
    const host = await pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE ${BOSS_SCHEMA}.job IN EXCLUSIVE MODE`);
      // The host, written the usual way: COMMIT after its work, ROLLBACK on any error.
      await host.query('BEGIN');
      await host.query(`INSERT INTO ${hostTable} VALUES ('changed')`);
      const emitted = await w.dispatcher.emit(ldEvent(), { transaction: host }).then(
        (results) => ({ results, error: undefined }),
        (error: unknown) => ({ results: undefined, error }),
      );
      const ended = host.query(emitted.error ? 'ROLLBACK' : 'COMMIT');
      await blocker.query('ROLLBACK');
      await ended;

      expect(emitted.results).toBeUndefined();
      expect(emitted.error).toBeInstanceOf(WebhookError);
      expect(emitted.error).toMatchObject({ code: 'ERR_ENQUEUE_FAILED' });
      expect((emitted.error as Error).message).toMatch(/roll it back: Postgres did not answer within 500 ms/);
    } finally {
      blocker.release();
      host.release();
    }
    expect((await pool.query(`SELECT key FROM ${hostTable}`)).rows).toEqual([]);
    expect(await w.jobs()).toEqual([]);
  });

  it('tenant isolation holds on pg-boss: an emit with a tenant reaches only its webhooks, whatever the others allow', async () => {
    const w = await world();
    const greedy = [{ effect: 'allow' as const, actions: ['*'], resources: ['proj/*:env/*:flag/*'] }];
    const acme = await w.dispatcher.webhooks.create({
      url: `${w.receiver.url}/acme`,
      tenant: 'acme',
      statements: greedy,
    });
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/ACME`, tenant: 'ACME', statements: greedy });
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/none`, statements: greedy });
    const worker = await spawnWorker(w, 'one');
    const queued = await w.dispatcher.emit(ldEvent(), { tenant: 'acme' });
    expect(queued.map((r) => r.webhookId)).toEqual([acme.id]);
    await worker.waitForResults(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(w.receiver.requests.map((r) => r.url)).toEqual(['/acme']);
    expect(worker.results).toMatchObject([{ webhookId: acme.id, tenant: 'acme', ok: true }]);
  });

  it('an emitting process SIGKILLed right after COMMIT loses nothing: a worker delivers every committed delivery', async () => {
    const w = await world();
    const hooks = [
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` }),
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` }),
    ];
    const eventIds = Array.from({ length: 10 }, (_, i) => `killed-${randomUUID().slice(0, 8)}-${i}`);
    const config: PgEmitterFixtureConfig = {
      databaseUrl: postgres.url,
      schema: BOSS_SCHEMA,
      queueName: w.queueName,
      table: w.table,
      eventIds,
    };
    const emitter = fork(EMITTER_BUNDLE, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const outcomes: string[] = [];
    emitter.on('message', (message: { outcomes: string[] }) => outcomes.push(...message.outcomes));
    const [, signal] = await once(emitter, 'exit');
    expect(signal).toBe('SIGKILL');
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => 'queued'));

    const worker = await spawnWorker(w, 'one');
    await worker.waitForResults(20);
    const got = w.receiver.requests.map((r) => `${r.url} ${JSON.parse(r.body)._id}`).sort();
    expect(got).toEqual(eventIds.flatMap((id) => [`/a ${id}`, `/b ${id}`]).sort());
    expect(hooks).toHaveLength(2);
  }, 30_000);

  it('retries are delayed jobs with the attempt number: a worker SIGKILLed during the wait, another continues from the right attempt', async () => {
    // 503 twice, then 200: three attempts, 1.5 s apart.
    const w = await world((_request, n) => (n < 2 ? 503 : 200));
    await w.dispatcher.webhooks.create({ url: w.receiver.url });
    const retry = { retries: 3, delayMs: 1500, jitter: 0 };
    const a = await spawnWorker(w, 'a', { retry });
    const [queued] = await w.dispatcher.emit(ldEvent());
    await w.receiver.waitFor(1);
    // The retry waits in Postgres as a delayed job; nobody sleeps on it. Kill the worker that made attempt 1.
    await until(async () => (await w.jobs()).length === 2, 'the retry job');
    await a.kill();
    const b = await spawnWorker(w, 'b', { retry });
    await b.waitForResults(1);

    expect(
      w.receiver.requests.map((r) => [r.headers['x-test-worker'], header(r.headers['webhook-id'])]),
    ).toEqual([
      ['a', queued?.deliveryId],
      ['b', queued?.deliveryId],
      ['b', queued?.deliveryId],
    ]);
    expect(b.results).toMatchObject([{ deliveryId: queued?.deliveryId, outcome: 'delivered', attempts: 3 }]);
    expect(a.results).toEqual([]);
    await until(
      async () => (await w.jobs()).every((j) => j.state === 'completed'),
      'the last job to complete',
    );
    const jobs = await w.jobs();
    expect(jobs.map((j) => [j.data.attempt ?? 0, j.state]).sort()).toEqual([
      [0, 'completed'],
      [1, 'completed'],
      [2, 'completed'],
    ]);
  }, 30_000);

  it('two dispatchers on one store: a delete, switch-off, URL change and create on one are honoured by the other within a second', async () => {
    const w = await world();
    const otherPool = new pg.Pool({ connectionString: postgres.url, max: 4 });
    cleanups.push(() => otherPool.end());
    // The other replica delivers in its own process; what it sends depends on its own index of webhooks.
    const other = createWebhookDispatcher({
      store: postgresStore({ pool: otherPool, table: w.table }),
      allowPrivateNetworks: true,
      retry: 0,
    });
    cleanups.push(() => other.close());
    const deleted = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/deleted` });
    const off = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/off` });
    const moved = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/old` });
    const first = await other.emit(ldEvent());
    expect(first.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);

    await w.dispatcher.webhooks.delete(deleted.id);
    await w.dispatcher.webhooks.update(off.id, { on: false });
    await w.dispatcher.webhooks.update(moved.id, { url: `${w.receiver.url}/new` });
    const created = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/created` });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    w.receiver.requests.length = 0;

    const results = await other.emit(ldEvent());
    expect(results.map((r) => [r.webhookId, r.outcome]).sort()).toEqual(
      [
        [moved.id, 'delivered'],
        [created.id, 'delivered'],
      ].sort(),
    );
    expect(w.receiver.requests.map((r) => r.url).sort()).toEqual(['/created', '/new']);
  });
});

describe('a worker that trusts its watched index at send time', () => {
  it('still skips a webhook deleted or switched off by another process and sends to a changed URL; with its LISTEN connection lost it reads the store again, and trusts the index once reconnected', async () => {
    const w = await world();
    // The worker's store: reads over the direct pool, LISTEN through a proxy that can take the connection away.
    const proxy = await startOutageProxy(postgres);
    cleanups.push(() => proxy.close());
    const proxied = new pg.Pool({ connectionString: proxy.url, max: 2, connectionTimeoutMillis: 500 });
    proxied.on('error', () => {});
    cleanups.push(() => proxied.end().catch(() => {}));
    const direct = postgresStore({ pool, table: w.table });
    const watching = postgresStore({ pool: proxied, table: w.table, heartbeatMs: 500 });
    let reads = 0;
    const workerStore: WebhookStore = {
      ...direct,
      get: (id) => {
        reads++;
        return direct.get(id);
      },
      watch: watching.watch,
    };
    const seen: DeliveryResult[] = [];
    const worker = createWebhookWorker({
      pool,
      schema: BOSS_SCHEMA,
      queueName: w.queueName,
      store: workerStore,
      allowPrivateNetworks: true,
      retry: 0,
      pollingIntervalMs: 100,
      onDelivery: (result) => seen.push(result),
    });
    cleanups.push(() => worker.close({ deadlineMs: 100 }));
    await worker.ready();
    // An emitter whose index never follows the store: it keeps enqueueing jobs for webhooks changed since.
    const { watch: _ignored, ...unwatched } = w.store;
    const stale = createWebhookDispatcher({
      store: unwatched,
      queue: pgBossQueue({ pool, schema: BOSS_SCHEMA, queueName: w.queueName }),
      allowPrivateNetworks: true,
    });
    cleanups.push(() => stale.close());
    const deleted = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/deleted` });
    const off = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/off` });
    const moved = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/old` });
    const emitThree = async () => {
      const before = seen.length;
      expect((await stale.emit(ldEvent())).map((r) => r.outcome)).toEqual(['queued', 'queued', 'queued']);
      await until(() => seen.length >= before + 3, 'three deliveries');
      return seen.slice(before);
    };
    const emitUntilTrusted = async () => {
      for (let i = 0; i < 40; i++) {
        reads = 0;
        const results = await emitThree();
        if (reads === 0 && results.every((r) => r.outcome === 'delivered')) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the worker never trusted its index');
    };
    await emitUntilTrusted();

    // Another process changes the webhooks: the worker hears it through its watch.
    await w.dispatcher.webhooks.delete(deleted.id);
    await w.dispatcher.webhooks.update(off.id, { on: false });
    await w.dispatcher.webhooks.update(moved.id, { url: `${w.receiver.url}/new` });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    w.receiver.requests.length = 0;
    const afterChanges = await emitThree();
    expect(afterChanges.map((r) => [r.webhookId, r.outcome]).sort()).toEqual(
      [
        [deleted.id, 'skipped'],
        [off.id, 'skipped'],
        [moved.id, 'delivered'],
      ].sort(),
    );
    expect(w.receiver.requests.map((r) => r.url)).toEqual(['/new']);

    // The LISTEN connection is lost: changes made now are never announced to the worker.
    await proxy.down();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await w.dispatcher.webhooks.update(moved.id, { url: `${w.receiver.url}/newer` });
    await w.dispatcher.webhooks.update(off.id, { on: true });
    w.receiver.requests.length = 0;
    const whileAway = await emitThree();
    expect(whileAway.map((r) => [r.webhookId, r.outcome]).sort()).toEqual(
      [
        [deleted.id, 'skipped'],
        [off.id, 'delivered'],
        [moved.id, 'delivered'],
      ].sort(),
    );
    expect(w.receiver.requests.map((r) => r.url).sort()).toEqual(['/newer', '/off']);

    // Back: reconnected and reloaded, what was missed included; trusted again (only the deleted webhook's skip is
    // confirmed in the store).
    await proxy.up();
    let trusted = false;
    for (let i = 0; i < 40 && !trusted; i++) {
      reads = 0;
      w.receiver.requests.length = 0;
      const results = await emitThree();
      expect(results.map((r) => [r.webhookId, r.outcome]).sort()).toEqual(
        [
          [deleted.id, 'skipped'],
          [off.id, 'delivered'],
          [moved.id, 'delivered'],
        ].sort(),
      );
      expect(w.receiver.requests.map((r) => r.url).sort()).toEqual(['/newer', '/off']);
      trusted = reads === 1;
      if (!trusted) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(trusted).toBe(true);
  }, 60_000);
});

describe('lanes in a pg-boss worker', () => {
  it('a hanging receiver does not fill the worker: its waiting jobs go back to Postgres, the other webhook is delivered', async () => {
    const w = await world((request) => (request.url === '/slow' ? 'handled' : 200));
    const slow = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/slow` });
    const fast = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/fast`, events: ['fast'] });
    const seen: DeliveryResult[] = [];
    const worker = createWebhookWorker({
      pool,
      schema: BOSS_SCHEMA,
      queueName: w.queueName,
      store: w.store,
      allowPrivateNetworks: true,
      retry: 0,
      timeoutMs: 60_000,
      concurrency: 4,
      perWebhookConcurrency: 1,
      deferAfterMs: 200,
      pollingIntervalMs: 100,
      onDelivery: (result) => seen.push(result),
    });
    cleanups.push(() => worker.close({ deadlineMs: 100 }));
    await worker.ready();
    // Four jobs for the slow webhook: one hangs in its lane, the other three would wait behind it in the worker.
    for (let i = 0; i < 4; i++) await w.dispatcher.emit(ldEvent());
    await w.receiver.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await w.dispatcher.emit({ id: `fast-${randomUUID()}`, type: 'fast' });

    await until(() => seen.some((r) => r.webhookId === fast.id), 'the fast webhook to be delivered', 10_000);
    expect(w.receiver.requests.filter((r) => r.url === '/slow')).toHaveLength(1);
    // The slow webhook's other jobs are back in Postgres, not held by the worker.
    const waiting = (await w.jobs()).filter((j) => j.data.webhookId === slow.id && j.state !== 'active');
    expect(waiting.length).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

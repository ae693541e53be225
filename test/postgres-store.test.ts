import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Webhook } from '../src/core/types.js';
import type { DeliveryAttempt } from '../src/extend.js';
import { createWebhookDispatcher } from '../src/index.js';
import { migrate, migrationSql, postgresDeliveryLog, postgresStore } from '../src/postgres/index.js';
import { deliveryLogContract, T0 } from './helpers/delivery-log-contract.js';
import { ldEvent, webhookRecord } from './helpers/events.js';
import { startOutageProxy, startPostgres, type TestPostgres } from './helpers/postgres.js';
import { startReceiver } from './helpers/receiver.js';

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

async function tables() {
  const table = `webhooks_${randomUUID().slice(0, 8)}`;
  const deliveriesTable = `${table}_log`;
  await migrate(pool, { table, deliveriesTable });
  cleanups.push(() =>
    pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}, ${deliveriesTable}`),
  );
  return { table, deliveriesTable };
}

const webhook = (id: string, createdAt: string, extra: Partial<Webhook> = {}): Webhook =>
  webhookRecord({ id, url: `https://example.com/${id}`, createdAt, updatedAt: createdAt, ...extra });

/** Calls seen by a watcher, with a way to wait for one. */
function watcher() {
  const seen: (string | undefined)[] = [];
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  const onChange = (id?: string) => {
    seen.push(id);
    for (const w of waiters.filter((x) => x.test())) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const waitFor = (test: () => boolean, what: string, timeoutMs = 5000) =>
    test()
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen)}`)),
            timeoutMs,
          );
          waiters.push({
            test,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
  return { seen, onChange, waitFor };
}

describe('postgresStore', () => {
  it('keeps webhooks in one table: create, get, list in creation order, update, delete', async () => {
    const { table } = await tables();
    const store = postgresStore({ pool, table });
    await store.create(webhook('b', '2024-01-02T00:00:00.000Z'));
    await store.create(webhook('a', '2024-01-03T00:00:00.000Z', { tenant: 'acme' } as Partial<Webhook>));
    await store.create(webhook('c', '2024-01-01T00:00:00.000Z'));

    expect((await store.list()).map((x) => x.id)).toEqual(['c', 'b', 'a']);
    expect((await store.list({ tenant: 'acme' })).map((x) => x.id)).toEqual(['a']);
    expect((await store.list({ tenant: null })).map((x) => x.id)).toEqual(['c', 'b']);
    // Compared by value: jsonb keeps its own key order.
    expect(await store.get('b')).toEqual(webhook('b', '2024-01-02T00:00:00.000Z'));
    expect(await store.get('missing')).toBeUndefined();
    await expect(store.create(webhook('a', '2024-01-04T00:00:00.000Z'))).rejects.toThrow(/already exists/);

    await store.update({ ...webhook('b', '2024-01-02T00:00:00.000Z'), on: false });
    expect((await store.get('b'))?.on).toBe(false);
    await expect(store.update(webhook('missing', '2024-01-01T00:00:00.000Z'))).rejects.toThrow(/no webhook/);

    expect(await store.delete('b')).toBe(true);
    expect(await store.delete('b')).toBe(false);
    expect((await store.list()).map((x) => x.id)).toEqual(['c', 'a']);
  });

  it('returns the same canonical JSON on every read, whatever the key order written', async () => {
    const { table } = await tables();
    const store = postgresStore({ pool, table });
    const record = webhook('k', '2024-01-01T00:00:00.000Z', { headers: { 'x-b': '1', 'x-a': '2' } });
    await store.create(record);
    const first = JSON.stringify(await store.get('k'));
    const reversed = Object.fromEntries(Object.entries(record).reverse()) as unknown as Webhook;
    reversed.headers = { 'x-a': '2', 'x-b': '1' };
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(record));
    await store.update(reversed);
    expect(JSON.stringify(await store.get('k'))).toBe(first);
  });

  it('says to run migrate() when its table is missing', async () => {
    const store = postgresStore({ pool, table: `missing_${randomUUID().slice(0, 8)}` });
    await expect(store.list()).rejects.toThrow(/does not exist; create it once with `await migrate\(pool\)`/);
  });

  it('migrate() is idempotent and safe to run from several processes at once; its SQL is available', async () => {
    const table = `webhooks_${randomUUID().slice(0, 8)}`;
    cleanups.push(() =>
      pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}, ${table}_log`),
    );
    await Promise.all([1, 2, 3].map(() => migrate(pool, { table, deliveriesTable: `${table}_log` })));
    await migrate(pool, { table, deliveriesTable: `${table}_log` });
    expect(migrationSql({ table })).toMatch(/CREATE TABLE IF NOT EXISTS "public"\."webhooks_/);
    expect(() => migrationSql({ table: 'bad name' })).toThrow(/`table` to be a SQL identifier/);
  });

  it('watch: another store on the same table hears create, update and delete, by id, within a second', async () => {
    const { table } = await tables();
    const writer = postgresStore({ pool, table });
    const readerPool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    cleanups.push(() => readerPool.end());
    const reader = postgresStore({ pool: readerPool, table });
    const w = watcher();
    const stop = reader.watch(w.onChange);
    cleanups.push(stop);
    // In place: the first call (no id) says "re-read everything".
    await w.waitFor(() => w.seen.length === 1, 'LISTEN to be in place');
    expect(w.seen).toEqual([undefined]);

    const timed = async (write: () => Promise<unknown>, id: string) => {
      const count = w.seen.length;
      const started = Date.now();
      await write();
      await w.waitFor(() => w.seen.length > count, `a notification for ${id}`, 1000);
      expect(w.seen.slice(count)).toEqual([id]);
      return Date.now() - started;
    };
    await timed(() => writer.create(webhook('w1', '2024-01-01T00:00:00.000Z')), 'w1');
    await timed(() => writer.update({ ...webhook('w1', '2024-01-01T00:00:00.000Z'), on: false }), 'w1');
    await timed(() => writer.delete('w1'), 'w1');
    // Plain SQL around the store notifies too (a trigger does it).
    await timed(
      () =>
        pool
          .query(`UPDATE ${table} SET record = record WHERE id = 'none'`)
          .then(() => writer.create(webhook('w2', '2024-01-01T00:00:00.000Z'))),
      'w2',
    );

    // Not before the writing transaction commits, and never for a rolled-back one.
    const client = await pool.connect();
    try {
      const count = w.seen.length;
      await client.query('BEGIN');
      await client.query(`DELETE FROM ${table} WHERE id = 'w2'`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(w.seen.length).toBe(count);
      await client.query('ROLLBACK');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(w.seen.length).toBe(count);
    } finally {
      client.release();
    }

    await stop();
    const count = w.seen.length;
    await writer.delete('w2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(w.seen.length).toBe(count);
  });

  it('watch: reconnects after the connection is lost and then says "re-read everything"', async () => {
    const { table } = await tables();
    const proxy = await startOutageProxy(postgres);
    cleanups.push(() => proxy.close());
    const proxied = new pg.Pool({ connectionString: proxy.url, max: 2, connectionTimeoutMillis: 500 });
    proxied.on('error', () => {});
    cleanups.push(() => proxied.end().catch(() => {}));
    const reader = postgresStore({ pool: proxied, table });
    const writer = postgresStore({ pool, table });
    const w = watcher();
    cleanups.push(reader.watch(w.onChange));
    await w.waitFor(() => w.seen.length === 1, 'LISTEN to be in place');

    await proxy.down();
    // Missed while away.
    await writer.create(webhook('gone-while-away', '2024-01-01T00:00:00.000Z'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await proxy.up();
    await w.waitFor(() => w.seen.length >= 2, 'the reconnection', 10_000);
    expect(w.seen[1]).toBeUndefined();
    await writer.update({ ...webhook('gone-while-away', '2024-01-01T00:00:00.000Z'), on: false });
    await w.waitFor(() => w.seen.includes('gone-while-away'), 'a notification after the reconnection');
  }, 30_000);

  it('watch: onStatus says true before each "re-read everything" and false when the connection is lost, or stops answering its heartbeat', async () => {
    const { table } = await tables();
    const proxy = await startOutageProxy(postgres);
    cleanups.push(() => proxy.close());
    const proxied = new pg.Pool({ connectionString: proxy.url, max: 2, connectionTimeoutMillis: 500 });
    proxied.on('error', () => {});
    cleanups.push(() => proxied.end().catch(() => {}));
    const reader = postgresStore({ pool: proxied, table, heartbeatMs: 300 });
    const log: string[] = [];
    cleanups.push(
      reader.watch(
        (id) => log.push(id ?? 'reload'),
        (live) => log.push(live ? 'live' : 'lost'),
      ),
    );
    const waitFor = async (entry: string, count: number, what: string) => {
      const deadline = Date.now() + 10_000;
      while (log.filter((e) => e === entry).length < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${log.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waitFor('reload', 1, 'LISTEN');
    expect(log).toEqual(['live', 'reload']);
    await proxy.down();
    await waitFor('lost', 1, 'the loss');
    await proxy.up();
    await waitFor('reload', 2, 'the reconnection');
    expect(log).toEqual(['live', 'reload', 'lost', 'live', 'reload']);
    // Silently dead: nothing closes the connection, only the heartbeat notices (within 1.5 x 300 ms).
    const frozenAt = Date.now();
    proxy.freeze();
    await waitFor('lost', 2, 'the heartbeat to give up');
    expect(Date.now() - frozenAt).toBeLessThan(2000);
    await waitFor('reload', 3, 'the reconnection after the heartbeat');
    expect(log.slice(5)).toEqual(['lost', 'live', 'reload']);
  }, 30_000);

  it('watch: an onChange that throws does not stop the notifications', async () => {
    const { table } = await tables();
    const store = postgresStore({ pool, table });
    const w = watcher();
    cleanups.push(
      store.watch((id) => {
        w.onChange(id);
        throw new Error('hostile');
      }),
    );
    await w.waitFor(() => w.seen.length === 1, 'LISTEN');
    await store.create(webhook('x1', '2024-01-01T00:00:00.000Z'));
    await store.create(webhook('x2', '2024-01-01T00:00:00.000Z'));
    await w.waitFor(() => w.seen.includes('x2'), 'both notifications');
    expect(w.seen).toEqual([undefined, 'x1', 'x2']);
  });

  it('serves a dispatcher: webhooks created through it are stored and listed', async () => {
    const { table } = await tables();
    const dispatcher = createWebhookDispatcher({ store: postgresStore({ pool, table }) });
    cleanups.push(() => dispatcher.close());
    const hook = await dispatcher.webhooks.create({
      url: 'https://example.com/hook',
      secret: 'shh',
      events: ['a'],
    });
    expect(await dispatcher.webhooks.get(hook.id)).toEqual(hook);
    expect((await pool.query(`SELECT tenant FROM ${table} WHERE id = $1`, [hook.id])).rows).toEqual([
      { tenant: null },
    ]);
  });
});

deliveryLogContract('postgresDeliveryLog', async (options) => {
  const { deliveriesTable } = await tables();
  let t = T0;
  const log = postgresDeliveryLog({ pool, deliveriesTable, now: () => t, ...options });
  cleanups.push(() => log.close());
  return {
    log,
    advance: async (ms) => {
      t += ms;
    },
  };
});

describe('postgresDeliveryLog', () => {
  it('migrate() upgrades a deliveries table made before the cross-webhook reads, which then read through its indexes', async () => {
    const table = `webhooks_${randomUUID().slice(0, 8)}`;
    const deliveriesTable = `${table}_log`;
    cleanups.push(() =>
      pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}, ${deliveriesTable}`),
    );
    // The table as the first version made it: no tenant column, only the per-webhook and age indexes.
    await pool.query(`CREATE TABLE ${deliveriesTable} (delivery_id text PRIMARY KEY, webhook_id text NOT NULL,
      event_id text NOT NULL, event_type text, status text NOT NULL, created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL, attempts jsonb NOT NULL)`);
    await pool.query(
      `INSERT INTO ${deliveriesTable} VALUES ('old', 'w1', 'e1', NULL, 'failed', now(), now(), '[]'::jsonb)`,
    );
    await migrate(pool, { table, deliveriesTable });
    const { rows } = await pool.query<{ indexname: string }>(
      'SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname',
      [deliveriesTable],
    );
    expect(rows.map((r) => r.indexname.slice(deliveriesTable.length))).toEqual(
      expect.arrayContaining(['_created', '_tenant_created', '_failed_created']),
    );
    const log = postgresDeliveryLog({ pool, deliveriesTable });
    cleanups.push(() => log.close());
    await log.record({
      deliveryId: 'new',
      webhookId: 'w2',
      eventId: 'e2',
      tenant: 'acme',
      attempt: 1,
      startedAt: new Date().toISOString(),
      durationMs: 1,
      ok: false,
      request: { url: 'https://example.com/hook', headers: {} },
    });
    expect((await log.findFailed({ since: 0 })).items.map((r) => r.deliveryId)).toEqual(['new', 'old']);
    expect((await log.search({ tenant: 'acme' })).items.map((r) => r.deliveryId)).toEqual(['new']);
    // With sequential scans priced out, the planner shows which index a tenant's failed page reads.
    const client = await pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const plan = await client.query(
        `EXPLAIN SELECT * FROM ${deliveriesTable} WHERE tenant = $1 AND status = 'failed'
         ORDER BY created_at DESC, delivery_id DESC LIMIT 51`,
        ['acme'],
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(
        /Index Scan using \S+_(tenant|failed)_created/,
      );
    } finally {
      client.release();
    }
  });

  /** An ISO time `seconds` after a base one minute ago (inside the default 7-day retention). */
  const base = Date.now() - 60_000;
  const at = (seconds: number) => new Date(base + seconds * 1000).toISOString();
  const attempt = (
    deliveryId: string,
    n: number,
    startedAt: string,
    ok: boolean,
    extra: Partial<DeliveryAttempt> = {},
  ): DeliveryAttempt => ({
    deliveryId,
    webhookId: 'hook1',
    eventId: `event-${deliveryId}`,
    attempt: n,
    startedAt,
    durationMs: 5,
    ok,
    status: ok ? 200 : 500,
    request: { url: 'https://example.com/hook', headers: { 'webhook-id': deliveryId }, body: '{"a":1}' },
    ...extra,
  });

  it('keeps one record per delivery with its attempts newest first and the status of the latest', async () => {
    const { deliveriesTable } = await tables();
    const log = postgresDeliveryLog({ pool, deliveriesTable });
    cleanups.push(() => log.close());
    await log.record(attempt('d1', 1, at(0), false, { tenant: 'acme', eventType: 'flag.updated' }));
    await log.record(attempt('d1', 2, at(5), true, { tenant: 'acme', eventType: 'flag.updated' }));

    const record = await log.get('d1');
    expect(record).toMatchObject({
      deliveryId: 'd1',
      webhookId: 'hook1',
      eventId: 'event-d1',
      tenant: 'acme',
      eventType: 'flag.updated',
      status: 'delivered',
      createdAt: at(0),
      updatedAt: at(5),
    });
    expect(record?.attempts.map((a) => [a.attempt, a.ok, a.request.body])).toEqual([
      [2, true, '{"a":1}'],
      [1, false, '{"a":1}'],
    ]);
    expect(await log.get('missing')).toBeUndefined();
  });

  it('lists newest first with status, since/until and cursor pages', async () => {
    const { deliveriesTable } = await tables();
    const log = postgresDeliveryLog({ pool, deliveriesTable });
    cleanups.push(() => log.close());
    for (let i = 0; i < 7; i++) {
      await log.record(attempt(`d${i}`, 1, at(i), i % 2 === 0));
    }
    await log.record({ ...attempt('other', 1, at(0), true), webhookId: 'hook2' });

    const all = await log.list('hook1');
    expect(all.items.map((r) => r.deliveryId)).toEqual(['d6', 'd5', 'd4', 'd3', 'd2', 'd1', 'd0']);
    expect(all.nextCursor).toBeUndefined();
    expect((await log.list('hook1', { status: 'failed' })).items.map((r) => r.deliveryId)).toEqual([
      'd5',
      'd3',
      'd1',
    ]);
    const window = await log.list('hook1', {
      since: new Date(at(2)),
      until: Date.parse(at(5)),
    });
    expect(window.items.map((r) => r.deliveryId)).toEqual(['d4', 'd3', 'd2']);

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list('hook1', { limit: 3, cursor });
      pages.push(page.items.map((r) => r.deliveryId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages).toEqual([['d6', 'd5', 'd4'], ['d3', 'd2', 'd1'], ['d0']]);
    await expect(log.list('hook1', { cursor: 'nope' })).rejects.toThrow(/`cursor`/);
    await expect(log.list('hook1', { limit: 0 })).rejects.toThrow(/`limit`/);
  });

  it('retention: keeps the newest perWebhook deliveries and drops those older than maxAgeMs', async () => {
    const { deliveriesTable } = await tables();
    const log = postgresDeliveryLog({
      pool,
      deliveriesTable,
      perWebhook: 5,
      maxAgeMs: 60_000,
      maxAttemptsPerDelivery: 3,
    });
    cleanups.push(() => log.close());
    const now = Date.now();
    for (let i = 0; i < 12; i++) {
      await log.record(
        attempt(`d${String(i).padStart(2, '0')}`, 1, new Date(now - 12_000 + i * 1000).toISOString(), true),
      );
    }
    // Trimmed lazily, but never listed beyond the newest 5.
    expect((await log.list('hook1')).items.map((r) => r.deliveryId)).toEqual([
      'd11',
      'd10',
      'd09',
      'd08',
      'd07',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${deliveriesTable}`);
    expect(rows[0].n).toBeLessThanOrEqual(6);

    for (let n = 1; n <= 5; n++)
      await log.record(attempt('d11', n + 1, new Date(now + n).toISOString(), n % 2 === 0));
    expect((await log.get('d11'))?.attempts.map((a) => a.attempt)).toEqual([6, 5, 4]);

    await log.record(attempt('old', 1, new Date(now - 120_000).toISOString(), false, { webhookId: 'hook3' }));
    expect(await log.get('old')).toBeUndefined();
    expect(await log.prune()).toBe(1);
    expect((await pool.query(`SELECT 1 FROM ${deliveriesTable} WHERE delivery_id = 'old'`)).rowCount).toBe(0);
  });
});

describe('postgresDeliveryLog with a dispatcher', () => {
  it('bounds every delivery log read by storeTimeoutMs while Postgres is black-holed (connections open, no bytes back)', async () => {
    const { deliveriesTable } = await tables();
    const proxy = await startOutageProxy(postgres);
    // One connection, frozen below: every query waits on it (a pool of several would open a fresh one).
    const proxied = new pg.Pool({ connectionString: proxy.url, max: 1 });
    proxied.on('error', () => {});
    cleanups.push(() => {
      proxied.end().catch(() => {});
    });
    cleanups.push(() => proxy.close());
    const receiver = await startReceiver(() => 503);
    cleanups.push(() => receiver.close());
    const log = postgresDeliveryLog({ pool: proxied, deliveriesTable });
    cleanups.push(() => log.close());
    const dispatcher = createWebhookDispatcher({
      deliveryLog: log,
      allowPrivateNetworks: true,
      retry: 0,
      storeTimeoutMs: 1000,
    });
    cleanups.push(() => dispatcher.close({ deadlineMs: 100 }));
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    const since = Date.now() - 1000;
    const [result] = await dispatcher.emit(ldEvent());
    const deliveryId = result?.deliveryId as string;
    const deadline = Date.now() + 5000;
    while ((await log.get(deliveryId)) === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    proxy.freeze();
    const reads: [string, () => Promise<unknown>][] = [
      ['deliveries.list', () => dispatcher.deliveries.list(hook.id)],
      ['deliveries.get', () => dispatcher.deliveries.get(deliveryId)],
      ['deliveries.redeliver', () => dispatcher.deliveries.redeliver(deliveryId)],
      ['deliveries.recover', () => dispatcher.deliveries.recover(hook.id, { since })],
    ];
    for (const [name, read] of reads) {
      const started = performance.now();
      const error = await read().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      const ms = performance.now() - started;
      expect({ name, code: (error as { code?: string } | undefined)?.code }).toEqual({
        name,
        code: 'ERR_STORE_TIMEOUT',
      });
      expect(ms).toBeLessThan(1000 + 1500);
    }
  });

  it('records every attempt with its body, and redeliver() and recover() send from it again', async () => {
    const { table, deliveriesTable } = await tables();
    let up = false;
    const receiver = await startReceiver(() => (up ? 200 : 503));
    cleanups.push(() => receiver.close());
    const log = postgresDeliveryLog({ pool, deliveriesTable });
    cleanups.push(() => log.close());
    const dispatcher = createWebhookDispatcher({
      store: postgresStore({ pool, table }),
      deliveryLog: log,
      allowPrivateNetworks: true,
      retry: 0,
    });
    cleanups.push(() => dispatcher.close());
    const hook = await dispatcher.webhooks.create({ url: receiver.url, secret: 'shh' });
    const since = Date.now() - 1000;
    const [first] = await dispatcher.emit(ldEvent());
    const [second] = await dispatcher.emit(ldEvent());
    expect([first?.outcome, second?.outcome]).toEqual(['failed', 'failed']);

    let failed = await log.list(hook.id, { status: 'failed' });
    for (let i = 0; failed.items.length < 2 && i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      failed = await log.list(hook.id, { status: 'failed' });
    }
    expect(failed.items.map((r) => r.deliveryId).sort()).toEqual(
      [first?.deliveryId, second?.deliveryId].sort(),
    );
    expect(failed.items[0]?.attempts[0]?.request.body).toBe(receiver.requests[1]?.body);

    up = true;
    const again = await dispatcher.deliveries.redeliver(first?.deliveryId as string);
    expect(again).toMatchObject({ deliveryId: first?.deliveryId, outcome: 'delivered' });
    // The log is written beside the outcome, not before it: wait for the row.
    const deadline = Date.now() + 5000;
    while ((await log.get(first?.deliveryId as string))?.status !== 'delivered' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect((await log.get(first?.deliveryId as string))?.status).toBe('delivered');
    expect(await dispatcher.deliveries.recover(hook.id, { since })).toBe(1);
    await receiver.waitFor(4);
    const headers = receiver.requests.map((r) => r.headers['webhook-id']);
    expect(headers).toEqual([first?.deliveryId, second?.deliveryId, first?.deliveryId, second?.deliveryId]);
  });
});

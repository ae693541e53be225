import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../src/bullmq/index.js';
import type { Webhook, WebhookStore } from '../src/core/types.js';
import { createWebhookDispatcher, memoryStore, type WebhookDispatcher } from '../src/index.js';
import { migrate, postgresStore } from '../src/postgres/index.js';
import { DEFAULT_STATEMENTS } from '../src/routing/policy/defaults.js';
import { indexBytes } from '../src/routing/tenant-lru.js';
import { createAddressPolicy } from '../src/transport/ssrf.js';
import { compilePolicy } from '../src/webhooks/webhook.js';
import { WebhookRegistry } from '../src/webhooks/webhook-registry.js';
import { webhookRecord } from './helpers/events.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { storeOver } from './helpers/stores.js';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

const dispatchers: WebhookDispatcher[] = [];
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.close();
});

const TENANTS = 200;
const PER_TENANT = 10;

/** 2,000 webhooks over 200 tenants (`t0`..`t199`), and 3 without a tenant. */
function records(): Webhook[] {
  const all: Webhook[] = [];
  for (let t = 0; t < TENANTS; t++) {
    for (let i = 0; i < PER_TENANT; i++) {
      all.push(
        webhookRecord({
          id: `t${t}-w${i}`,
          tenant: `t${t}`,
          url: `${receiver.url}/t${t}/w${i}`,
          events: ['invoice.paid'],
        }),
      );
    }
  }
  for (let i = 0; i < 3; i++) {
    all.push(
      webhookRecord({ id: `global-${i}`, url: `${receiver.url}/global/${i}`, events: ['invoice.paid'] }),
    );
  }
  return all;
}

/** A memory store whose `listTenant` calls are counted, and can be made to fail. */
function countingStore(initial: Webhook[]) {
  const inner = memoryStore(initial);
  const calls: (string | null)[] = [];
  const state = { fail: false, hold: undefined as Promise<void> | undefined };
  const store: WebhookStore = storeOver(inner, {
    async listTenant(tenant) {
      calls.push(tenant);
      if (state.hold) await state.hold;
      if (state.fail) throw new Error('replica unreachable');
      return (inner.listTenant as NonNullable<WebhookStore['listTenant']>)(tenant);
    },
  });
  return { store, calls, state };
}

/** What one tenant's 10 webhooks count for in `maxIndexBytes`. */
const tenantBytes = () => indexBytes(records()[0] as Webhook) * PER_TENANT;

function dispatcherOn(store: WebhookStore, maxIndexBytes = tenantBytes() * 5 + 1) {
  const d = createWebhookDispatcher({ store, maxIndexBytes, allowPrivateNetworks: true, deliveryLog: false });
  dispatchers.push(d);
  return d;
}

let n = 0;
const emitFor = (d: WebhookDispatcher, tenant: string | undefined) =>
  d.emit({ id: `e${n++}`, type: 'invoice.paid' }, tenant === undefined ? {} : { tenant });

describe('tenants read on demand (memoryStore with listTenant)', () => {
  it('keeps only the tenants emitted for recently, bounded in bytes, and reloads an evicted one', async () => {
    const { store, calls } = countingStore(records());
    const d = dispatcherOn(store);
    const before = receiver.requests.length;
    for (let t = 0; t < 20; t++) {
      const results = await emitFor(d, `t${t}`);
      expect(results).toHaveLength(PER_TENANT);
      expect(results.every((r) => r.ok)).toBe(true);
      const stats = d.webhooks.indexStats();
      expect(stats.onDemand).toBe(true);
      expect(stats.bytes).toBeLessThanOrEqual(tenantBytes() * 5 + 1);
      expect(stats.tenants).toBeLessThanOrEqual(5);
    }
    // Each cold tenant cost one listTenant call; the tenant-less webhooks were read once, on the first use.
    expect(calls).toEqual([null, ...Array.from({ length: 20 }, (_, t) => `t${t}`)]);
    // The bound holds 4 or 5 of these tenants (their ids and URLs differ in length): the most recent ones.
    const stats = d.webhooks.indexStats();
    expect(stats.tenants).toBeGreaterThanOrEqual(4);
    expect(stats.webhooks).toBe(stats.tenants * PER_TENANT + 3);
    // Isolation: every request for tenant t went to t's URLs.
    const paths = receiver.requests.slice(before).map((r) => r.url);
    expect(paths.filter((p) => p.startsWith('/t0/'))).toHaveLength(PER_TENANT);
    expect(paths.filter((p) => p.startsWith('/t0/'))).toEqual(paths.filter((p) => p.startsWith('/t0/w')));
    expect(paths.filter((p) => p.startsWith('/global/'))).toHaveLength(0);
    // Webhooks without a tenant stay indexed whatever the tenants do, and are read once.
    expect(await emitFor(d, undefined)).toHaveLength(3);

    // A warm tenant costs no read; an evicted one is read again and still reaches all of its webhooks.
    for (const t of ['t19', 't18', 't17', 't16']) await emitFor(d, t);
    expect(calls).toHaveLength(21);
    const again = await emitFor(d, 't0');
    expect(again.filter((r) => r.ok)).toHaveLength(PER_TENANT);
    expect(calls.slice(21)).toEqual(['t0']);
  });

  it('concurrent first emits for one tenant share one read', async () => {
    const { store, calls, state } = countingStore(records());
    const d = dispatcherOn(store);
    await emitFor(d, undefined);
    let release = () => {};
    state.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const emits = Array.from({ length: 5 }, () => emitFor(d, 't7'));
    await new Promise((r) => setTimeout(r, 20));
    release();
    state.hold = undefined;
    const all = await Promise.all(emits);
    expect(all.map((r) => r.length)).toEqual([10, 10, 10, 10, 10]);
    expect(calls.filter((t) => t === 't7')).toHaveLength(1);
  });

  it('a failing listTenant fails that emit with ERR_STORE_FAILED, and the next emit reads again', async () => {
    const { store, calls, state } = countingStore(records());
    const d = dispatcherOn(store);
    await emitFor(d, undefined);
    state.fail = true;
    await expect(emitFor(d, 't3')).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' });
    expect(d.webhooks.indexStats().tenants).toBe(0);
    state.fail = false;
    expect(await emitFor(d, 't3')).toHaveLength(PER_TENANT);
    expect(calls.filter((t) => t === 't3')).toHaveLength(2);
  });

  it('explain, test, list and changes work for a tenant that is not indexed', async () => {
    const { store } = countingStore(records());
    const d = dispatcherOn(store);
    await emitFor(d, 't1');
    expect(d.webhooks.indexStats().tenants).toBe(1);
    const explained = await d.explain('t150-w2', { id: 'x', type: 'invoice.paid' }, { tenant: 't150' });
    expect(explained.matched).toBe(true);
    expect((await d.webhooks.list({ tenant: 't151' })).map((w) => w.id)).toHaveLength(PER_TENANT);
    // A webhook created for a cold tenant is in the store and is found on that tenant's first emit.
    await d.webhooks.create({ url: `${receiver.url}/t152/new`, tenant: 't152', events: ['invoice.paid'] });
    expect(await emitFor(d, 't152')).toHaveLength(PER_TENANT + 1);
    // Changes to an indexed tenant apply at once.
    await d.webhooks.update('t152-w0', { on: false });
    expect(await emitFor(d, 't152')).toHaveLength(PER_TENANT);
    await d.webhooks.delete('t152-w1');
    expect(await emitFor(d, 't152')).toHaveLength(PER_TENANT - 1);
  });

  it('redeliver, recover and test reach a webhook whose tenant was dropped from the index', async () => {
    const { store, calls } = countingStore(records());
    const d = createWebhookDispatcher({
      store,
      maxIndexBytes: tenantBytes() + 1,
      allowPrivateNetworks: true,
    });
    dispatchers.push(d);
    const [first] = await emitFor(d, 't5');
    await emitFor(d, 't6');
    await emitFor(d, 't7');
    expect(calls.filter((t) => t === 't5')).toHaveLength(1);
    expect(d.webhooks.indexStats().tenants).toBe(1);
    const again = await d.deliveries.redeliver(first?.deliveryId as string);
    expect(again).toMatchObject({ ok: true, webhookId: first?.webhookId });
    expect(await d.deliveries.recover(first?.webhookId as string, { since: new Date(0) })).toBe(0);
    await emitFor(d, 't8');
    expect(await d.test('t5-w3')).toMatchObject({ ok: true, webhookId: 't5-w3' });
  });

  it('deliveries waiting in a lane whose tenant is dropped from the index meanwhile are still sent', async () => {
    // A receiver that holds every request until released: the webhook's later deliveries wait in its lane.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const arrived: string[] = [];
    const server = createServer((request, response) => {
      arrived.push(request.url ?? '');
      released.then(() => response.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const slow = webhookRecord({
        id: 'slow-w',
        tenant: 'slow',
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`,
        events: ['invoice.paid'],
      });
      const { store, calls } = countingStore([...records(), slow]);
      const d = createWebhookDispatcher({
        store,
        maxIndexBytes: tenantBytes() + 1,
        perWebhookConcurrency: 1,
        allowPrivateNetworks: true,
        deliveryLog: false,
      });
      dispatchers.push(d);
      const waiting = [emitFor(d, 'slow'), emitFor(d, 'slow'), emitFor(d, 'slow')];
      await expect.poll(() => arrived.length).toBe(1);
      // Two other tenants push `slow` out of the index while two of its deliveries wait in the lane.
      await emitFor(d, 't1');
      await emitFor(d, 't2');
      release();
      const results = (await Promise.all(waiting)).flat();
      expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
      expect(arrived).toHaveLength(3);
      // It had been dropped: the next emit reads the tenant again.
      await emitFor(d, 'slow');
      expect(calls.filter((t) => t === 'slow')).toHaveLength(2);
    } finally {
      release();
      server.close();
    }
  });

  it("a send-time lookup for a tenant not held reads that tenant once (a durable worker's index)", async () => {
    const { store, calls } = countingStore(records());
    const registry = new WebhookRegistry({
      store,
      addressPolicy: createAddressPolicy({ allowPrivateNetworks: true }),
      defaultPolicy: compilePolicy([...DEFAULT_STATEMENTS], 'defaultStatements'),
      secretRotationMs: 0,
      storeTimeoutMs: 1000,
      maxWebhooksPerTenant: undefined,
      maxIndexBytes: tenantBytes() * 2 + 1,
      now: Date.now,
      onRemoved: () => {},
      onError: () => {},
    });
    expect((await registry.lookupAtSendTime('t9-w1'))?.webhook.url).toBe(`${receiver.url}/t9/w1`);
    expect((await registry.lookupAtSendTime('t9-w2'))?.webhook.id).toBe('t9-w2');
    expect(calls).toEqual(['t9']);
    expect(registry.stats).toMatchObject({ tenants: 1, webhooks: PER_TENANT });
    expect(await registry.lookupAtSendTime('t9-missing')).toBeUndefined();
  });

  it('a store without listTenant indexes every tenant, as before', async () => {
    const d = dispatcherOn({ ...memoryStore(records()) }, 1);
    await emitFor(d, 't0');
    expect(d.webhooks.indexStats()).toMatchObject({
      onDemand: false,
      webhooks: TENANTS * PER_TENANT + 3,
      tenants: TENANTS,
    });
    expect(await emitFor(d, 't199')).toHaveLength(PER_TENANT);
  });

  it('maxIndexBytes is validated', () => {
    expect(() => createWebhookDispatcher({ maxIndexBytes: -1 })).toThrow(/maxIndexBytes/);
  });
});

/** Polls `read` until `test` passes on its answer (a change another process made reaching this one). */
async function eventually<T>(read: () => Promise<T>, test: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (test(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Two dispatchers on one shared store: a change made through one reaches the other's indexed tenant only. */
async function watchAcrossDispatchers(makeStore: () => WebhookStore) {
  const a = createWebhookDispatcher({ store: makeStore(), allowPrivateNetworks: true, deliveryLog: false });
  const store = makeStore();
  const reads: (string | null)[] = [];
  const listTenant = store.listTenant as NonNullable<WebhookStore['listTenant']>;
  store.listTenant = (tenant) => {
    reads.push(tenant);
    return listTenant(tenant);
  };
  const b = createWebhookDispatcher({
    store,
    allowPrivateNetworks: true,
    deliveryLog: false,
    maxIndexBytes: 60_000,
  });
  dispatchers.push(a, b);
  expect(await emitFor(b, 't1')).toHaveLength(PER_TENANT);
  expect(await emitFor(b, 't2')).toHaveLength(PER_TENANT);
  // (The reload that follows the watch's start may drop them: they are read again on their next emit.)
  expect(b.webhooks.indexStats().onDemand).toBe(true);
  await a.webhooks.update('t1-w0', { on: false });
  await eventually(
    () => emitFor(b, 't1'),
    (r) => r.length === PER_TENANT - 1,
    'the switch-off to reach b',
  );
  await a.webhooks.create({ url: `${receiver.url}/t2/new`, tenant: 't2', events: ['invoice.paid'] });
  await eventually(
    () => emitFor(b, 't2'),
    (r) => r.length === PER_TENANT + 1,
    'the create to reach b',
  );
  // Changes to tenants b does not hold are not read into b's index.
  await a.webhooks.delete('t3-w0');
  await a.webhooks.update('t4-w0', { on: false });
  await new Promise((r) => setTimeout(r, 200));
  expect(reads).not.toContain('t3');
  expect(reads).not.toContain('t4');
  expect(await emitFor(b, 't3')).toHaveLength(PER_TENANT - 1);
  expect(await emitFor(b, 't4')).toHaveLength(PER_TENANT - 1);
  expect(reads.filter((t) => t === 't3' || t === 't4')).toEqual(['t3', 't4']);
}

describe('tenants read on demand from Postgres', () => {
  let postgres: TestPostgres;
  let pool: pg.Pool;
  beforeAll(async () => {
    postgres = await startPostgres();
    pool = new pg.Pool({ connectionString: postgres.url, max: 8 });
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await postgres?.stop();
  });

  /** A fresh table with 2,000 webhooks over 200 tenants and 3 without one, made by one INSERT … SELECT. */
  async function filledTable(): Promise<string> {
    const table = `tenants_${randomUUID().slice(0, 8)}`;
    await migrate(pool, { table });
    await pool.query(
      `INSERT INTO ${table} (id, tenant, record, created_at)
       SELECT 't' || (n / $2) || '-w' || (n % $2), 't' || (n / $2),
              jsonb_build_object('id', 't' || (n / $2) || '-w' || (n % $2), 'tenant', 't' || (n / $2),
                'url', $1 || '/t' || (n / $2) || '/w' || (n % $2), 'on', true, 'signatureScheme', 'launchdarkly',
                'events', jsonb_build_array('invoice.paid'), 'contentType', 'application/json',
                'headers', '{}'::jsonb, 'tags', '[]'::jsonb,
                'createdAt', '2026-01-01T00:00:00.000Z', 'updatedAt', '2026-01-01T00:00:00.000Z'),
              '2026-01-01T00:00:00.000Z'
       FROM generate_series(0, $3 - 1) AS n`,
      [receiver.url, PER_TENANT, TENANTS * PER_TENANT],
    );
    for (const record of records().filter((w) => w.tenant === undefined)) {
      await pool.query(`INSERT INTO ${table} (id, tenant, record, created_at) VALUES ($1, NULL, $2, $3)`, [
        record.id,
        JSON.stringify(record),
        record.createdAt,
      ]);
    }
    return table;
  }

  it('listTenant reads one tenant with an indexed query; a dispatcher indexes only the tenants it emits for', async () => {
    const table = await filledTable();
    const store = postgresStore({ pool, table });
    expect((await store.listTenant('t5')).map((w) => w.id)).toEqual(
      Array.from({ length: PER_TENANT }, (_, i) => `t5-w${i}`),
    );
    expect((await store.listTenant(null)).map((w) => w.id)).toEqual(['global-0', 'global-1', 'global-2']);
    const plan = await pool.query(
      `EXPLAIN SELECT record FROM ${table} WHERE tenant = 't5' ORDER BY created_at, id`,
    );
    expect(JSON.stringify(plan.rows)).toMatch(/Index/);

    const d = dispatcherOn(store, 50_000);
    for (let t = 0; t < 30; t++) expect(await emitFor(d, `t${t}`)).toHaveLength(PER_TENANT);
    const stats = d.webhooks.indexStats();
    expect(stats.tenants).toBeLessThan(10);
    expect(stats.bytes).toBeLessThanOrEqual(50_000);
    expect(await emitFor(d, 't0')).toHaveLength(PER_TENANT);
  });

  it('the watch updates a tenant another dispatcher holds, and leaves the others cold', async () => {
    const table = await filledTable();
    await watchAcrossDispatchers(() => postgresStore({ pool, table }));
  });
});

describe('tenants read on demand from Redis', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });
  const client = () => {
    const c = new Redis(redis.url);
    clients.push(c);
    return c;
  };

  it('keeps a set per tenant: listTenant reads one tenant, deletes leave it, and two dispatchers follow the watch', async () => {
    const key = `wd-tenants:${randomUUID().slice(0, 8)}`;
    const writer = createWebhookDispatcher({
      store: redisStore({ client: client(), key }),
      allowPrivateNetworks: true,
      deliveryLog: false,
    });
    dispatchers.push(writer);
    for (let t = 0; t < 5; t++) {
      for (let i = 0; i < PER_TENANT; i++) {
        await writer.webhooks.create({
          url: `${receiver.url}/t${t}/w${i}`,
          tenant: `t${t}`,
          events: ['invoice.paid'],
        });
      }
    }
    const global = await writer.webhooks.create({ url: `${receiver.url}/global`, events: ['invoice.paid'] });
    const store = redisStore({ client: client(), key });
    const t3 = await store.listTenant('t3');
    expect(t3.map((w) => w.url).sort()).toEqual(
      Array.from({ length: PER_TENANT }, (_, i) => `${receiver.url}/t3/w${i}`),
    );
    expect((await store.listTenant(null)).map((w) => w.id)).toEqual([global.id]);
    await writer.webhooks.delete(t3[0]?.id as string);
    expect(await store.listTenant('t3')).toHaveLength(PER_TENANT - 1);
    expect(await client().scard(`${key}:tenant:t3`)).toBe(PER_TENANT - 1);

    const reader = dispatcherOn(store, 30_000);
    expect(await emitFor(reader, 't3')).toHaveLength(PER_TENANT - 1);
    expect(await emitFor(reader, 't4')).toHaveLength(PER_TENANT);
    const [first] = await store.listTenant('t4');
    await writer.webhooks.update(first?.id as string, { on: false });
    await eventually(
      () => emitFor(reader, 't4'),
      (r) => r.length === PER_TENANT - 1,
      'the switch-off',
    );
    expect(reader.webhooks.indexStats().tenants).toBeLessThanOrEqual(2);
  });
});

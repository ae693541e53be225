import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { bullmqQueue, createWebhookWorker as createBullmqWorker, redisStore } from '../src/bullmq/index.js';
import type { RateLimitStore } from '../src/extend.js';
import {
  createWebhookDispatcher,
  type Webhook,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookStore,
} from '../src/index.js';
import { createWebhookWorker as createPgBossWorker, pgBossQueue } from '../src/postgres/index.js';
import { ldEvent, webhookRecord } from './helpers/events.js';
import { startReceiver } from './helpers/receiver.js';
import { startBlackholeProxy } from './helpers/redis.js';
import { replicaStorePairs, sleep, until, useReplicaDatabases } from './helpers/replicas.js';
import { storeOver } from './helpers/stores.js';

const db = useReplicaDatabases();
const { cleanups } = db;
const pairs = replicaStorePairs(db);
const backends = [
  { name: 'postgresStore', pair: () => pairs.postgres() },
  { name: 'redisStore', pair: () => pairs.redis() },
];

function replica(store: WebhookStore, options: WebhookDispatcherOptions = {}): WebhookDispatcher {
  const dispatcher = createWebhookDispatcher({ store, retry: 0, allowPrivateNetworks: true, ...options });
  cleanups.push(() => dispatcher.close({ deadlineMs: 1000 }));
  return dispatcher;
}

/** The most timestamps within any one-second window `[t, t + 1000)`. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[j] as number) < (sorted[i] as number) + 1000 && j < sorted.length) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe.each(backends)('limits across replicas on $name', (backend) => {
  it('maxWebhooksPerTenant holds when two replicas race creates: exactly the limit is saved', async () => {
    const [storeA, storeB] = await backend.pair();
    const a = replica(storeA, { maxWebhooksPerTenant: 5 });
    const b = replica(storeB, { maxWebhooksPerTenant: 5 });
    const creates = Array.from({ length: 12 }, (_, i) =>
      (i % 2 === 0 ? a : b).webhooks.create({ url: `https://example.com/${i}`, tenant: 'acme' }),
    );
    const settled = await Promise.allSettled(creates);

    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(5);
    const refusals = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
    expect(refusals).toHaveLength(7);
    for (const error of refusals) expect(error).toMatchObject({ code: 'ERR_TENANT_LIMIT' });
    expect((await storeA.list()).filter((w) => w.tenant === 'acme')).toHaveLength(5);
    // Another tenant, and webhooks without one, have their own count.
    await expect(a.webhooks.create({ url: 'https://example.com/x', tenant: 'other' })).resolves.toBeDefined();
    await expect(b.webhooks.create({ url: 'https://example.com/y' })).resolves.toBeDefined();
  }, 20_000);

  it('createWithinTenantLimit: false once the tenant is full, a taken id refused like create', async () => {
    const [store] = await backend.pair();
    const record = (id: string, tenant?: string): Webhook =>
      webhookRecord({ id, url: `https://example.com/${id}`, ...(tenant === undefined ? {} : { tenant }) });
    const create = (id: string, tenant?: string) =>
      (store.createWithinTenantLimit as NonNullable<WebhookStore['createWithinTenantLimit']>)(
        record(id, tenant),
        2,
      );
    expect(await create('a', 'acme')).toBe(true);
    await expect(create('a', 'other')).rejects.toThrow(/already exists/);
    expect(await create('b', 'acme')).toBe(true);
    expect(await create('c', 'acme')).toBe(false);
    expect(await create('d', 'other')).toBe(true);
    // Without a tenant there is nothing to count.
    for (const id of ['e', 'f', 'g']) expect(await create(id)).toBe(true);
    expect((await store.list()).map((w) => w.id).sort()).toEqual(['a', 'b', 'd', 'e', 'f', 'g']);
  });

  it('a deleted webhook frees its place for every replica', async () => {
    const [storeA, storeB] = await backend.pair();
    const a = replica(storeA, { maxWebhooksPerTenant: 2 });
    const b = replica(storeB, { maxWebhooksPerTenant: 2 });
    const first = await a.webhooks.create({ url: 'https://example.com/1', tenant: 'acme' });
    await a.webhooks.create({ url: 'https://example.com/2', tenant: 'acme' });
    await expect(b.webhooks.create({ url: 'https://example.com/3', tenant: 'acme' })).rejects.toMatchObject({
      code: 'ERR_TENANT_LIMIT',
    });
    await a.webhooks.delete(first.id);
    await expect(b.webhooks.create({ url: 'https://example.com/3', tenant: 'acme' })).resolves.toBeDefined();
  }, 20_000);

  it('rateLimit holds across two processes delivering to one receiver, and everything is delivered', async () => {
    const arrivals: number[] = [];
    const receiver = await startReceiver(() => {
      arrivals.push(Date.now());
      return 200;
    });
    cleanups.push(() => receiver.close());
    const [storeA, storeB] = await backend.pair();
    const a = replica(storeA);
    const b = replica(storeB);
    const hook = await a.webhooks.create({ url: receiver.url, events: ['*'], rateLimit: 5 });
    await until(
      () =>
        b.explain(hook.id, ldEvent()).then(
          (explanation) => explanation.matched,
          () => false,
        ),
      'B to see the webhook',
    );

    const started = Date.now();
    const results = (
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).emit(ldEvent())))
    ).flat();

    expect(results.map((r) => r.outcome)).toEqual(Array(20).fill('delivered'));
    expect(arrivals).toHaveLength(20);
    // 5 per second, one more for a window's boundary (per process, it was 10: each replica counted alone).
    expect(busiestSecond(arrivals)).toBeLessThanOrEqual(6);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  }, 30_000);
});

describe('a shared rate limiter that fails', () => {
  async function withLimiter(take: RateLimitStore['take']) {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const [inner] = await pairs.postgres();
    let calls = 0;
    const store = storeOver(inner, {
      rateLimits: {
        take: (id, perSecond) => {
          calls++;
          return take(id, perSecond);
        },
      },
    });
    const errors: string[] = [];
    const dispatcher = replica(store, { logger: { error: (message) => errors.push(message) } });
    return { receiver, dispatcher, errors, calls: () => calls };
  }

  it.each([
    ['hangs', () => new Promise<number>(() => {})],
    ['rejects', () => Promise.reject(new Error('limiter down'))],
    ['answers nonsense', () => Promise.resolve(Number.NaN)],
  ])(
    'when it %s, deliveries go on, limited per process, and it is logged',
    async (_name, take) => {
      const t = await withLimiter(take);
      const limited = await t.dispatcher.webhooks.create({
        url: `${t.receiver.url}/limited`,
        events: ['*'],
        rateLimit: 2,
      });
      const started = Date.now();
      const results = (
        await Promise.all(Array.from({ length: 4 }, () => t.dispatcher.emit(ldEvent())))
      ).flat();

      expect(results.map((r) => [r.webhookId, r.outcome])).toEqual(Array(4).fill([limited.id, 'delivered']));
      // At most the 2 s bound on the limiter's answer, then 2 per second in this process.
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(8000);
      expect(t.errors.filter((m) => /shared rate limiter failed/.test(m))).toHaveLength(1);
    },
    20_000,
  );

  it('on a Redis that stops answering, deliveries go on, limited per process', async () => {
    const proxy = await startBlackholeProxy(db.redis);
    cleanups.push(() => proxy.close());
    const client = new Redis(proxy.url, { maxRetriesPerRequest: null });
    cleanups.push(() => client.disconnect());
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const errors: string[] = [];
    const store = redisStore({ client, key: `wd-test:${randomUUID().slice(0, 8)}` });
    const dispatcher = replica(store, { logger: { error: (message) => errors.push(message) } });
    const hook = await dispatcher.webhooks.create({ url: receiver.url, events: ['*'], rateLimit: 2 });
    expect((await dispatcher.emit(ldEvent()))[0]?.outcome).toBe('delivered');

    proxy.blackhole();
    const started = Date.now();
    const results = (await Promise.all(Array.from({ length: 3 }, () => dispatcher.emit(ldEvent())))).flat();

    expect(results.map((r) => [r.webhookId, r.outcome])).toEqual(Array(3).fill([hook.id, 'delivered']));
    expect(Date.now() - started).toBeLessThan(8000);
    expect(errors.filter((m) => /shared rate limiter failed/.test(m))).toHaveLength(1);
  }, 20_000);

  it('is not asked for webhooks without a rateLimit', async () => {
    const t = await withLimiter(async () => 0);
    await t.dispatcher.webhooks.create({ url: t.receiver.url, events: ['*'] });
    const [result] = await t.dispatcher.emit(ldEvent());
    expect(result?.outcome).toBe('delivered');
    expect(t.calls()).toBe(0);
  });
});

/** An emitter's queue and a worker on it, for each durable queue. */
const durableQueues = [
  {
    name: 'pg-boss',
    stores: () => pairs.postgres(),
    setup(queueName: string) {
      const options = { pool: db.pool, schema: 'wd_test_limits', queueName };
      return {
        queue: pgBossQueue(options),
        worker: (store: WebhookStore) =>
          createPgBossWorker({ ...options, store, allowPrivateNetworks: true, pollingIntervalMs: 100 }),
      };
    },
  },
  {
    name: 'BullMQ',
    stores: () => pairs.redis(),
    setup(queueName: string) {
      const options = { connection: { url: db.redis.url }, queueName, prefix: 'wd-test-limits' };
      return {
        queue: bullmqQueue(options),
        worker: (store: WebhookStore) =>
          createBullmqWorker({ ...options, store, allowPrivateNetworks: true }),
      };
    },
  },
];

describe.each(durableQueues)('rateLimit in $name workers', (durable) => {
  it('two workers together deliver at most rateLimit per second, and every job', async () => {
    const arrivals: number[] = [];
    const receiver = await startReceiver(() => {
      arrivals.push(Date.now());
      return 200;
    });
    cleanups.push(() => receiver.close());
    const [storeA, storeB] = await durable.stores();
    const { queue, worker } = durable.setup(`q-${randomUUID().slice(0, 8)}`);
    const emitter = createWebhookDispatcher({ store: storeA, queue, allowPrivateNetworks: true });
    cleanups.push(() => emitter.close());
    const workers = [worker(storeA), worker(storeB)];
    for (const w of workers) cleanups.push(() => w.close({ deadlineMs: 500 }));
    await Promise.all(workers.map((w) => w.ready()));
    await emitter.webhooks.create({ url: receiver.url, events: ['*'], rateLimit: 5 });

    for (let i = 0; i < 20; i++) await emitter.emit(ldEvent());
    await until(() => arrivals.length >= 20, 'every delivery', 30_000);

    await sleep(500);
    expect(arrivals).toHaveLength(20);
    // 5 per second, one more for a window's boundary (per process, it was up to 10).
    expect(busiestSecond(arrivals)).toBeLessThanOrEqual(6);
  }, 45_000);
});

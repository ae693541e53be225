import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../src/bullmq/index.js';
import type { Webhook } from '../src/core/types.js';
import { OptionsError } from '../src/extend.js';
import { createWebhookDispatcher } from '../src/index.js';
import { ldEvent, webhookRecord } from './helpers/events.js';
import { startReceiver } from './helpers/receiver.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(() => redis?.stop());

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function client(): Redis {
  const c = new Redis(redis.url);
  cleanups.push(() => c.disconnect());
  return c;
}

function freshKey(): string {
  const key = `wd-test:${randomUUID().slice(0, 8)}`;
  cleanups.push(async () => {
    const c = new Redis(redis.url);
    await c.del(key, `${key}:circuits`);
    c.disconnect();
  });
  return key;
}

const webhook = (id: string): Webhook =>
  webhookRecord({
    id,
    url: `https://example.com/${id}`,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  });

/** Calls seen by a watcher, with a way to wait for more. */
function watcher() {
  const seen: (string | undefined)[] = [];
  const waitFor = async (test: () => boolean, what: string, timeoutMs = 5000) => {
    const end = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen)}`);
      await sleep(10);
    }
  };
  return { seen, onChange: (id?: string) => void seen.push(id), waitFor };
}

describe('redisStore.watch', () => {
  it('another store on the same key hears create, update and delete, by id, within a second', async () => {
    const key = freshKey();
    const writer = redisStore({ client: client(), key });
    const reader = redisStore({ client: client(), key });
    const w = watcher();
    const stop = reader.watch(w.onChange);
    cleanups.push(stop);
    // Subscribed: the first call (no id) says "re-read everything".
    await w.waitFor(() => w.seen.length === 1, 'SUBSCRIBE to be in place');
    expect(w.seen).toEqual([undefined]);

    const timed = async (write: () => Promise<unknown>, id: string) => {
      const count = w.seen.length;
      await write();
      await w.waitFor(() => w.seen.length > count, `a notification for ${id}`, 1000);
      expect(w.seen.slice(count)).toEqual([id]);
    };
    await timed(() => writer.create(webhook('w1')), 'w1');
    await timed(() => writer.update({ ...webhook('w1'), on: false }), 'w1');
    await timed(() => writer.delete('w1'), 'w1');

    // A write that changes nothing announces nothing.
    const count = w.seen.length;
    await expect(writer.update(webhook('w1'))).rejects.toThrow(/no webhook "w1"/);
    expect(await writer.delete('w1')).toBe(false);
    await sleep(200);
    expect(w.seen.length).toBe(count);

    await stop();
    await writer.create(webhook('w2'));
    await sleep(200);
    expect(w.seen.length).toBe(count);
  });

  it('after the subscriber connection is killed it resubscribes and says "re-read everything"', async () => {
    const key = freshKey();
    const admin = client();
    const writer = redisStore({ client: client(), key });
    const reader = redisStore({ client: client(), key });
    const w = watcher();
    cleanups.push(reader.watch(w.onChange));
    await w.waitFor(() => w.seen.length === 1, 'SUBSCRIBE to be in place');

    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await w.waitFor(() => w.seen.length >= 2, 'the resubscription', 10_000);
    expect(w.seen[1]).toBeUndefined();
    await writer.create(webhook('after-reconnect'));
    await w.waitFor(() => w.seen.includes('after-reconnect'), 'a notification after the reconnection');
  }, 20_000);

  it('two dispatchers on one redisStore: a delete, switch-off, URL change and create on one are honoured by the other within a second', async () => {
    const key = freshKey();
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const make = () => {
      const d = createWebhookDispatcher({
        store: redisStore({ client: client(), key }),
        allowPrivateNetworks: true,
        retry: 0,
      });
      cleanups.push(() => d.close());
      return d;
    };
    const one = make();
    const other = make();
    const deleted = await one.webhooks.create({ url: `${receiver.url}/deleted` });
    const off = await one.webhooks.create({ url: `${receiver.url}/off` });
    const moved = await one.webhooks.create({ url: `${receiver.url}/old` });
    const first = await other.emit(ldEvent());
    expect(first.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);

    await one.webhooks.delete(deleted.id);
    await one.webhooks.update(off.id, { on: false });
    await one.webhooks.update(moved.id, { url: `${receiver.url}/new` });
    const created = await one.webhooks.create({ url: `${receiver.url}/created` });
    await sleep(1000);
    receiver.requests.length = 0;

    const results = await other.emit(ldEvent());
    expect(results.map((r) => [r.webhookId, r.outcome]).sort()).toEqual(
      [
        [moved.id, 'delivered'],
        [created.id, 'delivered'],
      ].sort(),
    );
    expect(receiver.requests.map((r) => r.url).sort()).toEqual(['/created', '/new']);
  });

  it('a client without duplicate() needs `subscriber`, and the error names it', () => {
    const c = client();
    const store = redisStore({
      client: {
        hget: c.hget.bind(c),
        hvals: c.hvals.bind(c),
        hgetall: c.hgetall.bind(c),
        eval: c.eval.bind(c),
      },
    });
    expect(() => store.watch(() => {})).toThrow(OptionsError);
    expect(() => store.watch(() => {})).toThrow(/`subscriber`/);
  });

  it('a given `subscriber` is used and left open', async () => {
    const key = freshKey();
    const subscriber = client();
    const writer = redisStore({ client: client(), key });
    const reader = redisStore({ client: client(), key, subscriber });
    const w = watcher();
    const stop = reader.watch(w.onChange);
    await w.waitFor(() => w.seen.length === 1, 'SUBSCRIBE to be in place');
    await writer.create(webhook('w1'));
    await w.waitFor(() => w.seen.includes('w1'), 'a notification');
    await stop();
    expect(subscriber.status).toBe('ready');
  });
});

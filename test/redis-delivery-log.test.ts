import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisDeliveryLog } from '../src/bullmq/index.js';
import { OptionsError } from '../src/extend.js';
import { createWebhookDispatcher } from '../src/index.js';
import { attemptOf, deliveryLogContract } from './helpers/delivery-log-contract.js';
import { ldEvent } from './helpers/events.js';
import { startReceiver } from './helpers/receiver.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

/** A fresh key prefix per test: tests share the server. */
const freshPrefix = () => `test:log:${randomUUID()}`;

deliveryLogContract('redisDeliveryLog', async (options) => ({
  log: redisDeliveryLog({ client, prefix: freshPrefix(), ...options }),
  // Redis expires keys on its own clock.
  advance: (ms) => sleep(ms),
}));

describe('redisDeliveryLog', () => {
  it('sweeps expired deliveries out of the cross-webhook sets as it writes, even when nobody reads them', async () => {
    const prefix = freshPrefix();
    const log = redisDeliveryLog({ client, prefix, maxAgeMs: 200 });
    for (let i = 0; i < 20; i++)
      await log.record(attemptOf(`w${i % 4}`, `old${i}`, Date.now(), { tenant: 't' }));
    expect(await client.zcard(`${prefix}:all`)).toBe(20);
    await sleep(300);
    for (let i = 0; i < 20; i++) await log.record(attemptOf('w9', `new${i}`, Date.now(), { tenant: 't' }));
    expect(await client.zcard(`${prefix}:all`)).toBe(20);
    expect(await client.zcard(`${prefix}:t:t`)).toBe(20);
    expect(await client.pttl(`${prefix}:all`)).toBeGreaterThan(0);
    expect(await client.pttl(`${prefix}:st:t`)).toBeGreaterThan(0);
    expect(await client.pttl(`${prefix}:s:all`)).toBeGreaterThan(0);
  });

  it('stores a body shared by the attempts of a delivery once, and expires every key', async () => {
    const prefix = freshPrefix();
    const log = redisDeliveryLog({ client, prefix, maxAgeMs: 60_000 });
    const body = `{"big":"${'x'.repeat(50_000)}"}`;
    const first = { ...attemptOf('w1', 'd1', 0), request: { url: 'u', headers: {}, body } };
    for (let n = 1; n <= 5; n++) await log.record({ ...first, attempt: n });
    await log.record({ ...first, attempt: 6, request: { ...first.request, body: 'other' } });

    const attempts = await client.lrange(`${prefix}:a:d1`, 0, -1);
    expect(attempts).toHaveLength(6);
    expect(attempts.every((a) => a.length < 1000)).toBe(true); // no attempt holds the 50 KB body itself
    expect(await client.hstrlen(`${prefix}:d:d1`, 'body')).toBe(body.length);
    // Only the one different body has a field of its own.
    expect((await client.hkeys(`${prefix}:d:d1`)).filter((k) => /^b\d+$/.test(k))).toEqual(['b1']);
    const record = (await log.get('d1'))!;
    expect(record.attempts.map((a) => a.request.body?.length)).toEqual([5, ...Array(5).fill(body.length)]);
    for (const key of [`${prefix}:d:d1`, `${prefix}:a:d1`, `${prefix}:w:w1`]) {
      const ttl = await client.pttl(key);
      expect(ttl, key).toBeGreaterThan(50_000);
      expect(ttl, key).toBeLessThanOrEqual(60_000);
    }
  });

  it('keeps the newest perDelivery attempts, dropping the bodies only they held', async () => {
    const prefix = freshPrefix();
    const log = redisDeliveryLog({ client, prefix, perDelivery: 2 });
    const base = attemptOf('w1', 'd1', 0);
    for (let n = 1; n <= 5; n++) {
      await log.record({ ...base, attempt: n, request: { ...base.request, body: `body ${n}` } });
    }
    const record = (await log.get('d1'))!;
    expect(record.attempts.map((a) => [a.attempt, a.request.body])).toEqual([
      [5, 'body 5'],
      [4, 'body 4'],
    ]);
    // The first body stays (field `body`); bodies 2 and 3 went with their attempts.
    expect((await client.hkeys(`${prefix}:d:d1`)).filter((k) => /^b\d+$/.test(k)).sort()).toEqual([
      'b3',
      'b4',
    ]);
  });

  it('deletes what perWebhook trims, and removes expired members from the webhook index on read', async () => {
    const prefix = freshPrefix();
    const log = redisDeliveryLog({ client, prefix, perWebhook: 2 });
    for (let n = 1; n <= 4; n++) await log.record(attemptOf('w1', `d${n}`, n));
    expect(await client.exists(`${prefix}:d:d1`, `${prefix}:a:d1`, `${prefix}:d:d2`)).toBe(0);
    expect(await client.zrange(`${prefix}:w:w1`, '0', '-1')).toEqual(['d3', 'd4']);
    // A delivery whose keys expired (or were evicted by Redis) is skipped and forgotten.
    await client.del(`${prefix}:d:d4`, `${prefix}:a:d4`);
    expect((await log.list('w1')).items.map((r) => r.deliveryId)).toEqual(['d3']);
    expect(await client.zrange(`${prefix}:w:w1`, '0', '-1')).toEqual(['d3']);
  });

  it('cuts bodies to maxBodyBytes and says so', async () => {
    const log = redisDeliveryLog({ client, prefix: freshPrefix(), maxBodyBytes: 10 });
    await log.record({
      ...attemptOf('w1', 'd1', 0),
      request: { url: 'u', headers: {}, body: 'ü'.repeat(20) },
      response: { body: 'r'.repeat(100) },
    });
    const [attempt] = (await log.get('d1'))!.attempts;
    expect(attempt!.request).toMatchObject({ body: 'ü'.repeat(5), bodyTruncated: true });
    expect(attempt!.response!.body).toBe('r'.repeat(10));
  });

  it('is shared: a second log on the same prefix (another process) reads what the first wrote', async () => {
    const prefix = freshPrefix();
    const other = new Redis(redis.url);
    try {
      await redisDeliveryLog({ client, prefix }).record(attemptOf('w1', 'd1', 0, { tenant: '' }));
      const record = await redisDeliveryLog({ client: other, prefix }).get('d1');
      expect(record).toMatchObject({ deliveryId: 'd1', webhookId: 'w1', tenant: '' });
    } finally {
      await other.quit();
    }
  });

  it('records the attempts of a dispatcher', async () => {
    const receiver = await startReceiver((_req, n) => (n === 0 ? 503 : 200));
    const deliveryLog = redisDeliveryLog({ client, prefix: freshPrefix() });
    const dispatcher = createWebhookDispatcher({
      deliveryLog,
      allowPrivateNetworks: true,
      retry: { schedule: [10], jitter: 0 },
    });
    try {
      const hook = await dispatcher.webhooks.create({ url: receiver.url });
      const [result] = await dispatcher.emit(ldEvent());
      expect(result).toMatchObject({ ok: true, attempts: 2 });
      // record is not awaited on the delivery path.
      let page = await dispatcher.deliveries.list(hook.id);
      for (let i = 0; i < 50 && page.items[0]?.attempts.length !== 2; i++) {
        await sleep(20);
        page = await dispatcher.deliveries.list(hook.id);
      }
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({ deliveryId: result!.deliveryId, status: 'delivered' });
      expect(page.items[0]!.attempts.map((a) => [a.attempt, a.status])).toEqual([
        [2, 200],
        [1, 503],
      ]);
      expect(await deliveryLog.get(result!.deliveryId)).toEqual(page.items[0]);
    } finally {
      await dispatcher.close();
      await receiver.close();
    }
  });

  it('refuses bad options naming the field', () => {
    expect(() => redisDeliveryLog({} as never)).toThrow(OptionsError);
    expect(() => redisDeliveryLog({ client: {} as never })).toThrow(/`client`/);
    expect(() => redisDeliveryLog({ client, prefix: '' })).toThrow(/`prefix`/);
    expect(() => redisDeliveryLog({ client, maxAgeMs: 0 })).toThrow(/`maxAgeMs` to be a positive integer/);
    expect(() => redisDeliveryLog({ client, perWebhook: 1.5 })).toThrow(/`perWebhook`/);
    expect(() => redisDeliveryLog({ client, perDelivery: -1 })).toThrow(/`perDelivery`/);
    expect(() => redisDeliveryLog({ client, maxBodyBytes: -1 })).toThrow(/`maxBodyBytes`/);
    expect(() => redisDeliveryLog({ client, maxAgeMs: 90 * 86_400_000 })).not.toThrow();
  });
});

import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BullmqDeliveryQueue,
  bullmqQueue,
  createWebhookWorker,
  type RedisStoreClient,
  redisStore,
} from '../src/bullmq/index.js';
import type { DeliveryResult, Webhook, WebhookStore } from '../src/core/types.js';
import { deliveryIdFor, OptionsError } from '../src/extend.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../src/index.js';
import type { WorkerFixtureConfig } from './fixtures/bullmq-worker.js';
import { bundleFixture, spawnWorkerProcess, type WorkerProcess } from './helpers/durable.js';
import { ldEvent, webhookRecord } from './helpers/events.js';
import { bigFanOut, expectSignedCopies, peakRssGrowth } from './helpers/fan-out.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { startRedis, startRoundTripProxy, type TestRedis } from './helpers/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER_BUNDLE = `${ROOT}node_modules/.cache/webhook-dispatcher-tests/bullmq-worker.mjs`;
const PREFIX = 'wd-test';
/** Short locks so a killed worker's jobs come back within about two seconds (the defaults are 30 s each). */
const LOCK_DURATION = 1500;
const STALLED_INTERVAL = 500;

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  // The worker processes run the TypeScript sources, bundled once per run (packages stay external).
  await bundleFixture(`${ROOT}test/fixtures/bullmq-worker.ts`, WORKER_BUNDLE);
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

/** One test's world: its own queue name and store key, so nothing leaks between tests or runs. */
interface World {
  queueName: string;
  storeKey: string;
  store: WebhookStore;
  queue: BullmqDeliveryQueue;
  dispatcher: WebhookDispatcher;
  receiver: Receiver;
  /** Read-only view of the queue for assertions. */
  inspect: Queue;
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(respond?: Parameters<typeof startReceiver>[0]): Promise<World> {
  const queueName = `deliveries-${randomUUID()}`;
  const storeKey = `${PREFIX}:${queueName}:webhooks`;
  const store = redisStore({ client, key: storeKey });
  const queue = bullmqQueue({ connection: { url: redis.url }, queueName, prefix: PREFIX });
  const dispatcher = createWebhookDispatcher({ store, queue, allowPrivateNetworks: true, retry: 0 });
  const receiver = await startReceiver(respond);
  const inspect = new Queue(queueName, { connection: { url: redis.url }, prefix: PREFIX });
  cleanups.push(async () => {
    await dispatcher.close();
    await receiver.close();
    await inspect.obliterate({ force: true });
    await inspect.close();
    await client.del(storeKey);
  });
  return { queueName, storeKey, store, queue, dispatcher, receiver, inspect };
}

async function spawnWorker(
  w: World,
  name: string,
  options: { concurrency?: number; schedule?: number[] } = {},
): Promise<WorkerProcess> {
  const config: WorkerFixtureConfig = {
    name,
    redisUrl: redis.url,
    queueName: w.queueName,
    prefix: PREFIX,
    storeKey: w.storeKey,
    concurrency: options.concurrency ?? 8,
    lockDuration: LOCK_DURATION,
    stalledInterval: STALLED_INTERVAL,
    ...(options.schedule ? { schedule: options.schedule } : {}),
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

/** A worker in this process on the world's queue and store, ready; its outcomes go to `seen`. */
async function inProcessWorker(w: World, seen: DeliveryResult[]) {
  const worker = createWebhookWorker({
    connection: { url: redis.url },
    queueName: w.queueName,
    prefix: PREFIX,
    store: w.store,
    allowPrivateNetworks: true,
    onDelivery: (result) => seen.push(result),
  });
  cleanups.push(() => worker.close());
  await worker.ready();
  return worker;
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

describe('bullmqQueue: emit', () => {
  it('does not queue a duplicate emit of the same event twice, even after the first was delivered', async () => {
    const w = await world();
    await w.dispatcher.webhooks.create({ url: w.receiver.url });
    const event = ldEvent();
    const sentinel = ldEvent();
    const worker = await spawnWorker(w, 'only', { concurrency: 1 });

    await Promise.all([w.dispatcher.emit(event), w.dispatcher.emit(structuredClone(event))]);
    await w.receiver.waitFor(1);
    await worker.waitForResults(1);
    await w.dispatcher.emit(structuredClone(event));
    // One worker taking one job at a time delivers in queue order: a duplicate queued before the sentinel
    // would have reached the receiver before it.
    await w.dispatcher.emit(sentinel);
    await worker.waitForResults(2);

    const ids = w.receiver.requests.map((r) => JSON.parse(r.body)._id);
    expect(ids).toEqual([event._id, sentinel._id]);
  });

  it('resolves with a failed ENQUEUE_FAILED result, never a rejection, when Redis refuses the job', async () => {
    const queue = bullmqQueue({
      // Nothing listens on port 1; no offline queue and no reconnection, so the add fails at once.
      connection: { host: '127.0.0.1', port: 1, enableOfflineQueue: false, retryStrategy: () => null },
      queueName: `deliveries-${randomUUID()}`,
    });
    const reported: DeliveryResult[] = [];
    const dispatcher = createWebhookDispatcher({
      queue,
      allowPrivateNetworks: true,
      onDelivery: (r) => reported.push(r),
    });
    cleanups.push(() => dispatcher.close());
    const hook = await dispatcher.webhooks.create({ url: 'http://127.0.0.1:9/hook' });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ webhookId: hook.id, ok: false, outcome: 'failed', attempts: 0 });
    expect(result?.error?.code).toBe('ENQUEUE_FAILED');
    // An outcome decided by the queue itself still reaches onDelivery.
    expect(reported).toEqual([result]);
  });

  it('delivers dispatcher.test() at once from the emitting process and returns the real outcome', async () => {
    const w = await world();
    const hook = await w.dispatcher.webhooks.create({ url: w.receiver.url, on: false });

    const result = await w.dispatcher.test(hook.id);

    expect(result).toMatchObject({ ok: true, outcome: 'delivered', status: 200, attempts: 1 });
    expect(w.receiver.requests).toHaveLength(1);
    expect(await w.inspect.getWaitingCount()).toBe(0);
  });
});

describe('bullmqQueue: a fan-out', () => {
  /** An emitting dispatcher whose queue reaches Redis through a proxy that counts round trips. */
  async function proxied(w: World) {
    const proxy = await startRoundTripProxy(redis);
    const queue = bullmqQueue({ connection: { url: proxy.url }, queueName: w.queueName, prefix: PREFIX });
    const dispatcher = createWebhookDispatcher({
      store: w.store,
      queue,
      allowPrivateNetworks: true,
      retry: 0,
    });
    cleanups.push(async () => {
      await dispatcher.close();
      await proxy.close();
    });
    await queue.ready();
    return { proxy, queue, dispatcher };
  }

  it('queues a fan-out to 50 webhooks in two round trips (its body once, then the jobs); each webhook receives it once, with its webhook-id; a duplicate emit queues nothing', async () => {
    const w = await world();
    const hooks: Webhook[] = [];
    for (let i = 0; i < 50; i++)
      hooks.push(await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/${i}` }));
    const { proxy, dispatcher } = await proxied(w);
    // The first emit loads BullMQ's scripts on the new connection; the round trips of the second are counted.
    await dispatcher.emit(ldEvent('production', { _id: `warm-${randomUUID()}` }));
    await w.inspect.obliterate({ force: true });
    const event = ldEvent('production', { _id: `fan-${randomUUID()}` });

    proxy.reset();
    const results = await dispatcher.emit(event);

    expect(proxy.roundTrips).toBe(2);
    expect(proxy.commands('eval')).toBe(1);
    expect(proxy.commands('evalsha')).toBe(50);
    expect(results).toHaveLength(50);
    expect(results.every((r) => r.outcome === 'queued' && r.attempts === 0)).toBe(true);
    expect(results.map((r) => r.webhookId).sort()).toEqual(hooks.map((h) => h.id).sort());
    expect(await w.inspect.getWaitingCount()).toBe(50);
    // Results in job order: each result names its own job, keyed by its delivery id.
    for (const result of results) {
      const job = await w.inspect.getJob(result.deliveryId);
      expect(job?.data).toMatchObject({ deliveryId: result.deliveryId, webhookId: result.webhookId });
    }

    const worker = await spawnWorker(w, 'fan-out', { concurrency: 16 });
    await worker.waitForResults(50);
    expect(w.receiver.requests).toHaveLength(50);
    const received = new Map(w.receiver.requests.map((r) => [r.url, header(r.headers['webhook-id'])]));
    hooks.forEach((hook, i) => {
      expect(received.get(`/${i}`)).toBe(results.find((r) => r.webhookId === hook.id)?.deliveryId);
    });

    // The same event again, after delivery: the same queued results, nothing in Redis, nothing sent.
    proxy.reset();
    const again = await dispatcher.emit(structuredClone(event));
    expect(again.map((r) => [r.deliveryId, r.outcome])).toEqual(results.map((r) => [r.deliveryId, 'queued']));
    expect(proxy.roundTrips).toBe(2);
    const counts = await w.inspect.getJobCounts('waiting', 'active', 'delayed', 'completed');
    expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 50 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(w.receiver.requests).toHaveLength(50);
    expect(worker.results).toHaveLength(50);
  }, 60_000);

  it('refuses a transaction for a fan-out as for a single delivery, and queues nothing', async () => {
    const w = await world();
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` });
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` });
    expect(w.queue.supportsTransactions).toBeFalsy();

    await expect(w.dispatcher.emit(ldEvent(), { transaction: {} })).rejects.toMatchObject({
      code: 'ERR_TRANSACTION_UNSUPPORTED',
    });
    expect(await w.inspect.getWaitingCount()).toBe(0);
  });
});

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);

describe('bullmqQueue: the event body stored once per emit', () => {
  it('queues a 1 MiB event to 10,000 webhooks with Redis memory bounded by the event size plus 2 KB a job (emitter memory: 4 KB); deliveries verify', async () => {
    const w = await world();
    await w.queue.ready();
    const { event, eventBody, elsewhere, jobs, bound } = await bigFanOut(w);
    const redisBefore = await usedMemory();

    const { value: results, growth, ms } = await peakRssGrowth(() => w.queue.enqueueMany(jobs));

    const redisBytes = (await usedMemory()) - redisBefore;
    console.log(
      `1 MiB x 10,000 on BullMQ: enqueueMany ${ms} ms, emitter RSS +${(growth / 1048576).toFixed(1)} MiB, ` +
        `Redis used_memory +${(redisBytes / 1048576).toFixed(1)} MiB (bound ${(bound / 1048576).toFixed(1)} MiB)`,
    );
    expect(results.filter((r) => r.outcome !== 'queued')).toHaveLength(0);
    expect(redisBytes).toBeLessThan(bound);
    expect(growth).toBeLessThan(3 * eventBody.length + 4096 * jobs.length);

    // The three webhooks that exist get their delivery (the others' jobs are removed here rather than sent).
    await Promise.all(elsewhere.map((webhookId) => w.inspect.remove(deliveryIdFor(event._id, webhookId))));
    const worker = await spawnWorker(w, 'one');
    await worker.waitForResults(3);
    expect(worker.results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
    expectSignedCopies(w.receiver.requests, ['/0', '/1', '/2'], eventBody, 'shh');
  }, 180_000);

  it('removes a stored body once none of its jobs exists, and keeps it while one does', async () => {
    const w = await world();
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` });
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` });
    await w.dispatcher.emit(ldEvent());
    const keys = `${PREFIX}:${w.queueName}:wd:`;
    const ref = (await w.inspect.getJobs(['waiting']))[0]?.data.eventBodyRef as string;
    const orphan = `orphan-${randomUUID()}`;
    await client.set(`${keys}body:${orphan}`, '{}');
    // As if written and last checked long ago (the grace is an hour).
    const age = () => client.zadd(`${keys}bodies`, 0, ref, 0, orphan);
    const seen: DeliveryResult[] = [];
    // A worker sweeps its queue's bodies when it starts (and every 10 minutes).
    await age();
    const first = await inProcessWorker(w, seen);
    await until(async () => (await client.exists(`${keys}body:${orphan}`)) === 0, 'the orphan body to go');
    await until(() => seen.length === 2, 'the deliveries');
    expect(seen.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    // Delivered, but BullMQ keeps the completed jobs (removeOnComplete): they could be retried, so the body stays.
    expect(await client.get(`${keys}body:${ref}`)).not.toBeNull();
    await first.close();

    await w.inspect.clean(0, 1000, 'completed');
    await age();
    await inProcessWorker(w, seen);
    await until(
      async () => (await client.exists(`${keys}body:${ref}`, `${keys}refs:${ref}`)) === 0,
      'the body to go',
    );
  });
});

describe('createWebhookWorker', () => {
  it('delivers with the same body, signature and webhook-id as in-process delivery, and keeps the result', async () => {
    const w = await world();
    const hook = await w.dispatcher.webhooks.create({
      url: w.receiver.url,
      secret: 'shh',
      bodyTemplate: '{"flag":"{{event.name}}","at":"{{event.changedAt}}","raw":{{{eventJson}}}}',
      headers: { authorization: 'Bearer x' },
    });
    const event = ldEvent('production', { changedAt: new Date('2024-10-16T12:00:00.000Z') });
    const expected = await w.dispatcher.preview(hook.id, event);
    const [queued] = await w.dispatcher.emit(event);
    const worker = await spawnWorker(w, 'one');

    await worker.waitForResults(1);

    const [request] = w.receiver.requests;
    expect(request?.body).toBe(expected.body);
    expect(JSON.parse(request?.body as string).at).toBe('2024-10-16T12:00:00.000Z');
    expect(request?.headers['x-ld-signature']).toBe(expected.headers['x-ld-signature']);
    expect(request?.headers['webhook-id']).toBe(queued?.deliveryId);
    expect(request?.headers.authorization).toBe('Bearer x');
    expect(worker.results[0]).toMatchObject({
      deliveryId: queued?.deliveryId,
      outcome: 'delivered',
      ok: true,
    });
    await until(async () => (await w.inspect.getCompletedCount()) === 1, 'the job to complete');
    const job = await w.inspect.getJob(queued?.deliveryId as string);
    expect(job?.returnvalue).toMatchObject({
      deliveryId: queued?.deliveryId,
      outcome: 'delivered',
      status: 200,
    });
  });

  it('tenant isolation holds on BullMQ: only the tenant\u2019s webhooks receive, and a job naming another tenant is skipped', async () => {
    const w = await world();
    const greedy = [{ effect: 'allow' as const, actions: ['*'], resources: ['proj/*:env/*:flag/*'] }];
    const acme = await w.dispatcher.webhooks.create({
      url: `${w.receiver.url}/acme`,
      tenant: 'acme',
      statements: greedy,
    });
    await w.dispatcher.webhooks.create({
      url: `${w.receiver.url}/globex`,
      tenant: 'globex',
      statements: greedy,
    });
    await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/none`, statements: greedy });
    const queued = await w.dispatcher.emit(ldEvent(), { tenant: 'acme' });
    expect(queued.map((r) => r.webhookId)).toEqual([acme.id]);
    // A job that names the acme webhook under another tenant (written around the dispatcher) must not reach it.
    await w.inspect.add('deliver', {
      deliveryId: 'msg_forged',
      webhookId: acme.id,
      eventId: 'forged',
      eventBody: JSON.stringify(ldEvent()),
      tenant: 'globex',
    });
    const worker = await spawnWorker(w, 'only');
    await worker.waitForResults(2);
    expect(w.receiver.requests.map((r) => r.url)).toEqual(['/acme']);
    expect(worker.results.find((r) => r.deliveryId === 'msg_forged')).toMatchObject({
      outcome: 'skipped',
      reason: 'the webhook belongs to another tenant',
    });
  });

  it('a worker SIGKILLed during a retry schedule: the next worker continues from the right attempt', async () => {
    // Down for two attempts, then up. Each retry is a delayed job carrying its attempt count.
    const w = await world((_request, n) => (n < 2 ? 503 : 200));
    await w.dispatcher.webhooks.create({ url: w.receiver.url });
    const [queued] = await w.dispatcher.emit(ldEvent());
    const first = await spawnWorker(w, 'first', { schedule: [1500, 300] });
    await until(async () => w.receiver.requests.length === 1, 'the first attempt');
    await until(async () => (await w.inspect.getDelayedCount()) === 1, 'the retry to be a delayed job');
    const delayed = await w.inspect.getJob(queued?.deliveryId as string);
    expect(delayed?.data.attempt).toBe(1);
    await first.kill();

    const second = await spawnWorker(w, 'second', { schedule: [1500, 300] });
    await second.waitForResults(1);
    expect(w.receiver.requests).toHaveLength(3);
    expect(second.results[0]).toMatchObject({ deliveryId: queued?.deliveryId, ok: true, attempts: 3 });
    expect(new Set(w.receiver.requests.map((r) => header(r.headers['webhook-id'])))).toEqual(
      new Set([queued?.deliveryId]),
    );
    expect(first.results).toEqual([]);
  });

  it('loses nothing when one of two workers is SIGKILLed mid-delivery: the other redelivers its jobs with the same webhook-id', async () => {
    // Worker "a" never gets an answer, so its jobs are certainly mid-delivery when it is killed.
    const w = await world((request, _n, res) => {
      if (request.headers['x-test-worker'] === 'a') return 'handled';
      res.statusCode = 200;
      res.end('ok');
      return 'handled';
    });
    await w.dispatcher.webhooks.create({ url: w.receiver.url });
    const events = Array.from({ length: 40 }, () => ldEvent());
    const a = await spawnWorker(w, 'a', { concurrency: 4 });
    const emitted = (await Promise.all(events.map((event) => w.dispatcher.emit(event)))).flat();
    const expected = new Set(emitted.map((r) => r.deliveryId));
    expect(expected.size).toBe(40);
    const from = (worker: string) => w.receiver.requests.filter((r) => r.headers['x-test-worker'] === worker);
    await until(() => from('a').length === 4, 'worker a to hold 4 deliveries');

    const b = await spawnWorker(w, 'b', { concurrency: 4 });
    await b.waitForResults(5);
    await a.kill();
    await until(() => new Set(from('b').map((r) => header(r.headers['webhook-id']))).size === 40, 'all 40');

    const heldByA = from('a').map((r) => header(r.headers['webhook-id']));
    const deliveredByB = new Set(from('b').map((r) => header(r.headers['webhook-id'])));
    expect(heldByA).toHaveLength(4);
    for (const id of heldByA) expect(deliveredByB.has(id)).toBe(true);
    expect(deliveredByB).toEqual(expected);
    expect(b.results.every((r) => r.outcome === 'delivered')).toBe(true);
    await until(async () => (await w.inspect.getCompletedCount()) === 40, 'every job to complete');
    expect(await w.inspect.getFailedCount()).toBe(0);
  });

  it('takes each job’s webhook from its watched index, not a store read per delivery, and still honours a change made elsewhere', async () => {
    const w = await world();
    const hook = await w.dispatcher.webhooks.create({ url: w.receiver.url });
    const watched = redisStore({ client, key: w.storeKey });
    let reads = 0;
    const store: WebhookStore = {
      ...watched,
      get: (id) => {
        reads++;
        return watched.get(id);
      },
    };
    const seen: DeliveryResult[] = [];
    const worker = createWebhookWorker({
      connection: { url: redis.url },
      queueName: w.queueName,
      prefix: PREFIX,
      store,
      allowPrivateNetworks: true,
      onDelivery: (result) => seen.push(result),
    });
    cleanups.push(() => worker.close());
    await worker.ready();
    // The first delivery opens the worker's index (and its watch); the count starts once it is in place.
    await w.dispatcher.emit(ldEvent('production', { _id: `first-${randomUUID()}` }));
    await until(() => seen.length === 1, 'the first delivery');
    await new Promise((resolve) => setTimeout(resolve, 200));

    reads = 0;
    for (let i = 0; i < 20; i++)
      await w.dispatcher.emit(ldEvent('production', { _id: `n${i}-${randomUUID()}` }));
    await until(() => seen.length === 21, 'twenty deliveries');
    expect(seen.every((r) => r.outcome === 'delivered')).toBe(true);
    expect(reads).toBe(0);

    // Switched off by the emitting process: the worker hears it and skips the next job.
    await w.dispatcher.webhooks.update(hook.id, { on: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await w.inspect.add(
      'deliver',
      {
        deliveryId: `msg_${hook.id}_late`,
        webhookId: hook.id,
        eventId: 'late',
        eventBody: JSON.stringify(ldEvent('production', { _id: 'late' })),
      },
      { jobId: `msg_${hook.id}_late` },
    );
    await until(() => seen.length === 22, 'the job after the switch-off');
    expect(seen[21]).toMatchObject({ deliveryId: `msg_${hook.id}_late`, ok: false });
    expect(w.receiver.requests).toHaveLength(21);
  }, 30_000);

  it('lanes in a BullMQ worker: a hanging receiver does not fill it; its waiting jobs go back to Redis, delayed', async () => {
    const w = await world((request) => (request.url === '/slow' ? 'handled' : 200));
    const slow = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/slow` });
    const fast = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/fast`, events: ['fast'] });
    const seen: DeliveryResult[] = [];
    const worker = createWebhookWorker({
      connection: { url: redis.url },
      queueName: w.queueName,
      prefix: PREFIX,
      store: w.store,
      allowPrivateNetworks: true,
      retry: 0,
      timeoutMs: 60_000,
      concurrency: 4,
      perWebhookConcurrency: 1,
      onDelivery: (result) => seen.push(result),
    });
    cleanups.push(() => worker.close({ deadlineMs: 100 }));
    await worker.ready();
    // Four jobs for the slow webhook: one hangs in its lane, the other three would hold the worker's slots.
    for (let i = 0; i < 4; i++) await w.dispatcher.emit(ldEvent());
    await w.receiver.waitFor(1);
    await w.dispatcher.emit({ id: `fast-${randomUUID()}`, type: 'fast' });

    await until(() => seen.some((r) => r.webhookId === fast.id), 'the fast webhook to be delivered');
    expect(w.receiver.requests.filter((r) => r.url === '/slow')).toHaveLength(1);
    // The slow webhook's other jobs wait in Redis as delayed jobs, not in the worker (its lane defers them).
    await until(
      async () => (await w.inspect.getDelayed()).filter((job) => job.data.webhookId === slow.id).length >= 1,
      'a deferred job of the slow webhook',
    );
  }, 30_000);

  it('refuses to start without the shared store, and bullmqQueue without a connection', () => {
    expect(() => createWebhookWorker({ connection: { url: redis.url } } as never)).toThrow(OptionsError);
    expect(() => createWebhookWorker({ connection: { url: redis.url } } as never)).toThrow(/`store`/);
    expect(() => bullmqQueue({} as never)).toThrow(/`connection`/);
    expect(() => bullmqQueue({ connection: { url: redis.url }, queueName: 'a:b' })).toThrow(/`queueName`/);
    expect(() => bullmqQueue({ connection: { url: redis.url }, worker: { concurrency: 0 } })).toThrow(
      /`worker.concurrency`/,
    );
  });
});

describe('redisStore', () => {
  const webhook = (id: string, createdAt: string): Webhook =>
    webhookRecord({ id, url: `https://example.com/${id}`, createdAt, updatedAt: createdAt });

  it('keeps webhooks in one Redis hash: create, get, list in creation order, update, delete', async () => {
    const key = `${PREFIX}:${randomUUID()}:webhooks`;
    cleanups.push(() => client.del(key));
    const store = redisStore({ client, key });
    await store.create(webhook('b', '2024-01-02T00:00:00.000Z'));
    await store.create(webhook('a', '2024-01-03T00:00:00.000Z'));
    await store.create(webhook('c', '2024-01-01T00:00:00.000Z'));

    expect((await store.list()).map((x) => x.id)).toEqual(['c', 'b', 'a']);
    expect(await store.get('a')).toEqual(webhook('a', '2024-01-03T00:00:00.000Z'));
    expect(await store.get('missing')).toBeUndefined();
    await expect(store.create(webhook('a', '2024-01-04T00:00:00.000Z'))).rejects.toThrow(/already exists/);

    await store.update({ ...webhook('a', '2024-01-03T00:00:00.000Z'), on: false });
    expect((await store.get('a'))?.on).toBe(false);
    await expect(store.update(webhook('missing', '2024-01-01T00:00:00.000Z'))).rejects.toThrow(/no webhook/);
    expect(await client.hexists(key, 'missing')).toBe(0);

    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect((await store.list()).map((x) => x.id)).toEqual(['c', 'b']);
  });

  it('accepts an ioredis client as it is', () => {
    const accepts: RedisStoreClient = client;
    expect(typeof accepts.hget).toBe('function');
  });
});

// The BullMQ durable path configured once: `bullmqWebhooks()` builds emitters and workers that share the store, the
// queue, the delivery log and the retry policy, and a killed worker's deliveries come back within a minute with
// default options. Real Redis, real loopback receivers, real worker processes.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bullmqQueue, bullmqWebhooks, redisStore } from '../src/bullmq/index.js';
import { createWebhookDispatcher } from '../src/index.js';
import type { WorkerFixtureConfig } from './fixtures/bullmq-worker.js';
import {
  answerAllButWorkerA,
  bundleFixture,
  type ForkedWorker,
  forkWorker,
  killWorkerHoldingJobs,
} from './helpers/durable.js';
import { type Receiver, type Responder, startReceiver } from './helpers/receiver.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER_BUNDLE = `${ROOT}node_modules/.cache/webhook-dispatcher-tests/bullmq-webhooks-worker.mjs`;
const PREFIX = 'wd-webhooks';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  await bundleFixture(`${ROOT}test/fixtures/bullmq-worker.ts`, WORKER_BUNDLE);
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Place {
  queueName: string;
  storeKey: string;
  receiver: Receiver;
}

/** A queue name, a webhooks hash and a receiver of this test's own. */
async function place(respond?: Responder): Promise<Place> {
  const queueName = `deliveries-${randomUUID()}`;
  const storeKey = `${PREFIX}:${queueName}:webhooks`;
  const receiver = await startReceiver(respond);
  cleanups.push(async () => {
    await receiver.close();
    const inspect = new Queue(queueName, { connection: { url: redis.url }, prefix: PREFIX });
    await inspect.obliterate({ force: true });
    await inspect.close();
    await client.del(storeKey);
  });
  return { queueName, storeKey, receiver };
}

/** A worker process with the library's defaults (test/fixtures/bullmq-worker.ts), ready to take jobs. */
async function forkDefaultWorker(p: Place, name: string): Promise<ForkedWorker> {
  const config: WorkerFixtureConfig = {
    name,
    redisUrl: redis.url,
    queueName: p.queueName,
    prefix: PREFIX,
    storeKey: p.storeKey,
    concurrency: 64,
    lockDuration: 0,
    stalledInterval: 0,
    defaults: true,
  };
  const worker = await forkWorker(WORKER_BUNDLE, config);
  cleanups.push(worker.kill);
  return worker;
}

describe('a SIGKILLed BullMQ worker, all options at their defaults', () => {
  it('holding deliveries, retries and lane deferrals: another worker delivers all of them within 60 s', async () => {
    const refused = new Set<unknown>();
    const p = await place(answerAllButWorkerA(refused));
    const emitter = createWebhookDispatcher({
      store: redisStore({ client, key: p.storeKey }),
      queue: bullmqQueue({ connection: { url: redis.url }, queueName: p.queueName, prefix: PREFIX }),
      allowPrivateNetworks: true,
    });
    cleanups.push(() => emitter.close());
    const inspect = new Queue(p.queueName, { connection: { url: redis.url }, prefix: PREFIX });
    cleanups.push(() => inspect.close());

    const run = await killWorkerHoldingJobs({
      emitter,
      receiver: p.receiver,
      refused,
      fork: (name) => forkDefaultWorker(p, name),
      // A retry and a lane deferral are the same job, delayed in Redis.
      deferred: async () => (await inspect.getDelayedCount()) > 0,
    });

    expect(run.queued).toEqual(run.queued.map(() => 'queued'));
    expect(run.reportedByA).toEqual([]);
    expect(run.resumedAfterMs).toBeLessThan(60_000);
    expect(run.deliveredByB).toEqual(run.expected);
  }, 150_000);
});

describe('bullmqWebhooks(): emitters and workers from one set of options', () => {
  it('refuses bad setup options, naming the field', () => {
    expect(() => bullmqWebhooks({ connection: { url: redis.url }, client: undefined as never })).toThrow(
      /client/,
    );
    expect(() => bullmqWebhooks({ connection: { url: redis.url }, client, stalledInterval: -1 })).toThrow(
      /stalledInterval/,
    );
  });
});

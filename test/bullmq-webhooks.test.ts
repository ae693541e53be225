// The BullMQ durable path configured once: what only `bullmqWebhooks()` checks. The cases it shares with
// `postgresWebhooks()` (the shared delivery log, per-process overrides refused, a SIGKILLed worker with default
// options) run over both backends in test/durable-queues.test.ts. Real Redis.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullmqWebhooks } from '../src/bullmq/index.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
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

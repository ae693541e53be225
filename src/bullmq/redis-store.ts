import { OptionsError, type Webhook, type WebhookStore } from '../index.js';

/**
 * The Redis commands `redisStore` uses, as an ioredis client (`new Redis(url)`) has them. Any client with these
 * promise-returning methods works.
 */
export interface RedisStoreClient {
  hget(key: string, field: string): Promise<string | null>;
  hvals(key: string): Promise<string[]>;
  hsetnx(key: string, field: string, value: string): Promise<number>;
  hdel(key: string, field: string): Promise<number>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /** A connected Redis client, e.g. `new Redis(process.env.REDIS_URL)` from ioredis. Not closed by the store. */
  client: RedisStoreClient;
  /** The Redis hash that holds the webhooks (one field per webhook id). @default 'webhook-dispatcher:webhooks' */
  key?: string;
}

/** Replaces a field only if it exists, atomically (a concurrent delete is not undone). */
const UPDATE_IF_EXISTS =
  "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end return 0";

/**
 * A `WebhookStore` in one Redis hash, so every process (emitters and BullMQ workers) sees the same webhooks.
 * Records are JSON; `list()` returns them in creation order.
 *
 * @example
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL) });
 */
export function redisStore(options: RedisStoreOptions): WebhookStore {
  const client = options?.client;
  if (typeof client?.hget !== 'function' || typeof client.eval !== 'function') {
    throw new OptionsError(
      'client',
      'Expected `client` to be a Redis client with hget, hvals, hsetnx, hdel and eval (an ioredis instance)',
    );
  }
  const key = options.key ?? 'webhook-dispatcher:webhooks';
  if (typeof key !== 'string' || key === '') {
    throw new OptionsError('key', `Expected \`key\` to be a non-empty string, got ${JSON.stringify(key)}`);
  }

  return {
    async get(id) {
      const json = await client.hget(key, id);
      return json === null ? undefined : (JSON.parse(json) as Webhook);
    },
    async list() {
      const webhooks = (await client.hvals(key)).map((json) => JSON.parse(json) as Webhook);
      return webhooks.sort((a, b) =>
        a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1,
      );
    },
    async create(webhook) {
      if ((await client.hsetnx(key, webhook.id, JSON.stringify(webhook))) === 0) {
        throw new Error(`redisStore.create: webhook "${webhook.id}" already exists`);
      }
    },
    async update(webhook) {
      const updated = await client.eval(UPDATE_IF_EXISTS, 1, key, webhook.id, JSON.stringify(webhook));
      if (Number(updated) !== 1) throw new Error(`redisStore.update: no webhook "${webhook.id}"`);
    },
    async delete(id) {
      return (await client.hdel(key, id)) > 0;
    },
  };
}

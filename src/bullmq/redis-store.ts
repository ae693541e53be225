import {
  type CircuitStore,
  OptionsError,
  type RateLimitStore,
  rateSpacingMicros,
  type SharedCircuit,
  type Webhook,
  type WebhookStore,
} from '../index.js';
import { withTenantSets } from './redis-store-tenant.js';

/**
 * The Redis commands `redisStore` uses, as an ioredis client (`new Redis(url)`) has them. Any client with these
 * promise-returning methods works.
 */
export interface RedisStoreClient {
  hget(key: string, field: string): Promise<string | null>;
  hvals(key: string): Promise<string[]>;
  hgetall(key: string): Promise<Record<string, string>>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
  /** For `watch`: a second connection for SUBSCRIBE (ioredis's `duplicate()`), unless `subscriber` is given. */
  duplicate?(): RedisSubscriber;
}

/** The connection `watch` SUBSCRIBEs on, as an ioredis client has it (it resubscribes after a reconnect). */
export interface RedisSubscriber {
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (channel: string, message: string) => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  /** For the watch's heartbeat (allowed while subscribed). Without it, only a closed connection is noticed. */
  ping?(): Promise<unknown>;
  unsubscribe?(...channels: string[]): Promise<unknown>;
  disconnect(): void;
}

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /** A connected Redis client, e.g. `new Redis(process.env.REDIS_URL)` from ioredis. Not closed by the store. */
  client: RedisStoreClient;
  /** The Redis hash that holds the webhooks (one field per webhook id). @default 'webhook-dispatcher:webhooks' */
  key?: string;
  /**
   * The connection `watch()` subscribes on. Not closed by the store. By default `watch()` opens its own with
   * `client.duplicate()` and closes it when stopped.
   */
  subscriber?: RedisSubscriber;
  /**
   * How often in ms `watch()` PINGs its subscriber connection; one that does not answer within half of it is
   * reported lost (`onStatus(false)`: workers read webhooks from the store at send time again) until a PING
   * answers and the channels are subscribed again. @default 5000
   */
  heartbeatMs?: number;
  /** Where subscriber connection errors go (ioredis reconnects by itself). Silent by default. */
  logger?: { warn?(message: string, meta?: Record<string, unknown>): void };
}

/** A `WebhookStore` in Redis, with `watch()` over pub/sub and shared circuits. */
export interface RedisWebhookStore extends WebhookStore {
  /**
   * Calls `onChange(id)` after webhook `id` was created, changed or deleted through any `redisStore` on the same
   * key (this process included), and `onChange()` once subscribed and after each reconnection, just after
   * `onStatus(true)`; `onStatus(false)` when the subscriber connection is lost (closed, or its PING heartbeat
   * unanswered). Returns the stop function.
   */
  watch(onChange: (id?: string) => void, onStatus?: (live: boolean) => void): () => Promise<void>;
  /** Open circuits in the hash `<key>:circuits`, followed over the same subscription as `watch`. */
  circuits: CircuitStore & {
    watch(onChange: (id?: string, circuit?: SharedCircuit) => void): () => Promise<void>;
  };
  /**
   * `maxWebhooksPerTenant` for every process: counted and written in one Lua script (it reads the hash's records,
   * so a create with a tenant costs O(webhooks in the hash) inside Redis).
   */
  createWithinTenantLimit(webhook: Webhook, maxPerTenant: number): Promise<boolean>;
  /** `rateLimit` for every worker: each rate-limited webhook's next start slot in `<key>:rate:<id>`. */
  rateLimits: RateLimitStore;
  /** One tenant's webhooks (`null`: those without a tenant), from a set per tenant: tenants are read on demand. */
  listTenant(tenant: string | null): Promise<Webhook[]>;
}

/** Writes that publish the changed id in the same script, so no change goes unannounced. */
const CREATE =
  "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('PUBLISH', KEYS[2], ARGV[1]) return 1 end return 0";
const DELETE =
  "redis.call('HDEL', KEYS[3], ARGV[1]) if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', KEYS[2], ARGV[1]) return 1 end return 0";
/** A circuit is only kept for a webhook that exists; every change is published as `{"id", "circuit"}`. */
const SAVE_CIRCUIT =
  "if ARGV[2] == '' then if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', KEYS[2], ARGV[3]) end return 1 end if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('PUBLISH', KEYS[2], ARGV[3]) return 1";

/**
 * CREATE, unless the tenant (ARGV[3]) already has ARGV[4] webhooks: counted in the same script, so no other
 * process's create can come in between. Records are only decoded when they contain the tenant's JSON string
 * (ARGV[5]). Returns 1 (created), 0 (the id exists) or -1 (the tenant is full).
 */
const CREATE_WITHIN_TENANT_LIMIT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local count, max = 0, tonumber(ARGV[4])
for _, json in ipairs(redis.call('HVALS', KEYS[1])) do
  if string.find(json, ARGV[5], 1, true) then
    local ok, record = pcall(cjson.decode, json)
    if ok and type(record) == 'table' and record.tenant == ARGV[3] then
      count = count + 1
      if count >= max then return -1 end
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[1])
return 1`;

/**
 * The next start slot of a rate-limited webhook: KEYS[1] holds the time (µs, by Redis's clock, so the workers'
 * clocks need not agree) from which the next may start; ARGV[1] is the spacing in µs. Returns 0 when this start
 * took the slot, else the ms until it frees.
 */
const TAKE_RATE = `
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextAt > now then return math.ceil((nextAt - now) / 1000) end
local spacing = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', now + spacing), 'PX', math.ceil(spacing / 1000) + 1000)
return 0`;

/** Replaces a field only if it exists, atomically (a concurrent delete is not undone), and publishes the id. */
const UPDATE_IF_EXISTS =
  "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('PUBLISH', KEYS[2], ARGV[1]) return 1 end return 0";

/**
 * A `WebhookStore` in one Redis hash, so every process (emitters and BullMQ workers) sees the same webhooks.
 * Records are JSON; `list()` returns them in creation order. Every write publishes the id on `<key>:changes`,
 * which `watch()` turns into `onChange(id)` in every process; open circuits live in `<key>:circuits`.
 *
 * @example
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL) });
 */
export function redisStore(options: RedisStoreOptions): RedisWebhookStore {
  const client = options?.client;
  if (typeof client?.hget !== 'function' || typeof client.eval !== 'function') {
    throw new OptionsError(
      'client',
      'Expected `client` to be a Redis client with hget, hvals, hgetall and eval (an ioredis instance)',
    );
  }
  const key = options.key ?? 'webhook-dispatcher:webhooks';
  if (typeof key !== 'string' || key === '') {
    throw new OptionsError('key', `Expected \`key\` to be a non-empty string, got ${JSON.stringify(key)}`);
  }
  if (options.subscriber !== undefined && typeof options.subscriber?.subscribe !== 'function') {
    throw new OptionsError('subscriber', 'Expected `subscriber` to be a Redis client (an ioredis instance)');
  }
  const changes = `${key}:changes`;
  const circuitsKey = `${key}:circuits`;
  const circuitChanges = `${key}:circuits:changes`;
  const warn = (message: string, meta: Record<string, unknown>) => {
    try {
      options.logger?.warn?.call(options.logger, message, meta);
    } catch {
      // a logger that throws is not our failure
    }
  };
  const hub = subscriptionHub(options, [changes, circuitChanges], warn);
  const callback = (onChange: unknown) => {
    if (typeof onChange !== 'function') {
      throw new OptionsError('onChange', `Expected \`onChange\` to be a function, got ${typeof onChange}`);
    }
    return (...args: unknown[]) => {
      try {
        (onChange as (...a: unknown[]) => void)(...args);
      } catch (error) {
        warn('webhook-dispatcher/bullmq: redisStore watch onChange threw', { error: String(error) });
      }
    };
  };

  const create = async (webhook: Webhook): Promise<void> => {
    if (Number(await client.eval(CREATE, 2, key, changes, webhook.id, JSON.stringify(webhook))) !== 1) {
      throw alreadyExists(webhook.id);
    }
  };

  const store: Omit<RedisWebhookStore, 'listTenant'> = {
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
    create,
    async createWithinTenantLimit(webhook, maxPerTenant) {
      const tenant = (webhook as { tenant?: unknown }).tenant;
      if (typeof tenant !== 'string') {
        await create(webhook);
        return true;
      }
      const answer = Number(
        await client.eval(
          CREATE_WITHIN_TENANT_LIMIT,
          2,
          key,
          changes,
          webhook.id,
          JSON.stringify(webhook),
          tenant,
          String(maxPerTenant),
          JSON.stringify(tenant),
        ),
      );
      if (answer === 0) throw alreadyExists(webhook.id);
      return answer === 1;
    },
    async update(webhook) {
      const updated = await client.eval(
        UPDATE_IF_EXISTS,
        2,
        key,
        changes,
        webhook.id,
        JSON.stringify(webhook),
      );
      if (Number(updated) !== 1) throw new Error(`redisStore.update: no webhook "${webhook.id}"`);
    },
    async delete(id) {
      return Number(await client.eval(DELETE, 3, key, changes, circuitsKey, id)) === 1;
    },
    watch(onChange, onStatus) {
      // onStatus lets a BullMQ worker answer the send-time check from its watched index instead of one HGET per
      // delivery: 852 instead of 708 deliveries/s, 0.78x instead of 0.69x of the bare loop (medians of 3 runs of
      // the "bullmqQueue + createWebhookWorker" and "... reading the webhook from Redis" rows of bench/bullmq.mjs).
      const call = callback(onChange);
      const status = onStatus === undefined ? undefined : callback(onStatus);
      return hub.subscribe({
        onMessage: (channel, message) => {
          if (channel === changes) call(message);
        },
        onConnect: () => {
          status?.(true);
          call();
        },
        onLost: () => status?.(false),
      });
    },
    rateLimits: {
      async take(id, perSecond) {
        return Number(
          await client.eval(TAKE_RATE, 1, `${key}:rate:${id}`, String(rateSpacingMicros(perSecond))),
        );
      },
    },
    circuits: {
      async list() {
        const all = await client.hgetall(circuitsKey);
        const circuits: Record<string, SharedCircuit> = {};
        for (const [id, json] of Object.entries(all)) {
          try {
            circuits[id] = JSON.parse(json) as SharedCircuit;
          } catch {
            // not ours to read; the dispatcher ignores what is not a circuit
          }
        }
        return circuits;
      },
      async save(id, circuit) {
        const json = circuit === undefined ? '' : JSON.stringify(circuit);
        const message = JSON.stringify({ id, circuit: circuit ?? null });
        await client.eval(SAVE_CIRCUIT, 3, circuitsKey, circuitChanges, key, id, json, message);
      },
      watch(onChange) {
        const call = callback(onChange);
        return hub.subscribe({
          onMessage: (channel, message) => {
            if (channel !== circuitChanges) return;
            let change: { id?: unknown; circuit?: SharedCircuit | null } | undefined;
            try {
              change = JSON.parse(message);
            } catch {
              change = undefined;
            }
            if (typeof change?.id === 'string') call(change.id, change.circuit ?? undefined);
            else call();
          },
          onConnect: () => call(),
        });
      },
    },
  };
  return withTenantSets(store, client, key);
}

const alreadyExists = (id: string) => new Error(`redisStore.create: webhook "${id}" already exists`);

interface Subscription {
  onMessage(channel: string, message: string): void;
  /** Once subscribed, and again after every reconnection (messages may have been missed meanwhile). */
  onConnect(): void;
  /** The connection was lost or stopped answering: messages may be missed until the next `onConnect`. */
  onLost?(): void;
}

/** One SUBSCRIBE connection for `watch` and `circuits.watch`, opened with the first and closed with the last. */
function subscriptionHub(
  options: RedisStoreOptions,
  channels: string[],
  warn: (message: string, meta: Record<string, unknown>) => void,
) {
  const subscriptions = new Set<Subscription>();
  let connection: { sub: RedisSubscriber; detach(): void } | undefined;
  let subscribed = false;
  let pending = false;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  if (!Number.isInteger(heartbeatMs) || heartbeatMs <= 0) {
    throw new OptionsError(
      'heartbeatMs',
      `Expected \`heartbeatMs\` to be a positive integer, got ${String(options.heartbeatMs)}`,
    );
  }
  const lost = () => {
    if (!subscribed) return;
    subscribed = false;
    each((s) => s.onLost?.());
  };

  const each = (fn: (s: Subscription) => void) => {
    for (const s of [...subscriptions]) fn(s);
  };
  // Subscribing again is harmless, and once it answers the channels are certainly in place.
  const subscribe = (sub: RedisSubscriber) => {
    pending = true;
    sub.subscribe(...channels).then(
      () => {
        if (connection?.sub !== sub) return;
        pending = false;
        subscribed = true;
        each((s) => s.onConnect());
      },
      (error: unknown) => {
        if (connection?.sub === sub) pending = false;
        warn('webhook-dispatcher/bullmq: redisStore SUBSCRIBE failed', { error: String(error) });
      },
    );
  };

  const open = () => {
    const given = options.subscriber;
    const duplicate = options.client.duplicate;
    if (given === undefined && typeof duplicate !== 'function') {
      throw new OptionsError(
        'subscriber',
        'Expected `subscriber` (a second Redis connection) for watch(): the client has no duplicate()',
      );
    }
    const sub = given ?? (duplicate as () => RedisSubscriber).call(options.client);
    const onError = (error: Error) =>
      warn('webhook-dispatcher/bullmq: redisStore subscriber connection error', { error: String(error) });
    // A (re)connection: unless the first SUBSCRIBE is still on its way, subscribe again and say "re-read".
    const onReady = () => {
      lost();
      if (!pending) subscribe(sub);
    };
    const onClose = () => lost();
    // A connection that died silently (a black-holed network) emits nothing: a PING must answer in time. One that
    // answers again after being reported lost is subscribed again (and everything re-read).
    let beating = false;
    const heartbeat =
      typeof sub.ping === 'function'
        ? setInterval(() => {
            if (beating || connection?.sub !== sub) return;
            beating = true;
            let timer: NodeJS.Timeout | undefined;
            const answered = Promise.race([
              (sub.ping as () => Promise<unknown>).call(sub).then(() => true),
              new Promise<boolean>((resolve) => {
                timer = setTimeout(() => resolve(false), heartbeatMs / 2);
              }),
            ]).catch(() => false);
            answered.then((ok) => {
              clearTimeout(timer);
              beating = false;
              if (connection?.sub !== sub) return;
              if (!ok) lost();
              else if (!subscribed && !pending) subscribe(sub);
            });
          }, heartbeatMs)
        : undefined;
    heartbeat?.unref?.();
    const onMessage = (channel: string, message: string) => each((s) => s.onMessage(channel, message));
    sub.on('error', onError);
    sub.on('ready', onReady);
    sub.on('close', onClose);
    sub.on('message', onMessage);
    connection = {
      sub,
      detach: () => {
        clearInterval(heartbeat);
        sub.off('ready', onReady);
        sub.off('close', onClose);
        sub.off('message', onMessage);
        if (given === undefined) {
          sub.disconnect();
          // Keep an error handler: a late error on a closed connection must not crash the process.
          sub.on('error', () => {});
        } else {
          sub.off('error', onError);
          sub.unsubscribe?.(...channels).catch(() => {});
        }
      },
    };
    subscribe(sub);
  };

  return {
    subscribe(subscription: Subscription): () => Promise<void> {
      subscriptions.add(subscription);
      if (connection === undefined) open();
      else if (subscribed) queueMicrotask(() => subscriptions.has(subscription) && subscription.onConnect());
      return async () => {
        if (!subscriptions.delete(subscription) || subscriptions.size > 0) return;
        const current = connection;
        connection = undefined;
        subscribed = false;
        pending = false;
        current?.detach();
      };
    },
  };
}

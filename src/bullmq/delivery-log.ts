// A pure function (no class): a copy in this entry's bundle is harmless.

import {
  type DeliveryAttempt,
  type DeliveryStatus,
  encodeDeliveryCursor,
  normalizeDeliveryAttempt,
  normalizeDeliveryQuery,
  OptionsError,
} from '../extend.js';
import type { DeliveryLog, DeliveryRecord } from '../index.js';
import { parseIsoTime } from '../log/iso-time.js';

/** Longest retention accepted (about 100 years). */
const MAX_RETENTION_MS = 36_500 * 86_400_000;

/** A positive integer option of at most `max`, with the options message pattern. */
function integerOption(
  field: string,
  value: unknown,
  fallback: number,
  max: number,
  positive = true,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    (positive ? value <= 0 : value < 0) ||
    value > max
  ) {
    const kind = positive ? 'positive' : 'non-negative';
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be a ${kind} integer of at most ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The Redis command `redisDeliveryLog` uses, as an ioredis client (`new Redis(url)`) has it: every read and write
 * is one Lua script. Any client with this promise-returning method works.
 */
export interface RedisDeliveryLogClient {
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

export interface RedisDeliveryLogOptions {
  /** A connected Redis client, e.g. `new Redis(process.env.REDIS_URL)` from ioredis. Not closed by the log. */
  client: RedisDeliveryLogClient;
  /**
   * Prefix of every key. With Redis Cluster, put a hash tag in it (`'{wd}:log'`) so that all keys share a slot.
   * @default 'webhook-dispatcher:log'
   */
  prefix?: string;
  /** A delivery expires this long after its latest attempt was recorded (Redis `PEXPIRE`). @default 7 days */
  maxAgeMs?: number;
  /** Deliveries kept per webhook (the newest by `createdAt`). @default 1000 */
  perWebhook?: number;
  /** Attempts kept per delivery (the newest). @default 100 */
  perDelivery?: number;
  /**
   * Longest request or response body stored, in UTF-8 bytes; a longer one is cut (`request.bodyTruncated`) and can
   * no longer be sent again as it was. The dispatcher's own `maxBodyBytes` default is the same. @default 1 MiB
   */
  maxBodyBytes?: number;
}

// Keys: <prefix>:d:<deliveryId> a hash (webhookId, eventId, tenant, eventType, createdAt, createdMs, updatedAt,
// status, body = the first attempt's request body, b<n> = any other body), <prefix>:a:<deliveryId> a list of
// attempts newest first, each 'R' + JSON (its body is the hash's `body`), 'B<n>:' + JSON (body in field b<n>) or
// 'N' + JSON (no body), and <prefix>:w:<webhookId> a sorted set of delivery ids scored by createdAt (ms); Redis
// orders equal scores by member, which gives the (createdAt, deliveryId) order of the pages.

const RECORD = `
local d, a, w = KEYS[1], KEYS[2], KEYS[3]
local id = ARGV[1]
if redis.call('EXISTS', d) == 0 then
  redis.call('HSET', d, 'webhookId', ARGV[2], 'eventId', ARGV[3], 'createdAt', ARGV[6], 'createdMs', ARGV[7])
  if ARGV[4] ~= '' then redis.call('HSET', d, 'tenant', string.sub(ARGV[4], 2)) end
  if ARGV[5] ~= '' then redis.call('HSET', d, 'eventType', string.sub(ARGV[5], 2)) end
  redis.call('DEL', a)
  redis.call('ZADD', w, ARGV[7], id)
end
redis.call('HSET', d, 'updatedAt', ARGV[6], 'status', ARGV[8])
local item
if ARGV[10] == '1' then
  local first = redis.call('HGET', d, 'body')
  if not first then
    redis.call('HSET', d, 'body', ARGV[11])
    first = ARGV[11]
  end
  if first == ARGV[11] then
    item = 'R' .. ARGV[9]
  else
    local n = redis.call('HINCRBY', d, 'bodies', 1)
    redis.call('HSET', d, 'b' .. n, ARGV[11])
    item = 'B' .. n .. ':' .. ARGV[9]
  end
else
  item = 'N' .. ARGV[9]
end
redis.call('LPUSH', a, item)
local perDelivery = tonumber(ARGV[14])
local overflow = redis.call('LRANGE', a, perDelivery, -1)
if #overflow > 0 then
  for _, old in ipairs(overflow) do
    local n = string.match(old, '^B(%d+):')
    if n then redis.call('HDEL', d, 'b' .. n) end
  end
  redis.call('LTRIM', a, 0, perDelivery - 1)
end
local ttl = tonumber(ARGV[12])
redis.call('PEXPIRE', d, ttl)
redis.call('PEXPIRE', a, ttl)
redis.call('PEXPIRE', w, ttl)
local excess = redis.call('ZCARD', w) - tonumber(ARGV[13])
if excess > 0 then
  local dropped = redis.call('ZRANGE', w, 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', w, 0, excess - 1)
  for _, old in ipairs(dropped) do
    redis.call('DEL', ARGV[15] .. ':d:' .. old, ARGV[15] .. ':a:' .. old)
  end
end
return 1
`;

const GET = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return { redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1) }
`;

// Walks the webhook's set newest first from the cursor (by rank, so equal times page exactly), skipping what is
// at or after \`until\`, stopping below \`since\`; a member whose delivery expired is removed on the way.
const LIST = `
local w, prefix = KEYS[1], ARGV[1]
local sinceMs, untilMs = ARGV[2], ARGV[3]
local cursorMs, cursorId = ARGV[4], ARGV[5]
local status, limit = ARGV[6], tonumber(ARGV[7])
local start = 0
if cursorId ~= '' then
  local score = redis.call('ZSCORE', w, cursorId)
  if score and tonumber(score) == tonumber(cursorMs) then
    start = redis.call('ZREVRANK', w, cursorId) + 1
  else
    -- The cursor's delivery is gone: go on below its time.
    start = redis.call('ZCOUNT', w, cursorMs, '+inf')
  end
end
if untilMs ~= '' then
  local above = redis.call('ZCOUNT', w, untilMs, '+inf')
  if above > start then start = above end
end
local found, stale, more = {}, {}, 0
local done = false
while not done do
  local chunk = redis.call('ZREVRANGE', w, start, start + 199, 'WITHSCORES')
  if #chunk == 0 then break end
  for i = 1, #chunk, 2 do
    local id, score = chunk[i], tonumber(chunk[i + 1])
    if sinceMs ~= '' and score < tonumber(sinceMs) then
      done = true
      break
    end
    local st = redis.call('HGET', prefix .. ':d:' .. id, 'status')
    if not st then
      stale[#stale + 1] = id
    elseif status == '' or st == status then
      if #found == limit then
        more = 1
        done = true
        break
      end
      found[#found + 1] = id
    end
  end
  start = start + 200
end
for i = 1, #stale, 500 do
  redis.call('ZREM', w, unpack(stale, i, math.min(i + 499, #stale)))
end
local out = { more }
for _, id in ipairs(found) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', prefix .. ':d:' .. id)
  out[#out + 1] = redis.call('LRANGE', prefix .. ':a:' .. id, 0, -1)
end
return out
`;

/** Redis writes a number as its shortest form; a score read back compares equal to the one written. */
function scoreOf(ms: number): string {
  return String(ms);
}

function toRecord(deliveryId: string, flat: unknown, items: unknown): DeliveryRecord | undefined {
  if (!Array.isArray(flat) || !Array.isArray(items)) return undefined;
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(String(flat[i]), String(flat[i + 1]));
  const webhookId = hash.get('webhookId');
  const createdAt = hash.get('createdAt');
  if (webhookId === undefined || createdAt === undefined) return undefined;
  const attempts: DeliveryAttempt[] = [];
  for (const raw of items) {
    const item = String(raw);
    let json: string;
    let body: string | undefined;
    if (item.startsWith('R')) {
      json = item.slice(1);
      body = hash.get('body');
    } else if (item.startsWith('B')) {
      const colon = item.indexOf(':');
      json = item.slice(colon + 1);
      body = hash.get(`b${item.slice(1, colon)}`);
    } else json = item.slice(1);
    try {
      const attempt = JSON.parse(json) as DeliveryAttempt;
      if (body !== undefined) attempt.request.body = body;
      attempts.push(attempt);
    } catch {
      // A value this log did not write: left out.
    }
  }
  if (attempts.length === 0) return undefined;
  const latest = attempts[0] as DeliveryAttempt;
  const record: DeliveryRecord = {
    deliveryId,
    webhookId,
    eventId: hash.get('eventId') ?? '',
    status: hash.get('status') === 'delivered' ? 'delivered' : 'failed',
    createdAt,
    updatedAt: hash.get('updatedAt') ?? latest.startedAt,
    attempts,
  };
  const tenant = hash.get('tenant');
  if (tenant !== undefined) record.tenant = tenant;
  const eventType = hash.get('eventType');
  if (eventType !== undefined) record.eventType = eventType;
  return record;
}

/**
 * A `DeliveryLog` in Redis, for BullMQ users: every worker and emitter reads the same history. A delivery is a hash
 * plus a list of its attempts (the request body stored once per delivery), both expiring `maxAgeMs` after the
 * latest attempt; each webhook has a sorted set of its deliveries by `createdAt`, trimmed to the newest
 * `perWebhook`. Every call is one Lua script, atomic.
 *
 * @example
 * const deliveryLog = redisDeliveryLog({ client: new Redis(process.env.REDIS_URL) });
 */
export function redisDeliveryLog(options: RedisDeliveryLogOptions): DeliveryLog {
  const client = options?.client;
  if (typeof client?.eval !== 'function') {
    throw new OptionsError(
      'client',
      'Expected `client` to be a Redis client with eval (an ioredis instance)',
    );
  }
  const prefix = options.prefix ?? 'webhook-dispatcher:log';
  if (typeof prefix !== 'string' || prefix === '') {
    throw new OptionsError(
      'prefix',
      `Expected \`prefix\` to be a non-empty string, got ${JSON.stringify(prefix)}`,
    );
  }
  const maxAgeMs = integerOption('maxAgeMs', options.maxAgeMs, 7 * 86_400_000, MAX_RETENTION_MS);
  const perWebhook = integerOption('perWebhook', options.perWebhook, 1000, 10_000_000);
  const perDelivery = integerOption('perDelivery', options.perDelivery, 100, 10_000_000);
  const maxBodyBytes = integerOption(
    'maxBodyBytes',
    options.maxBodyBytes,
    1_048_576,
    512 * 1024 * 1024,
    false,
  );
  const keys = (deliveryId: string) => [`${prefix}:d:${deliveryId}`, `${prefix}:a:${deliveryId}`];

  return {
    async record(input) {
      const attempt = normalizeDeliveryAttempt(input, maxBodyBytes);
      const parsed = parseIsoTime(attempt.startedAt);
      const createdMs = Number.isFinite(parsed) ? parsed : Date.now();
      const createdAt = Number.isFinite(parsed) ? attempt.startedAt : new Date(createdMs).toISOString();
      const body = attempt.request.body;
      delete attempt.request.body;
      const status: DeliveryStatus = attempt.ok ? 'delivered' : 'failed';
      await client.eval(
        RECORD,
        3,
        ...keys(attempt.deliveryId),
        `${prefix}:w:${attempt.webhookId}`,
        attempt.deliveryId,
        attempt.webhookId,
        attempt.eventId,
        // A leading '=' tells a present empty string from an absent value.
        attempt.tenant === undefined ? '' : `=${attempt.tenant}`,
        attempt.eventType === undefined ? '' : `=${attempt.eventType}`,
        createdAt,
        scoreOf(createdMs),
        status,
        JSON.stringify(attempt),
        body === undefined ? '0' : '1',
        body ?? '',
        String(maxAgeMs),
        String(perWebhook),
        String(perDelivery),
        prefix,
      );
    },

    async list(webhookId, query) {
      const q = normalizeDeliveryQuery(query);
      const finite = (ms: number) => (Number.isFinite(ms) ? scoreOf(ms) : '');
      const reply = await client.eval(
        LIST,
        1,
        `${prefix}:w:${webhookId}`,
        prefix,
        finite(q.sinceMs),
        finite(q.untilMs),
        q.after ? scoreOf(q.after.ms) : '',
        q.after ? q.after.id : '',
        q.status ?? '',
        String(q.limit),
      );
      if (!Array.isArray(reply)) return { items: [] };
      const items: DeliveryRecord[] = [];
      for (let i = 1; i + 2 < reply.length; i += 3) {
        const record = toRecord(String(reply[i]), reply[i + 1], reply[i + 2]);
        if (record) items.push(record);
      }
      const last = items[items.length - 1];
      return Number(reply[0]) === 1 && last
        ? { items, nextCursor: encodeDeliveryCursor(parseIsoTime(last.createdAt), last.deliveryId) }
        : { items };
    },

    async get(deliveryId) {
      if (typeof deliveryId !== 'string' || deliveryId === '') return undefined;
      const reply = await client.eval(GET, 2, ...keys(deliveryId));
      if (!Array.isArray(reply)) return undefined;
      return toRecord(deliveryId, reply[0], reply[1]);
    },
  };
}

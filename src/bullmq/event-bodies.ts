/**
 * The event bodies of fan-outs, stored once per emit in Redis next to the queue's own keys (`<prefix>:<queue>:`):
 * `wd:body:<key>` holds the serialized JSON, `wd:refs:<key>` the ids of the jobs that refer to it, and the sorted
 * set `wd:bodies` when each body was last written or checked. A body goes only when none of its jobs exists any
 * more (a job BullMQ keeps, completed or failed, can still be retried by hand), so no TTL can drop a body that a
 * waiting, delayed or retrying job needs.
 */

/** The ioredis calls used here (a BullMQ queue's `client` has them). */
export interface BodyClient {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
}

/** How long a body is left alone after it was written or found needed: far longer than one enqueue. */
export const BODY_GRACE_MS = 60 * 60_000;

// Written before its jobs are added; the time is Redis's own, so a write that ioredis held back while Redis was
// away is dated when it happened. Job ids are added 1,000 at a time (Lua's unpack has a stack limit).
const STORE = `
local t = redis.call('TIME')
redis.call('SET', KEYS[1], ARGV[1])
for i = 3, #ARGV, 1000 do
  redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('ZADD', KEYS[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[2])
return 1`;

// Bodies not looked at for ARGV[2] ms: the ids of jobs that no longer exist are dropped; a body with none left is
// deleted, one still needed is looked at again after the same time.
const SWEEP = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local base = ARGV[1]
local removed = 0
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[3]))) do
  local refs = base .. 'wd:refs:' .. key
  local needed = false
  for _, id in ipairs(redis.call('SMEMBERS', refs)) do
    if redis.call('EXISTS', base .. id) == 1 then needed = true else redis.call('SREM', refs, id) end
  end
  if needed then
    redis.call('ZADD', KEYS[1], now, key)
  else
    redis.call('DEL', base .. 'wd:body:' .. key, refs)
    redis.call('ZREM', KEYS[1], key)
    removed = removed + 1
  end
end
return removed`;

/** `base` is the queue's key prefix, `<prefix>:<queue>:`, which a job's key also starts with. */
export function eventBodies(base: string) {
  const index = `${base}wd:bodies`;
  return {
    store: (client: BodyClient, key: string, eventBody: string, jobIds: string[]) =>
      client.eval(
        STORE,
        3,
        `${base}wd:body:${key}`,
        `${base}wd:refs:${key}`,
        index,
        eventBody,
        key,
        ...jobIds,
      ),
    load: async (client: BodyClient, key: string) => (await client.get(`${base}wd:body:${key}`)) ?? undefined,
    /** Looks at up to 100 bodies; resolves how many were deleted. */
    sweep: async (client: BodyClient, graceMs = BODY_GRACE_MS) =>
      Number(await client.eval(SWEEP, 1, index, base, graceMs, 100)),
  };
}

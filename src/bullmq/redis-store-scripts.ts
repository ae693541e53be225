// The Lua scripts of `redisStore()`: each write and its PUBLISH in one atomic step.

/** Writes that publish the changed id in the same script, so no change goes unannounced. */
export const CREATE =
  "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('PUBLISH', KEYS[2], ARGV[1]) return 1 end return 0";
export const DELETE =
  "redis.call('HDEL', KEYS[3], ARGV[1]) if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', KEYS[2], ARGV[1]) return 1 end return 0";
/** A circuit is only kept for a webhook that exists; every change is published as `{"id", "circuit"}`. */
export const SAVE_CIRCUIT =
  "if ARGV[2] == '' then if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', KEYS[2], ARGV[3]) end return 1 end if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('PUBLISH', KEYS[2], ARGV[3]) return 1";

/**
 * CREATE, unless the tenant (ARGV[3]) already has ARGV[4] webhooks: counted in the same script, so no other
 * process's create can come in between. Records are only decoded when they contain the tenant's JSON string
 * (ARGV[5]). Returns 1 (created), 0 (the id exists) or -1 (the tenant is full).
 */
export const CREATE_WITHIN_TENANT_LIMIT = `
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
export const TAKE_RATE = `
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextAt > now then return math.ceil((nextAt - now) / 1000) end
local spacing = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', now + spacing), 'PX', math.ceil(spacing / 1000) + 1000)
return 0`;

/** Replaces a field only if it exists, atomically (a concurrent delete is not undone), and publishes the id. */
export const UPDATE_IF_EXISTS =
  "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('PUBLISH', KEYS[2], ARGV[1]) return 1 end return 0";

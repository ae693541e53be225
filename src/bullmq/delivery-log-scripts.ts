// The Lua scripts of `redisDeliveryLog()`: every read and write is one script, atomic.
//
// Keys: <prefix>:d:<deliveryId> a hash (webhookId, eventId, tenant, eventType, createdAt, createdMs, updatedAt,
// status, ms = the latest attempt's durationMs, body = the first attempt's request body, b<n> = any other body),
// <prefix>:a:<deliveryId> a list of attempts newest first, each 'R' + JSON (its body is the hash's `body`),
// 'B<n>:' + JSON (body in field b<n>) or 'N' + JSON (no body). Sorted sets of delivery ids scored by createdAt
// (ms): <prefix>:w:<webhookId> per webhook, <prefix>:t:<tenant> per tenant and <prefix>:all; Redis orders equal
// scores by member, which gives the (createdAt, deliveryId) order of the pages. A set member whose delivery
// expired is removed when a read walks over it, and each write checks a few members of `all` and of its tenant's
// set from where the last check stopped (<prefix>:s:all, <prefix>:st:<tenant>), so sets nobody reads do not grow
// without bound.

export const RECORD = `
local d, a, w = KEYS[1], KEYS[2], KEYS[3]
local id, prefix = ARGV[1], ARGV[15]
local ttl = tonumber(ARGV[12])
local all = prefix .. ':all'
local tenantSet = nil
if ARGV[4] ~= '' then tenantSet = prefix .. ':t:' .. string.sub(ARGV[4], 2) end
-- Checks n members of a set from where the last check stopped (a position kept in posKey, which expires with the
-- set), removing those whose delivery expired.
local function sweep(set, posKey, n)
  local pos = tonumber(redis.call('GET', posKey) or '0')
  local members = redis.call('ZRANGE', set, pos, pos + n - 1)
  local removed = 0
  for _, m in ipairs(members) do
    if redis.call('EXISTS', prefix .. ':d:' .. m) == 0 then
      redis.call('ZREM', set, m)
      removed = removed + 1
    end
  end
  if #members < n then pos = 0 else pos = pos + n - removed end
  redis.call('SET', posKey, pos, 'PX', ttl)
end
if redis.call('EXISTS', d) == 0 then
  redis.call('HSET', d, 'webhookId', ARGV[2], 'eventId', ARGV[3], 'createdAt', ARGV[6], 'createdMs', ARGV[7])
  if tenantSet then redis.call('HSET', d, 'tenant', string.sub(ARGV[4], 2)) end
  if ARGV[5] ~= '' then redis.call('HSET', d, 'eventType', string.sub(ARGV[5], 2)) end
  redis.call('DEL', a)
  redis.call('ZADD', w, ARGV[7], id)
  redis.call('ZADD', all, ARGV[7], id)
  if tenantSet then redis.call('ZADD', tenantSet, ARGV[7], id) end
end
redis.call('HSET', d, 'updatedAt', ARGV[6], 'status', ARGV[8], 'ms', ARGV[16])
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
redis.call('PEXPIRE', d, ttl)
redis.call('PEXPIRE', a, ttl)
redis.call('PEXPIRE', w, ttl)
local excess = redis.call('ZCARD', w) - tonumber(ARGV[13])
if excess > 0 then
  local dropped = redis.call('ZRANGE', w, 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', w, 0, excess - 1)
  for _, old in ipairs(dropped) do
    local tenant = redis.call('HGET', prefix .. ':d:' .. old, 'tenant')
    if tenant then redis.call('ZREM', prefix .. ':t:' .. tenant, old) end
    redis.call('ZREM', all, old)
    redis.call('DEL', prefix .. ':d:' .. old, prefix .. ':a:' .. old)
  end
end
sweep(all, prefix .. ':s:all', 3)
redis.call('PEXPIRE', all, ttl)
if tenantSet then
  sweep(tenantSet, prefix .. ':st:' .. string.sub(ARGV[4], 2), 3)
  redis.call('PEXPIRE', tenantSet, ttl)
end
return 1
`;

export const GET = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return { redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1) }
`;

// Walks a set (a webhook's, a tenant's or all) newest first from the cursor (by rank, so equal times page
// exactly), skipping what is at or after \`until\`, stopping below \`since\`, looking at \`budget\` members at most;
// a member whose delivery expired is removed on the way. Answers { more, position id, position score, items... }:
// with refs = '1' each item is id + HMGET(webhookId, tenant, createdAt), else id + HGETALL + the attempts.
export const PAGE = `
local w, prefix = KEYS[1], ARGV[1]
local sinceMs, untilMs = ARGV[2], ARGV[3]
local cursorMs, cursorId = ARGV[4], ARGV[5]
local status, limit = ARGV[6], tonumber(ARGV[7])
local tenant, budget, refs = ARGV[8], tonumber(ARGV[9]), ARGV[10]
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
local found, stale, more, scanned = {}, {}, 0, 0
local posId, posScore = '', ''
local done = false
while not done do
  local chunk = redis.call('ZREVRANGE', w, start, start + 199, 'WITHSCORES')
  if #chunk == 0 then break end
  for i = 1, #chunk, 2 do
    local id, score = chunk[i], chunk[i + 1]
    if sinceMs ~= '' and tonumber(score) < tonumber(sinceMs) then
      done = true
      break
    end
    if scanned == budget then
      more, done = 1, true
      break
    end
    scanned = scanned + 1
    local fields = redis.call('HMGET', prefix .. ':d:' .. id, 'status', 'tenant')
    if not fields[1] then
      stale[#stale + 1] = id
    elseif (status == '' or fields[1] == status) and (tenant == '' or fields[2] == string.sub(tenant, 2)) then
      if #found == limit then
        more, done = 1, true
        break
      end
      found[#found + 1] = id
    end
    posId, posScore = id, score
  end
  start = start + 200
end
for i = 1, #stale, 500 do
  redis.call('ZREM', w, unpack(stale, i, math.min(i + 499, #stale)))
end
local out = { more, posId, posScore }
for _, id in ipairs(found) do
  out[#out + 1] = id
  if refs == '1' then
    out[#out + 1] = redis.call('HMGET', prefix .. ':d:' .. id, 'webhookId', 'tenant', 'createdAt')
  else
    out[#out + 1] = redis.call('HGETALL', prefix .. ':d:' .. id)
    out[#out + 1] = redis.call('LRANGE', prefix .. ':a:' .. id, 0, -1)
  end
end
return out
`;

// A webhook's newest deliveries created at or after ARGV[2] (at most ARGV[3]): status, updatedAt and the latest
// attempt's duration of each, flat.
export const STATS = `
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', ARGV[1] .. ':d:' .. id, 'status', 'updatedAt', 'ms')
  if f[1] then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2] or ''
    out[#out + 1] = f[3] or ''
  end
end
return out
`;

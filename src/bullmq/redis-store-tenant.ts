import type { Webhook, WebhookStore } from '../index.js';
import { withListTenant } from '../webhooks/list-tenant.js';
import type { RedisStoreClient } from './redis-store.js';

/**
 * One tenant's records from its set: the ids in KEYS[2], read from the hash KEYS[1] in chunks (Lua's `unpack` has a
 * limit on arguments). An id whose record is gone (deleted meanwhile) answers nothing.
 */
const LIST_TENANT = `
local ids = redis.call('SMEMBERS', KEYS[2])
local out = {}
for i = 1, #ids, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #ids) do chunk[#chunk + 1] = ids[j] end
  for _, json in ipairs(redis.call('HMGET', KEYS[1], unpack(chunk))) do
    if json then out[#out + 1] = json end
  end
end
return out`;

/** The set of one tenant's webhook ids (`null`: webhooks without a tenant), beside the hash `key`. */
export function tenantSetKey(key: string, tenant: string | null): string {
  return tenant === null ? `${key}:no-tenant` : `${key}:tenant:${tenant}`;
}

/**
 * Adds `listTenant` to a `redisStore`: each webhook's id is also kept in a set per tenant (`<key>:tenant:<tenant>`,
 * `<key>:no-tenant`), added before the record is written and removed after it is deleted, so a set may name an id
 * that is gone (skipped when read) but never misses a webhook that exists. `listTenant` reads one set and its
 * records in one script: the dispatcher reads tenants on demand. Not an enumerable property, as in `memoryStore`.
 */
export function withTenantSets<S extends WebhookStore>(
  store: S,
  client: RedisStoreClient,
  key: string,
): S & { listTenant(tenant: string | null): Promise<Webhook[]> } {
  const setOf = (webhook: Webhook) =>
    tenantSetKey(key, typeof webhook.tenant === 'string' ? webhook.tenant : null);
  const add = (webhook: Webhook) =>
    client.eval("return redis.call('SADD', KEYS[1], ARGV[1])", 1, setOf(webhook), webhook.id);
  const drop = (webhook: Webhook) =>
    client.eval("return redis.call('SREM', KEYS[1], ARGV[1])", 1, setOf(webhook), webhook.id);
  const { create, delete: remove, get } = store;
  const createWithinTenantLimit = store.createWithinTenantLimit;
  store.create = async (webhook) => {
    await add(webhook);
    await create.call(store, webhook);
  };
  if (createWithinTenantLimit !== undefined) {
    store.createWithinTenantLimit = async (webhook, maxPerTenant) => {
      await add(webhook);
      const saved = await createWithinTenantLimit.call(store, webhook, maxPerTenant);
      if (!saved) await drop(webhook);
      return saved;
    };
  }
  store.delete = async (id) => {
    const existing = await get.call(store, id);
    const deleted = await remove.call(store, id);
    if (deleted && existing !== undefined) await drop(existing);
    return deleted;
  };
  const listTenant = async (tenant: string | null): Promise<Webhook[]> => {
    const found = await client.eval(LIST_TENANT, 2, key, tenantSetKey(key, tenant));
    const webhooks = (Array.isArray(found) ? found : []).map((json) => JSON.parse(String(json)) as Webhook);
    return webhooks.sort((a, b) =>
      a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1,
    );
  };
  return withListTenant(store, listTenant);
}

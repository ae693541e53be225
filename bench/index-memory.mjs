// Index heap per webhook, run in its own process with --expose-gc (`node --expose-gc bench/index-memory.mjs
// --webhooks=100000 --tenants=10000`): the store is filled first (its records are not counted), then the heap is
// measured, after a full GC, before and after the dispatcher's first emit loads and indexes every webhook. The
// store is spread into a plain object, which leaves out memoryStore's `listTenant` (not enumerable): without it
// the dispatcher indexes every tenant, the case the row measures.
// The result goes to the parent over IPC (or stdout when run alone).
import { createWebhookDispatcher, memoryStore } from 'webhook-dispatcher';

const arg = (name, fallback) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const total = arg('webhooks', 100_000);
const tenants = arg('tenants', Math.max(1, Math.floor(total / 10)));

/** What a SaaS stores: a few policies shared by many endpoints, one URL and secret each, a tenant each. */
function record(i) {
  const now = new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString();
  return {
    id: `wh_${i.toString(36).padStart(8, '0')}`,
    url: `https://hooks.example.com/t${i % tenants}/endpoint/${i}`,
    on: true,
    signatureScheme: 'launchdarkly',
    secret: `secret-${i.toString(16).padStart(24, '0')}`,
    events: i % 3 === 0 ? ['flag.updated', 'flag.created'] : [],
    statements: [{ effect: 'allow', actions: ['*'], resources: [`proj/p${i % 10}:env/production:flag/*`] }],
    contentType: 'application/json',
    headers: {},
    tags: [],
    tenant: `tenant-${i % tenants}`,
    createdAt: now,
    updatedAt: now,
  };
}

/** Made in a function of its own, so that the records passed in are garbage once it returns. */
function makeStore() {
  const records = [];
  for (let i = 0; i < total; i++) records.push(record(i));
  return { ...memoryStore(records) };
}
const store = makeStore();
const noop = { send: () => Promise.resolve({ status: 200 }) };
const dispatcher = createWebhookDispatcher({ store, transport: noop, deliveryLog: false, logger: false });
const heap = () => {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
};
const before = heap();
const started = performance.now();
const reached = await dispatcher.emit(
  { id: 'e1', type: 'flag.updated', kind: 'flag' },
  { tenant: 'tenant-0' },
);
const stats = dispatcher.webhooks.indexStats?.() ?? {};
const loadMs = performance.now() - started;
const after = heap();
const result = {
  total,
  tenants,
  bytesPerWebhook: (after - before) / total,
  loadMs,
  reached: reached.length,
  indexed: stats.webhooks,
};
await dispatcher.close();
if (process.send) process.send(result);
else console.log(JSON.stringify(result));

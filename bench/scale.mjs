// The scale rows, in their own process with --expose-gc (the heap is measured after full GCs, so it is not
// timing-noisy; the times are): a million webhooks over 100,000 tenants in a real Postgres (`DATABASE_URL`), made
// by one `INSERT … SELECT generate_series`, and one dispatcher with `maxIndexBytes` at its default.
//
//   npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --expose-gc bench/scale.mjs \
//     [--webhooks=1000000] [--tenants=100000] [--cold=10000] [--warm=2000]
//
// Rows: heap after the store is filled and every tenant was emitted for once in a sweep over `cold` tenants
// (each a first emit, one listTenant query), the time of a cold tenant's first emit (median and p99), and the emit
// p99 for a warm tenant. The result goes to the parent over IPC (or stdout when run alone).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createWebhookDispatcher } from 'webhook-dispatcher';
import { migrate, postgresStore } from 'webhook-dispatcher/postgres';

const arg = (name, fallback) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const total = arg('webhooks', 1_000_000);
const tenants = arg('tenants', 100_000);
const coldCount = arg('cold', 10_000);
const warmCount = arg('warm', 2000);
const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  console.error('bench/scale.mjs needs a Postgres: set DATABASE_URL (e.g. the one .ci/run starts).');
  process.exit(1);
}

const heap = () => {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
};
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const pool = new pg.Pool({ connectionString, max: 4 });
const table = `scale_${randomUUID().slice(0, 8)}`;
await migrate(pool, { table });
const insertStarted = performance.now();
// One statement: webhook n belongs to tenant n % tenants; a no-op receiver URL (nothing is sent: the transport
// below answers without a network, so the rows measure the index, not HTTP).
await pool.query(
  `INSERT INTO ${table} (id, tenant, record, created_at)
   SELECT 'wh' || n, 'tenant-' || (n % $2),
          jsonb_build_object('id', 'wh' || n, 'tenant', 'tenant-' || (n % $2),
            'url', 'https://hooks.example.com/' || (n % $2) || '/' || n, 'on', true,
            'signatureScheme', 'launchdarkly', 'secret', md5(n::text),
            'statements', jsonb_build_array(jsonb_build_object('effect', 'allow', 'actions', jsonb_build_array('*'),
              'resources', jsonb_build_array('proj/p' || (n % 10) || ':env/production:flag/*'))),
            'events', '[]'::jsonb, 'contentType', 'application/json', 'headers', '{}'::jsonb, 'tags', '[]'::jsonb,
            'createdAt', '2026-01-01T00:00:00.000Z', 'updatedAt', '2026-01-01T00:00:00.000Z'),
          '2026-01-01T00:00:00.000Z'
   FROM generate_series(0, $1 - 1) AS n`,
  [total, tenants],
);
await pool.query(`ANALYZE ${table}`);
const insertMs = performance.now() - insertStarted;

const noop = { send: () => Promise.resolve({ status: 200 }) };
const dispatcher = createWebhookDispatcher({
  store: postgresStore({ pool, table }),
  transport: noop,
  deliveryLog: false,
});
const event = (i, tenant) => ({
  id: `e${i}`,
  type: 'flag.updated',
  accesses: [{ action: 'updateOn', resource: `proj/p${Number(tenant.slice(7)) % 10}:env/production:flag/f` }],
});
const heapBefore = heap();
// Cold tenants: each first emit reads its tenant (one indexed query).
const coldMs = [];
let reached = 0;
for (let i = 0; i < coldCount; i++) {
  const tenant = `tenant-${(i * 7919) % tenants}`;
  const started = performance.now();
  const results = await dispatcher.emit(event(i, tenant), { tenant });
  coldMs.push(performance.now() - started);
  reached += results.length;
}
// Warm: one tenant emitted for again and again.
const warmTenant = `tenant-${(7919 * (coldCount - 1)) % tenants}`;
const warmMs = [];
for (let i = 0; i < warmCount; i++) {
  const started = performance.now();
  await dispatcher.emit(event(coldCount + i, warmTenant), { tenant: warmTenant });
  warmMs.push(performance.now() - started);
}
const heapAfter = heap();
const stats = dispatcher.webhooks.indexStats();
await dispatcher.close();
await pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}`);
await pool.end();

const result = {
  total,
  tenants,
  insertMs,
  heapBefore,
  heapAfter,
  indexedWebhooks: stats.webhooks,
  indexedTenants: stats.tenants,
  indexBytes: stats.bytes,
  reachedPerColdEmit: reached / coldCount,
  coldP50Ms: percentile(coldMs, 50),
  coldP99Ms: percentile(coldMs, 99),
  warmP50Ms: percentile(warmMs, 50),
  warmP99Ms: percentile(warmMs, 99),
};
if (process.send) process.send(result);
else console.log(JSON.stringify(result, null, 1));

// The scale rows of `npm run bench` (section `scale`): index heap per webhook at 10k and 100k webhooks
// (bench/index-memory.mjs, every tenant indexed), and, with DATABASE_URL set, a million webhooks over 100,000
// tenants in Postgres with `maxIndexBytes` at its default (bench/scale.mjs): heap, a cold tenant's first emit, a
// warm tenant's emit p99. Each runs in a child process with --expose-gc.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

async function child(file, args) {
  const proc = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    stdio: 'inherit',
    execArgv: ['--expose-gc'],
  });
  const [result] = await Promise.race([
    once(proc, 'message'),
    once(proc, 'exit').then(([code]) => {
      throw new Error(`bench/${file} exited with ${code}`);
    }),
  ]);
  await once(proc, 'exit');
  return result;
}

export async function scaleSection({ row, notes, progress, quick }) {
  for (const webhooks of [10_000, 100_000]) {
    progress(`scale: index heap with ${webhooks.toLocaleString('en-US')} webhooks`);
    const r = await child('./index-memory.mjs', [`--webhooks=${webhooks}`, `--tenants=${webhooks / 10}`]);
    row(
      `Scale: index heap per webhook, ${r.total.toLocaleString('en-US')} webhooks over ${r.tenants.toLocaleString('en-US')} tenants`,
      r.bytesPerWebhook,
      'B',
      '',
      undefined,
      { target: '<= 1,024 B', met: r.bytesPerWebhook <= 1024 },
    );
    notes.push(
      `Scale, ${r.total.toLocaleString('en-US')} webhooks: heap after full GCs before and after the first emit ` +
        `indexes every webhook (a store without listTenant), ${r.loadMs.toFixed(0)} ms to load.`,
    );
  }
  if (!process.env.DATABASE_URL) {
    notes.push(
      'Scale: the Postgres rows need DATABASE_URL (a million webhooks over 100,000 tenants); not run.',
    );
    return;
  }
  const args = quick ? ['--webhooks=100000', '--tenants=10000', '--cold=1000', '--warm=1000'] : [];
  progress('scale: webhooks in Postgres, tenants read on demand');
  const r = await child('./scale.mjs', args);
  const mb = (bytes) => bytes / 1_048_576;
  const count = `${r.total.toLocaleString('en-US')} webhooks over ${r.tenants.toLocaleString('en-US')} tenants`;
  row(
    `Scale: heap, ${count} in Postgres, maxIndexBytes default`,
    mb(r.heapAfter),
    'MB',
    'heap before the first emit',
    mb(r.heapBefore),
    {
      digits: 1,
      target: 'bounded (index <= 64 MiB)',
      met: r.indexBytes <= 64 * 1024 * 1024,
    },
  );
  row(`Scale: a cold tenant's first emit (one listTenant query), p50`, r.coldP50Ms, 'ms', '', undefined, {
    digits: 2,
  });
  row(`Scale: a cold tenant's first emit, p99`, r.coldP99Ms, 'ms', '', undefined, { digits: 2 });
  row(`Scale: emit p99 for a warm tenant among them`, r.warmP99Ms, 'ms', 'p50', r.warmP50Ms, { digits: 3 });
  notes.push(
    `Scale, Postgres: ${count} inserted by one INSERT … SELECT generate_series in ${(r.insertMs / 1000).toFixed(1)} s; ` +
      `a sweep of first emits over distinct tenants, then one warm tenant; ${r.indexedTenants.toLocaleString('en-US')} tenants ` +
      `(${r.indexedWebhooks.toLocaleString('en-US')} webhooks, an estimated ${mb(r.indexBytes).toFixed(1)} MB) indexed at the end; ` +
      `${r.reachedPerColdEmit} webhooks reached per emit; a no-op transport (no HTTP).`,
  );
}

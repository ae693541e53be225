// webhook-dispatcher/postgres vs bare pg-boss 10, in one run against one Postgres:
//   1. delivery: emit -> pg-boss job -> worker -> signed POST -> receiver, vs a bare pg-boss loop (send, work(),
//      the same signed POST with undici), both with the worker in this process and awaited single emits/sends;
//   2. fan-out of 1 event to 1,000 webhooks: one batched insert (enqueueMany) and dispatcher.emit (the same one
//      insert) vs 1,000 single-job sends at once, and vs 1,000 sends awaited one by one;
//   3. a transactional emit's added time inside the host's transaction.
// Each row is the median of interleaved blocks.
//
//   npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/pgboss.mjs [--events=1000]

import { fork } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { Agent, request } from 'undici';
import { createWebhookDispatcher } from 'webhook-dispatcher';
import { deliveryIdFor } from 'webhook-dispatcher/extend';
import { migrate, pgBossQueue, postgresStore } from 'webhook-dispatcher/postgres';

const SELF = fileURLToPath(import.meta.url);
const arg = (name, fallback) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const SCHEMA = 'bench_pgboss';

if (process.argv[2] === 'receiver') {
  let received = 0;
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      received++;
      res.writeHead(200, { 'content-length': '2' }).end('ok');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (message) => {
    if (message === 'count') process.send({ received });
  });
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function main() {
  const connectionString = process.env.DATABASE_URL;
  if (!connectionString) {
    console.error('bench/pgboss.mjs needs a Postgres: set DATABASE_URL (e.g. the one .ci/run starts).');
    process.exit(1);
  }
  const events = arg('events', 1000);
  const blocks = arg('blocks', 3);
  const pool = new pg.Pool({ connectionString, max: 20 });
  // Statements sent through the pool (pg-boss's included; the LISTEN connections' own are not), per variant: on a
  // few shared cores Postgres's CPU is what both loops wait for, and this count does not depend on the load.
  const statements = { counting: false, count: 0 };
  const query = pool.query.bind(pool);
  pool.query = (...args) => {
    if (statements.counting) statements.count++;
    return query(...args);
  };
  const counted = async (run) => {
    statements.count = 0;
    statements.counting = true;
    try {
      return { rate: await run(), statements: statements.count / events };
    } finally {
      statements.counting = false;
    }
  };
  const receiver = await startReceiver();
  const table = `bench_webhooks_${randomUUID().slice(0, 8)}`;
  await migrate(pool, { table, deliveriesTable: `${table}_log` });
  const boss = new PgBoss({
    db: { executeSql: (text, values) => pool.query(text, values) },
    schema: SCHEMA,
    schedule: false,
    supervise: false,
  });
  boss.on('error', () => {});
  await boss.start();
  const runs = {
    ours: [],
    bare: [],
    oursStatements: [],
    bareStatements: [],
    many: [],
    emitFanout: [],
    single: [],
    awaited: [],
    plainTx: [],
    emitTx: [],
  };
  try {
    for (let block = 0; block < blocks; block++) {
      const ours = await counted(() => viaQueue(pool, table, receiver, events));
      const bare = await counted(() => viaBarePgBoss(boss, receiver, events));
      runs.ours.push(ours.rate);
      runs.oursStatements.push(ours.statements);
      runs.bare.push(bare.rate);
      runs.bareStatements.push(bare.statements);
      const fan = await fanOut(pool, table, boss);
      runs.many.push(fan.many);
      runs.emitFanout.push(fan.emit);
      runs.single.push(fan.single);
      runs.awaited.push(fan.awaited);
      const tx = await transactional(pool, table);
      runs.plainTx.push(tx.plain);
      runs.emitTx.push(tx.withEmit);
    }
  } finally {
    await boss.stop({ graceful: false, close: false });
    await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_log, bench_flags CASCADE`);
    await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await pool.end();
    receiver.child.disconnect();
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const ours = median(runs.ours);
  const bare = median(runs.bare);
  console.log(
    `\nwebhook-dispatcher/postgres (pg-boss 10): ${events} events to one webhook, worker concurrency 64, ${cpus().length} CPUs, node ${process.version}, median of ${blocks} blocks`,
  );
  console.table([
    {
      row: 'pgBossQueue delivery (deliveries/s)',
      value: Math.round(ours),
      'vs baseline': `${(ours / bare).toFixed(2)}x`,
    },
    {
      row: 'bare pg-boss send/work + signed POST (deliveries/s)',
      value: Math.round(bare),
      'vs baseline': '1.00x',
    },
    {
      row: 'pgBossQueue: Postgres statements per delivery',
      value: median(runs.oursStatements).toFixed(2),
      'vs baseline': `${(median(runs.oursStatements) / median(runs.bareStatements)).toFixed(2)}x`,
    },
    {
      row: 'bare pg-boss: Postgres statements per delivery',
      value: median(runs.bareStatements).toFixed(2),
      'vs baseline': '1.00x',
    },
    {
      row: 'fan-out 1 -> 1000: enqueueMany, one insert (ms)',
      value: median(runs.many).toFixed(1),
      'vs baseline': `${(median(runs.single) / median(runs.many)).toFixed(2)}x`,
      'vs awaited sends': `${(median(runs.awaited) / median(runs.many)).toFixed(2)}x`,
    },
    {
      row: 'fan-out 1 -> 1000: dispatcher.emit (ms)',
      value: median(runs.emitFanout).toFixed(1),
      'vs baseline': `${(median(runs.single) / median(runs.emitFanout)).toFixed(2)}x`,
      'vs awaited sends': `${(median(runs.awaited) / median(runs.emitFanout)).toFixed(2)}x`,
    },
    {
      row: 'fan-out 1 -> 1000: 1000 boss.send at once (ms)',
      value: median(runs.single).toFixed(1),
      'vs baseline': '1.00x',
      'vs awaited sends': `${(median(runs.awaited) / median(runs.single)).toFixed(2)}x`,
    },
    {
      row: 'fan-out 1 -> 1000: 1000 boss.send awaited one by one (ms)',
      value: median(runs.awaited).toFixed(1),
      'vs baseline': `${(median(runs.single) / median(runs.awaited)).toFixed(2)}x`,
      'vs awaited sends': '1.00x',
    },
    {
      row: 'transaction BEGIN/UPDATE/COMMIT (ms)',
      value: median(runs.plainTx).toFixed(3),
      'vs baseline': '',
    },
    {
      row: '... with a transactional enqueue (ms)',
      value: median(runs.emitTx).toFixed(3),
      'vs baseline': `+${(median(runs.emitTx) - median(runs.plainTx)).toFixed(3)} ms`,
    },
  ]);
}

function ldEvent(i, runId) {
  return {
    _id: `${runId}-${i}`,
    date: 1729123867537 + i,
    kind: 'flag',
    name: `flag-${i}`,
    title: `Bench turned on flag-${i} in production`,
    accesses: [{ action: 'updateOn', resource: `proj/default:env/production:flag/flag-${i}` }],
  };
}

async function viaQueue(pool, table, receiver, events) {
  const queue = pgBossQueue({
    pool,
    schema: SCHEMA,
    queueName: `bench-${randomUUID().slice(0, 8)}`,
    worker: { concurrency: 64 },
  });
  const dispatcher = createWebhookDispatcher({
    store: postgresStore({ pool, table }),
    queue,
    allowPrivateNetworks: true,
    deliveryLog: false,
  });
  const hook = await dispatcher.webhooks.create({ url: receiver.url, secret: 'bench' });
  await queue.ready();
  const runId = randomUUID();
  const before = await receiver.count();
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    const [result] = await dispatcher.emit(ldEvent(i, runId));
    if (result?.outcome !== 'queued') throw new Error(`pgBossQueue: not queued: ${JSON.stringify(result)}`);
  }
  await receiver.waitFor(before + events);
  const ms = performance.now() - started;
  await dispatcher.close();
  await dispatcher.webhooks.delete(hook.id).catch(() => {});
  return (events / ms) * 1000;
}

async function viaBarePgBoss(boss, receiver, events) {
  const name = `bare-${randomUUID().slice(0, 8)}`;
  await boss.createQueue(name);
  const dispatcherAgent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  const secret = 'bench';
  const post = async (job) => {
    const body = JSON.stringify(job.data.event);
    const { statusCode, body: response } = await request(receiver.url, {
      method: 'POST',
      dispatcher: dispatcherAgent,
      headers: {
        'content-type': 'application/json',
        'webhook-id': job.data.deliveryId,
        'x-ld-signature': createHmac('sha256', secret).update(body).digest('hex'),
      },
      body,
    });
    await response.dump();
    if (statusCode !== 200) throw new Error(`status ${statusCode}`);
  };
  const workerId = await boss.work(name, { batchSize: 64, pollingIntervalSeconds: 0.5 }, (jobs) =>
    Promise.all(jobs.map(post)),
  );
  const runId = randomUUID();
  const before = await receiver.count();
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    const event = ldEvent(i, runId);
    await boss.send(name, { deliveryId: deliveryIdFor(event._id, 'hook'), event });
    boss.notifyWorker(workerId);
  }
  await receiver.waitFor(before + events);
  const ms = performance.now() - started;
  await boss.offWork(name);
  await dispatcherAgent.close();
  return (events / ms) * 1000;
}

async function fanOut(pool, table, boss) {
  const queueName = `fan-${randomUUID().slice(0, 8)}`;
  const queue = pgBossQueue({ pool, schema: SCHEMA, queueName });
  queue.start(
    () => Promise.reject(new Error('no delivery here')),
    () => {},
  );
  await queue.ready();
  const event = ldEvent(0, randomUUID());
  const body = JSON.stringify(event);
  const jobs = Array.from({ length: 1000 }, (_, i) => ({
    deliveryId: deliveryIdFor(event._id, `hook${i}`),
    webhookId: `hook${i}`,
    eventId: event._id,
    event,
    eventBody: body,
  }));
  let started = performance.now();
  const results = await queue.enqueueMany(jobs);
  const many = performance.now() - started;
  if (!results.every((r) => r.outcome === 'queued')) throw new Error('enqueueMany: not queued');
  await queue.close();

  // dispatcher.emit: the matched webhooks' jobs in one enqueueMany (one insert).
  const emitQueue = pgBossQueue({ pool, schema: SCHEMA, queueName: `fan-${randomUUID().slice(0, 8)}` });
  const fanTable = `${table}_fan`;
  await migrate(pool, { table: fanTable, deliveriesTable: `${table}_log` });
  const dispatcher = createWebhookDispatcher({
    store: postgresStore({ pool, table: fanTable }),
    queue: emitQueue,
    deliveryLog: false,
  });
  const values = Array.from({ length: 1000 }, (_, i) => {
    const at = new Date(1729123867537 + i).toISOString();
    return `('f${i}', NULL, '${JSON.stringify({ id: `f${i}`, url: 'https://example.com/hook', on: true, signatureScheme: 'launchdarkly', events: [], contentType: 'application/json', headers: {}, tags: [], createdAt: at, updatedAt: at })}', '${at}')`;
  });
  await pool.query(`INSERT INTO ${fanTable} (id, tenant, record, created_at) VALUES ${values.join(',')}`);
  await emitQueue.ready();
  await dispatcher.emit(ldEvent(-1, randomUUID())); // loads the index
  started = performance.now();
  const emitted = await dispatcher.emit(ldEvent(1, randomUUID()));
  const emitMs = performance.now() - started;
  if (emitted.length !== 1000 || !emitted.every((r) => r.outcome === 'queued'))
    throw new Error('emit fan-out: not queued');
  await dispatcher.close();
  await pool.query(`DROP TABLE ${fanTable} CASCADE`);

  const name = `single-${randomUUID().slice(0, 8)}`;
  await boss.createQueue(name);
  started = performance.now();
  await Promise.all(jobs.map((job) => boss.send(name, { deliveryId: job.deliveryId, eventBody: body })));
  const single = performance.now() - started;
  // The goal's baseline: the same 1,000 jobs sent one by one, each awaited (a loop over the webhooks).
  const awaitedName = `awaited-${randomUUID().slice(0, 8)}`;
  await boss.createQueue(awaitedName);
  started = performance.now();
  for (const job of jobs) await boss.send(awaitedName, { deliveryId: job.deliveryId, eventBody: body });
  const awaited = performance.now() - started;
  return { many, emit: emitMs, single, awaited };
}

async function transactional(pool, table) {
  await pool.query('CREATE TABLE IF NOT EXISTS bench_flags (key text PRIMARY KEY, on_ boolean NOT NULL)');
  await pool.query(`INSERT INTO bench_flags VALUES ('f', true) ON CONFLICT DO NOTHING`);
  const queue = pgBossQueue({ pool, schema: SCHEMA, queueName: `tx-${randomUUID().slice(0, 8)}` });
  queue.start(
    () => Promise.reject(new Error('no delivery here')),
    () => {},
  );
  await queue.ready();
  const client = await pool.connect();
  const rounds = 200;
  const event = ldEvent(0, randomUUID());
  const body = JSON.stringify(event);
  const time = async (withEmit) => {
    const started = performance.now();
    for (let i = 0; i < rounds; i++) {
      await client.query('BEGIN');
      await client.query('UPDATE bench_flags SET on_ = NOT on_ WHERE key = $1', ['f']);
      if (withEmit) {
        const id = `${event._id}-${i}-${randomUUID()}`;
        await queue.enqueue(
          { deliveryId: deliveryIdFor(id, 'hook'), webhookId: 'hook', eventId: id, event, eventBody: body },
          { transaction: client },
        );
      }
      await client.query('COMMIT');
    }
    return (performance.now() - started) / rounds;
  };
  try {
    const plain = await time(false);
    const withEmit = await time(true);
    return { plain, withEmit };
  } finally {
    client.release();
    await queue.close();
    void table;
  }
}

async function startReceiver() {
  const child = fork(SELF, ['receiver']);
  const [{ port }] = await once(child, 'message');
  const count = async () => {
    child.send('count');
    const [reply] = await once(child, 'message');
    return reply.received;
  };
  return {
    child,
    url: `http://127.0.0.1:${port}/hooks`,
    count,
    async waitFor(total) {
      const deadline = Date.now() + 120_000;
      while ((await count()) < total) {
        if (Date.now() > deadline) throw new Error(`receiver: fewer than ${total} requests after 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}

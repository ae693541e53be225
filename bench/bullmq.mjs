// Deliveries per second, end to end (emit -> receiver got the request), in one run:
//   in-process delivery  vs  BullMQ with 1 worker process  vs  BullMQ with 2 worker processes.
// Every row sends the same events to the same receiver (its own process). The BullMQ rows time from the first
// emit to the last request received, so enqueueing is included; emit alone is reported too.
// Then, in interleaved blocks (each row the median of its blocks):
//   1. delivery: bullmqQueue emitter + createWebhookWorker in this process, awaited single emits to one webhook,
//      vs a bare BullMQ loop (queue.add awaited singly, a Worker that serializes, HMAC-signs and POSTs with undici
//      on a keep-alive Agent) to the same receiver;
//   2. fan-out of 1 event to 1,000 webhooks: dispatcher.emit (pipelined addBulk chunks) vs 1,000 bare queue.add at
//      once, vs one bare addBulk of the 1,000 (deduplicated, as emit adds them), vs 1,000 queue.add awaited one by one;
//      each by its time and by the emitter's CPU time (steadier on a busy machine).
//
//   npm run build && node bench/bullmq.mjs [--events=5000] [--concurrency=64] [--delivery-events=1000] [--blocks=3]
//     [--only=processes,delivery,fanout]
// Redis: REDIS_URL when set, else a throwaway redis-server on a free port (Debian package `redis-server`).
import { execFileSync, fork, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { createWebhookDispatcher } from 'webhook-dispatcher';
import { bullmqQueue, createWebhookWorker, redisStore } from 'webhook-dispatcher/bullmq';
import { deliveryIdFor } from 'webhook-dispatcher/extend';

const SELF = fileURLToPath(import.meta.url);
// --only=processes,delivery,fanout: a part of the run (all by default).
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : undefined;
const enabled = (part) => !only || only.has(part);
const arg = (name, fallback) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};

// --- child roles -------------------------------------------------------------------------------------------------

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
} else if (process.argv[2] === 'worker') {
  const config = JSON.parse(process.argv[3]);
  const client = new Redis(config.redisUrl);
  const worker = createWebhookWorker({
    connection: { url: config.redisUrl },
    queueName: config.queueName,
    store: redisStore({ client, key: config.storeKey }),
    allowPrivateNetworks: true,
    concurrency: config.concurrency,
    deliveryLog: false,
  });
  await worker.ready();
  process.send('ready');
  process.on('disconnect', async () => {
    await worker.close({ deadlineMs: 2000 });
    client.disconnect();
    process.exit(0);
  });
} else {
  await main();
}

// --- the benchmark -----------------------------------------------------------------------------------------------

async function main() {
  const events = arg('events', 5000);
  const concurrency = arg('concurrency', 64);
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const receiver = await startReceiver();
  const rows = [];
  const deliveryEvents = arg('delivery-events', 1000);
  const blocks = arg('blocks', 3);
  const runs = {
    ours: [],
    bare: [],
    oursRead: [],
    oursCalls: [],
    bareCalls: [],
    oursReadCalls: [],
    emit: [],
    adds: [],
    bulk: [],
    awaitedAdds: [],
    emitCpu: [],
    addsCpu: [],
    bulkCpu: [],
    awaitedAddsCpu: [],
  };
  try {
    if (enabled('processes')) {
      rows.push(await inProcess(receiver, events, concurrency));
      for (const workers of [1, 2])
        rows.push(await viaBullmq(redis.url, client, receiver, events, concurrency, workers));
    }
    const fan = await fanOutSetup(redis.url, client);
    try {
      for (let block = 0; block < blocks; block++) {
        // Alternated, so that a slower phase of a shared machine does not favour one side.
        const pair = [
          ['ours', () => oursDelivery(redis.url, client, receiver, deliveryEvents)],
          ['bare', () => bareDelivery(redis.url, client, receiver, deliveryEvents)],
          [
            'oursRead',
            () => oursDelivery(redis.url, client, receiver, deliveryEvents, { readEachTime: true }),
          ],
        ];
        if (block % 2 === 1) pair.reverse();
        for (const [name, run] of enabled('delivery') ? pair : []) {
          const { rate, calls } = await run();
          runs[name].push(rate);
          runs[`${name}Calls`].push(calls.total);
          if (process.env.BENCH_VERBOSE) console.log(name, Math.round(rate), calls);
        }
        if (!enabled('fanout')) continue;
        const f = await fan.block();
        for (const key of Object.keys(f)) runs[key].push(f[key]);
      }
    } finally {
      await fan.close();
    }
  } finally {
    client.disconnect();
    receiver.child.disconnect();
    await redis.stop();
  }
  const base = rows[0]?.perSecond;
  if (base !== undefined)
    console.log(
      `\nwebhook-dispatcher/bullmq: ${events} events to one webhook, concurrency ${concurrency} per process, ` +
        `${cpus().length} CPUs, node ${process.version}`,
    );
  if (base !== undefined)
    console.table(
      rows.map((row) => ({
        delivery: row.name,
        'deliveries/s': Math.round(row.perSecond),
        'vs in-process': `${(row.perSecond / base).toFixed(2)}x`,
        'emit/s': row.emitPerSecond === undefined ? '' : Math.round(row.emitPerSecond),
        'total ms': Math.round(row.ms),
      })),
    );
  const median = (values) =>
    values.length === 0 ? Number.NaN : [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const ours = median(runs.ours);
  const bare = median(runs.bare);
  const adds = median(runs.adds);
  const awaitedAdds = median(runs.awaitedAdds);
  const fanRow = (row, ms) => ({
    row,
    value: ms.toFixed(1),
    'vs baseline': `${(adds / ms).toFixed(2)}x`,
    'vs awaited adds / note': `${(awaitedAdds / ms).toFixed(2)}x`,
  });
  console.log(
    `\nBullMQ delivery: ${deliveryEvents} awaited single emits to one webhook, worker concurrency 64 in this process; ` +
      `fan-out 1 -> 1000; median of ${blocks} interleaved blocks`,
  );
  // Rows of a part not run (--only) are left out.
  const measured = (row) => !String(row.value).includes('NaN');
  console.table(
    [
      {
        row: 'bullmqQueue + createWebhookWorker (deliveries/s)',
        value: Math.round(ours),
        'vs baseline': `${(ours / bare).toFixed(2)}x of bare`,
        'vs awaited adds / note': '',
      },
      {
        row: '... reading the webhook from Redis per delivery (deliveries/s)',
        value: Math.round(median(runs.oursRead)),
        'vs baseline': `${(median(runs.oursRead) / bare).toFixed(2)}x of bare`,
        'vs awaited adds / note': `${median(runs.oursReadCalls).toFixed(1)} commands/delivery`,
      },
      {
        row: 'bare BullMQ add/Worker + signed POST (deliveries/s)',
        value: Math.round(bare),
        'vs baseline': '1.00x of bare',
        'vs awaited adds / note': '',
      },
      {
        row: 'bullmqQueue: Redis commands per delivery',
        value: median(runs.oursCalls).toFixed(1),
        'vs baseline': `${(median(runs.oursCalls) / median(runs.bareCalls)).toFixed(2)}x of bare`,
        'vs awaited adds / note': '',
      },
      {
        row: 'bare BullMQ: Redis commands per delivery',
        value: median(runs.bareCalls).toFixed(1),
        'vs baseline': '1.00x of bare',
        'vs awaited adds / note': '',
      },
      fanRow('fan-out 1 -> 1000: dispatcher.emit (ms)', median(runs.emit)),
      fanRow('fan-out 1 -> 1000: 1000 queue.add at once (ms)', adds),
      fanRow('fan-out 1 -> 1000: bare addBulk of 1000, deduplicated (ms)', median(runs.bulk)),
      fanRow('fan-out 1 -> 1000: 1000 queue.add awaited (ms)', awaitedAdds),
      // The emitter's CPU per fan-out, which a busy shared machine disturbs less than the times above.
      ...[
        ['dispatcher.emit', 'emitCpu'],
        ['1000 queue.add at once', 'addsCpu'],
        ['bare addBulk of 1000', 'bulkCpu'],
        ['1000 queue.add awaited', 'awaitedAddsCpu'],
      ].map(([what, key]) => ({
        row: `fan-out 1 -> 1000: ${what}, emitter CPU (ms)`,
        value: median(runs[key]).toFixed(1),
        'vs baseline': `${(median(runs.addsCpu) / median(runs[key])).toFixed(2)}x`,
        'vs awaited adds / note': `${(median(runs.awaitedAddsCpu) / median(runs[key])).toFixed(2)}x`,
      })),
    ].filter(measured),
  );
}

/** Commands Redis has run (all clients), from INFO commandstats: per delivery, a count the load does not change. */
async function redisCalls(client) {
  const info = await client.info('commandstats');
  const calls = {};
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match) calls[match[1]] = Number(match[2]);
  }
  return calls;
}

function callsSince(before, after, events) {
  const perDelivery = {};
  let total = 0;
  for (const [name, calls] of Object.entries(after)) {
    const n = calls - (before[name] ?? 0) - (name === 'info' ? 1 : 0);
    if (n > 0) {
      perDelivery[name] = n / events;
      total += n;
    }
  }
  return { total: total / events, perDelivery };
}

/** Awaited single emits through bullmqQueue, delivered by createWebhookWorker in this process. */
async function oursDelivery(redisUrl, client, receiver, events, { readEachTime = false } = {}) {
  const queueName = `ours-${randomUUID()}`;
  const storeKey = `bench:${queueName}:webhooks`;
  const watched = redisStore({ client, key: storeKey });
  // readEachTime: the store as it was before its watch reported its status, so the worker read each job's webhook
  // from Redis at send time (one HGET per delivery) instead of taking it from its watched index.
  const store = readEachTime ? { ...watched, watch: (onChange) => watched.watch(onChange) } : watched;
  const dispatcher = createWebhookDispatcher({
    store,
    queue: bullmqQueue({ connection: { url: redisUrl }, queueName }),
    allowPrivateNetworks: true,
    deliveryLog: false,
  });
  await dispatcher.webhooks.create({ url: receiver.url, secret: 'bench' });
  const worker = createWebhookWorker({
    connection: { url: redisUrl },
    queueName,
    store,
    allowPrivateNetworks: true,
    concurrency: 64,
    deliveryLog: false,
    health: false,
  });
  await worker.ready();
  const runId = randomUUID();
  const before = await receiver.count();
  const callsBefore = await redisCalls(client);
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    const [result] = await dispatcher.emit(ldEvent(i, runId));
    if (result?.outcome !== 'queued') throw new Error(`bullmqQueue: not queued: ${JSON.stringify(result)}`);
  }
  await receiver.waitFor(before + events);
  const ms = performance.now() - started;
  const calls = callsSince(callsBefore, await redisCalls(client), events);
  await dispatcher.close();
  await worker.close();
  await cleanQueue(client, queueName, storeKey);
  return { rate: (events / ms) * 1000, calls };
}

/** The same work with BullMQ alone: add awaited singly, a Worker that signs and POSTs with undici. */
async function bareDelivery(redisUrl, client, receiver, events) {
  const queueName = `bare-${randomUUID()}`;
  const queue = new Queue(queueName, { connection: { url: redisUrl } });
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  const secret = 'bench';
  const worker = new Worker(
    queueName,
    async (job) => {
      const body = JSON.stringify(job.data.event);
      const { statusCode, body: response } = await request(receiver.url, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          'webhook-id': job.data.deliveryId,
          'x-ld-signature': createHmac('sha256', secret).update(body).digest('hex'),
        },
        body,
      });
      await response.dump();
      if (statusCode !== 200) throw new Error(`status ${statusCode}`);
    },
    { connection: { url: redisUrl }, concurrency: 64 },
  );
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  const runId = randomUUID();
  const before = await receiver.count();
  const callsBefore = await redisCalls(client);
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    const event = ldEvent(i, runId);
    const deliveryId = deliveryIdFor(event._id, 'hook');
    await queue.add(
      'deliver',
      { deliveryId, event },
      { jobId: deliveryId, removeOnComplete: { age: 86_400, count: 1000 } },
    );
  }
  await receiver.waitFor(before + events);
  const ms = performance.now() - started;
  const calls = callsSince(callsBefore, await redisCalls(client), events);
  await worker.close();
  await queue.close();
  await agent.close();
  await cleanQueue(client, queueName, '');
  return { rate: (events / ms) * 1000, calls };
}

/**
 * One emitting dispatcher whose store holds 1,000 webhooks matching every event (created once), and per block:
 * one emit to all of them, and 1,000 bare queue.add of the same jobs, at once
 * and awaited one by one. Nothing is delivered (no worker); each block has queues of its own.
 */
async function fanOutSetup(redisUrl, client) {
  const storeKey = `bench:fan-${randomUUID()}:webhooks`;
  const store = redisStore({ client, key: storeKey });
  const admin = createWebhookDispatcher({ store, allowPrivateNetworks: true, deliveryLog: false });
  for (let i = 0; i < 1000; i++) await admin.webhooks.create({ url: `http://127.0.0.1:9/hook-${i}` });
  await admin.close();
  const queueNames = [];
  const fresh = () => {
    const name = `fan-${randomUUID()}`;
    queueNames.push(name);
    return name;
  };
  return {
    async block() {
      const queue = bullmqQueue({ connection: { url: redisUrl }, queueName: fresh() });
      const dispatcher = createWebhookDispatcher({
        store,
        queue,
        allowPrivateNetworks: true,
        deliveryLog: false,
      });
      await queue.ready();
      await dispatcher.emit(ldEvent(-1, randomUUID())); // loads the index and BullMQ's scripts
      const event = ldEvent(0, randomUUID());
      let started = performance.now();
      let cpu = process.cpuUsage();
      const emitted = await dispatcher.emit(event);
      const emit = performance.now() - started;
      const emitCpu = cpuMs(cpu);
      if (emitted.length !== 1000 || !emitted.every((r) => r.outcome === 'queued'))
        throw new Error('emit fan-out: not queued');
      await dispatcher.close();

      const body = JSON.stringify(event);
      const jobs = emitted.map((r) => ({ deliveryId: r.deliveryId }));

      const bare = new Queue(fresh(), { connection: { url: redisUrl } });
      await bare.add('warm', {});
      const opts = (job) => ({ jobId: job.deliveryId, removeOnComplete: { age: 86_400, count: 1000 } });
      started = performance.now();
      cpu = process.cpuUsage();
      await Promise.all(
        jobs.map((job) => bare.add('deliver', { deliveryId: job.deliveryId, eventBody: body }, opts(job))),
      );
      const adds = performance.now() - started;
      const addsCpu = cpuMs(cpu);
      await bare.close();

      // The broker's own best for a fan-out: the same 1,000 jobs (deduplicated, as emit adds them) in one pipelined
      // addBulk; what is left between it and 1,000 awaited adds is BullMQ's add script, run once per job in Redis.
      const bulkQueue = new Queue(fresh(), { connection: { url: redisUrl } });
      await bulkQueue.add('warm', {});
      const dedupe = (job) => ({ ...opts(job), deduplication: { id: job.deliveryId, ttl: 86_400_000 } });
      started = performance.now();
      cpu = process.cpuUsage();
      await bulkQueue.addBulk(
        jobs.map((job) => ({
          name: 'deliver',
          data: { deliveryId: job.deliveryId, eventBody: body },
          opts: dedupe(job),
        })),
      );
      const bulk = performance.now() - started;
      const bulkCpu = cpuMs(cpu);
      await bulkQueue.close();

      const awaited = new Queue(fresh(), { connection: { url: redisUrl } });
      await awaited.add('warm', {});
      started = performance.now();
      cpu = process.cpuUsage();
      for (const job of jobs)
        await awaited.add('deliver', { deliveryId: job.deliveryId, eventBody: body }, opts(job));
      const awaitedAdds = performance.now() - started;
      const awaitedAddsCpu = cpuMs(cpu);
      await awaited.close();
      return { emit, adds, bulk, awaitedAdds, emitCpu, addsCpu, bulkCpu, awaitedAddsCpu };
    },
    async close() {
      for (const name of queueNames) await cleanQueue(client, name, '');
      await client.del(storeKey);
    },
  };
}

/** This process's CPU time since `since` (a `process.cpuUsage()`), in ms: what a fan-out costs the emitter. */
function cpuMs(since) {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
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

async function inProcess(receiver, events, concurrency) {
  const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true, concurrency, deliveryLog: false });
  await dispatcher.webhooks.create({ url: receiver.url, secret: 'bench' });
  const runId = randomUUID();
  const before = await receiver.count();
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: events }, (_, i) => dispatcher.emit(ldEvent(i, runId))),
  );
  await receiver.waitFor(before + events);
  const ms = performance.now() - started;
  await dispatcher.close();
  if (!results.every(([r]) => r?.ok)) throw new Error('in-process: some deliveries failed');
  return { name: 'in-process', ms, perSecond: (events / ms) * 1000 };
}

async function viaBullmq(redisUrl, client, receiver, events, concurrency, workers) {
  const queueName = `bench-${randomUUID()}`;
  const storeKey = `bench:${queueName}:webhooks`;
  const queue = bullmqQueue({ connection: { url: redisUrl }, queueName });
  const dispatcher = createWebhookDispatcher({
    store: redisStore({ client, key: storeKey }),
    queue,
    allowPrivateNetworks: true,
    deliveryLog: false,
  });
  await dispatcher.webhooks.create({ url: receiver.url, secret: 'bench' });
  const children = [];
  for (let i = 0; i < workers; i++) {
    const child = fork(SELF, ['worker', JSON.stringify({ redisUrl, queueName, storeKey, concurrency })]);
    children.push(child);
  }
  await Promise.all(children.map((child) => once(child, 'message')));
  await queue.ready();

  const runId = randomUUID();
  const before = await receiver.count();
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: events }, (_, i) => dispatcher.emit(ldEvent(i, runId))),
  );
  const emitted = performance.now() - started;
  await receiver.waitFor(before + events);
  const ms = performance.now() - started;

  await dispatcher.close();
  await Promise.all(
    children.map((child) => {
      const exited = once(child, 'exit');
      child.disconnect();
      return exited;
    }),
  );
  await cleanQueue(client, queueName, storeKey);
  if (!results.every(([r]) => r?.outcome === 'queued'))
    throw new Error('bullmq: some deliveries were not queued');
  return {
    name: `BullMQ, ${workers} worker process${workers > 1 ? 'es' : ''}`,
    ms,
    perSecond: (events / ms) * 1000,
    emitPerSecond: (events / emitted) * 1000,
  };
}

async function cleanQueue(client, queueName, storeKey) {
  const keys = await client.keys(`bull:${queueName}:*`);
  if (keys.length > 0) await client.del(...keys);
  if (storeKey) await client.del(storeKey);
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

async function startRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'bench/bullmq.mjs needs Redis: set REDIS_URL, or `sudo apt-get install -y redis-server`.',
    );
  }
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

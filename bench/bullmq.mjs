// Deliveries per second, end to end (emit -> receiver got the request), in one run:
//   in-process delivery  vs  BullMQ with 1 worker process  vs  BullMQ with 2 worker processes.
// Every row sends the same events to the same receiver (its own process). The BullMQ rows time from the first
// emit to the last request received, so enqueueing is included; emit alone is reported too.
//
//   npm run build && node bench/bullmq.mjs [--events=5000] [--concurrency=64]
// Redis: REDIS_URL when set, else a throwaway redis-server on a free port (Debian package `redis-server`).
import { execFileSync, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createWebhookDispatcher } from 'webhook-dispatcher';
import { bullmqQueue, createWebhookWorker, redisStore } from 'webhook-dispatcher/bullmq';

const SELF = fileURLToPath(import.meta.url);
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
  try {
    rows.push(await inProcess(receiver, events, concurrency));
    for (const workers of [1, 2])
      rows.push(await viaBullmq(redis.url, client, receiver, events, concurrency, workers));
  } finally {
    client.disconnect();
    receiver.child.disconnect();
    await redis.stop();
  }
  const base = rows[0].perSecond;
  console.log(
    `\nwebhook-dispatcher/bullmq: ${events} events to one webhook, concurrency ${concurrency} per process, ` +
      `${cpus().length} CPUs, node ${process.version}`,
  );
  console.table(
    rows.map((row) => ({
      delivery: row.name,
      'deliveries/s': Math.round(row.perSecond),
      'vs in-process': `${(row.perSecond / base).toFixed(2)}x`,
      'emit/s': row.emitPerSecond === undefined ? '' : Math.round(row.emitPerSecond),
      'total ms': Math.round(row.ms),
    })),
  );
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
  await client.del(storeKey);
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

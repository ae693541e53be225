// A delivery worker: run as many as you like, on any machine that reaches Redis and the receivers.
//   REDIS_URL=redis://127.0.0.1:6379 WORKER=w1 node examples/bullmq/worker.mjs
import { Redis } from 'ioredis';
import { createWebhookWorker, redisStore } from 'webhook-dispatcher/bullmq';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const name = process.env.WORKER ?? `worker-${process.pid}`;
const client = new Redis(redisUrl);

const worker = createWebhookWorker({
  // The same queue as the emitters (the defaults unless QUEUE_NAME / PREFIX are set).
  connection: { url: redisUrl },
  queueName: process.env.QUEUE_NAME ?? 'webhook-deliveries',
  prefix: process.env.PREFIX ?? 'bull',
  // The same store as the emitters: each job's webhook is read from it at send time.
  store: redisStore({ client, key: process.env.STORE_KEY ?? 'webhook-dispatcher:webhooks' }),
  concurrency: 16,
  // A dead worker's jobs go to another one after at most lockDuration + stalledInterval (30 s + 30 s by default).
  lockDuration: Number(process.env.LOCK_DURATION_MS ?? 30_000),
  stalledInterval: Number(process.env.STALLED_INTERVAL_MS ?? 30_000),
  // The receiver of this example is on localhost; real receivers are public and need no such switch.
  allowPrivateNetworks: true,
  onDelivery: (result) =>
    console.log(`${name}: ${result.outcome} ${result.deliveryId} (status ${result.status ?? '-'})`),
  logger: { warn: console.warn, error: console.error },
});

await worker.ready();
console.log(`${name}: taking jobs`);

// A deploy sends SIGTERM: finish what is in flight (10 s at most); what is cut off stays in Redis for another worker.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await worker.close({ deadlineMs: 10_000 });
    client.disconnect();
    process.exit(0);
  });
}

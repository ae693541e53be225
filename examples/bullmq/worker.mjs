// A delivery worker: run as many as you like, on any machine that reaches Redis and the receivers.
//   REDIS_URL=redis://127.0.0.1:6379 WORKER=w1 node examples/bullmq/worker.mjs
import { client, webhooks } from './webhooks.mjs';

const name = process.env.WORKER ?? `worker-${process.pid}`;

// The same queue, store, delivery log and retry policy as the emitter: they come from webhooks.mjs.
const worker = webhooks.worker({
  concurrency: 16,
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

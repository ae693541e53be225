// A delivery worker: run as many as you like, on any machine that reaches Postgres and the receivers.
//   DATABASE_URL=postgres://... WORKER=w1 node examples/postgres/worker.mjs
import { pool, webhooks } from './webhooks.mjs';

const name = process.env.WORKER ?? `worker-${process.pid}`;

// The tables may not be there yet when a worker starts before any emitter (idempotent, one process at a time).
await webhooks.migrate();

// The same queue, store, delivery log and job options as the emitter: they come from webhooks.mjs.
const worker = webhooks.worker({
  concurrency: 16,
  onDelivery: (result) =>
    console.log(`${name}: ${result.outcome} ${result.deliveryId} (status ${result.status ?? '-'})`),
  logger: { warn: console.warn, error: console.error },
});

await worker.ready();
console.log(`${name}: taking jobs`);

// A deploy sends SIGTERM: finish what is in flight (10 s at most); what is cut off goes back to the queue.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await worker.close({ deadlineMs: 10_000 });
    await pool.end();
    process.exit(0);
  });
}

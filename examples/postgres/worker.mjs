// A delivery worker: run as many as you like, on any machine that reaches Postgres and the receivers.
//   DATABASE_URL=postgres://... WORKER=w1 node examples/postgres/worker.mjs
import pg from 'pg';
import { createWebhookWorker, migrate, postgresStore } from 'webhook-dispatcher/postgres';

const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = process.env.WORKER ?? `worker-${process.pid}`;
const schema = process.env.SCHEMA ?? 'public'; // where the webhooks table is, as in emitter.mjs
const pool = new pg.Pool({ connectionString });

// The tables may not be there yet when a worker starts before any emitter (idempotent, one process at a time).
await migrate(pool, { schema });

const worker = createWebhookWorker({
  pool,
  // The same pg-boss schema and queue as the emitters (the defaults unless BOSS_SCHEMA / QUEUE_NAME are set).
  schema: process.env.BOSS_SCHEMA ?? 'pgboss',
  queueName: process.env.QUEUE_NAME ?? 'webhook-deliveries',
  // The same store as the emitters: each job's webhook is read from it at send time.
  store: postgresStore({ pool, schema }),
  concurrency: 16,
  // A dead worker's jobs go back to the queue after their expiry (written by the emitter, 31 s by default) and
  // the next maintenance run (every 10 s by default).
  maintenanceIntervalSeconds: Number(process.env.MAINTENANCE_INTERVAL_SECONDS ?? 10),
  // The receiver of this example is on localhost; real receivers are public and need no such switch.
  allowPrivateNetworks: true,
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

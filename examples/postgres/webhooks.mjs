// The webhook setup of this example, in one place: the emitter and every worker import it, so they share the store,
// the queue, the delivery log, the job options and the retry policy by construction.
import pg from 'pg';
import { postgresWebhooks } from 'webhook-dispatcher/postgres';

const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// Where the example lives; the defaults are the library's. The tests give each run its own schemas.
export const schema = process.env.SCHEMA ?? 'public'; // the webhooks and delivery-log tables (and this example's flags)

export const pool = new pg.Pool({ connectionString });

export const webhooks = postgresWebhooks({
  pool,
  schema,
  bossSchema: process.env.BOSS_SCHEMA ?? 'pgboss', // pg-boss's tables
  queueName: process.env.QUEUE_NAME ?? 'webhook-deliveries',
  // A dead worker's jobs go back to the queue after their expiry (26 s by default, derived from timeoutMs) and the
  // next maintenance run (every 10 s by default). The demo shortens both.
  ...(process.env.EXPIRE_IN_SECONDS && {
    jobOptions: { expireInSeconds: Number(process.env.EXPIRE_IN_SECONDS) },
  }),
  ...(process.env.MAINTENANCE_INTERVAL_SECONDS && {
    maintenanceIntervalSeconds: Number(process.env.MAINTENANCE_INTERVAL_SECONDS),
  }),
  // The receiver of this example is on localhost; real receivers are public and need no such switch.
  allowPrivateNetworks: true,
});

// The webhook setup of this example, in one place: the emitter and every worker import it, so they share the store,
// the queue, the delivery log, the job options and the retry policy by construction.
import { Redis } from 'ioredis';
import { bullmqWebhooks } from 'webhook-dispatcher/bullmq';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Where the example lives in Redis; the defaults are the library's and BullMQ's. The tests give each run its own.
const prefix = process.env.PREFIX ?? 'bull'; // BullMQ's key prefix

/** The connection of the webhooks hash and the delivery log; each process disconnects it when done. */
export const client = new Redis(redisUrl);

export const webhooks = bullmqWebhooks({
  connection: { url: redisUrl },
  client,
  queueName: process.env.QUEUE_NAME ?? 'webhook-deliveries',
  prefix,
  storeKey: process.env.STORE_KEY ?? 'webhook-dispatcher:webhooks',
  deliveryLogOptions: { prefix: `${prefix}:webhook-log` },
  // A dead worker's jobs go to another one after at most lockDuration + 2 × stalledInterval (15 s + 2 × 10 s by
  // default). The demo shortens both.
  ...(process.env.LOCK_DURATION_MS && { lockDuration: Number(process.env.LOCK_DURATION_MS) }),
  ...(process.env.STALLED_INTERVAL_MS && { stalledInterval: Number(process.env.STALLED_INTERVAL_MS) }),
  // The receiver of this example is on localhost; real receivers are public and need no such switch.
  allowPrivateNetworks: true,
});

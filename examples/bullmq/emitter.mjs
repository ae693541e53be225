// The host service: it emits events, and the deliveries are persisted in Redis for the workers.
//   REDIS_URL=redis://127.0.0.1:6379 RECEIVER_URL=http://127.0.0.1:4000/hooks node examples/bullmq/emitter.mjs 20
import { client, webhooks } from './webhooks.mjs';

const receiverUrl = process.env.RECEIVER_URL ?? 'http://127.0.0.1:4000/hooks';
const count = Number(process.argv[2] ?? 20);

// Emits into the BullMQ queue: the workers deliver.
const dispatcher = webhooks.dispatcher();

const existing = (await dispatcher.webhooks.list()).find((hook) => hook.name === 'bullmq example');
const hook = existing
  ? await dispatcher.webhooks.update(existing.id, { url: receiverUrl })
  : await dispatcher.webhooks.create({ name: 'bullmq example', url: receiverUrl, secret: 'example-secret' });

// Each event id starts with the run's id (demo.mjs passes RUN_ID to tell its deliveries from older ones).
const runId = process.env.RUN_ID ?? Date.now().toString(36);
const events = Array.from({ length: count }, (_, i) => ({
  _id: `${runId}-${i}`,
  date: Date.now(),
  kind: 'flag',
  name: `flag-${i}`,
  title: `Example turned on flag-${i} in production`,
  accesses: [{ action: 'updateOn', resource: `proj/default:env/production:flag/flag-${i}` }],
}));
let queued = 0;
for (const event of events) {
  const results = await dispatcher.emit(event);
  queued += results.filter((result) => result.outcome === 'queued').length;
}
console.log(`emitter: ${queued} deliveries queued for webhook ${hook.id}`);

// Emitting the same event again is not delivered twice: the delivery id (event id + webhook id) is the job id.
await dispatcher.emit(events[0]);

await dispatcher.close();
client.disconnect();

// The host service: it changes flags in its own Postgres and emits the webhook events in the SAME transaction,
// so a change and its deliveries commit (or roll back) together.
//   DATABASE_URL=postgres://... RECEIVER_URL=http://127.0.0.1:4000/hooks node examples/postgres/emitter.mjs 20
import { pool, schema, webhooks } from './webhooks.mjs';

const receiverUrl = process.env.RECEIVER_URL ?? 'http://127.0.0.1:4000/hooks';
const count = Number(process.argv[2] ?? 20);

await webhooks.migrate(); // the webhooks and delivery-log tables, once (idempotent)
const flags = `"${schema}".example_flags`; // migrate() has checked the schema name
await pool.query(`CREATE TABLE IF NOT EXISTS ${flags} (key text PRIMARY KEY, on_ boolean NOT NULL)`);

// Emits into the pg-boss queue: the workers deliver.
const dispatcher = webhooks.dispatcher();

const existing = (await dispatcher.webhooks.list()).find((hook) => hook.name === 'postgres example');
const hook = existing
  ? await dispatcher.webhooks.update(existing.id, { url: receiverUrl })
  : await dispatcher.webhooks.create({
      name: 'postgres example',
      url: receiverUrl,
      secret: 'example-secret',
    });

// Each event id starts with the run's id (demo.mjs passes RUN_ID to tell its deliveries from older ones).
const runId = process.env.RUN_ID ?? Date.now().toString(36);
let queued = 0;
const client = await pool.connect();
try {
  for (let i = 0; i < count; i++) {
    const key = `flag-${i}`;
    await client.query('BEGIN');
    try {
      await client.query(
        `INSERT INTO ${flags} (key, on_) VALUES ($1, true) ON CONFLICT (key) DO UPDATE SET on_ = true`,
        [key],
      );
      // Rejects (ERR_ENQUEUE_FAILED) when the deliveries cannot be written in the transaction.
      const results = await dispatcher.emit(
        {
          _id: `${runId}-${i}`,
          date: Date.now(),
          kind: 'flag',
          name: key,
          title: `Example turned on ${key} in production`,
          accesses: [{ action: 'updateOn', resource: `proj/default:env/production:flag/${key}` }],
        },
        { transaction: client },
      );
      await client.query('COMMIT');
      queued += results.length;
    } catch (error) {
      // Not queued (Postgres refused): the flag change is rolled back with it, nothing is half-done.
      await client.query('ROLLBACK');
      throw error;
    }
  }
  // A change that is rolled back sends nothing.
  await client.query('BEGIN');
  await dispatcher.emit(
    {
      _id: `${runId}-rolled-back`,
      kind: 'flag',
      name: 'never',
      accesses: [{ action: 'updateOn', resource: 'proj/default:env/production:flag/never' }],
    },
    { transaction: client },
  );
  await client.query('ROLLBACK');
} finally {
  client.release();
}
console.log(`emitter: ${queued} deliveries committed for webhook ${hook.id}`);

await dispatcher.close();
await pool.end();

// A custom WebhookStore: webhooks kept in a JSON file, so they survive a restart. Any database works the same
// way: five async methods over plain Webhook records. Run: `npm run build && node examples/custom-store.mjs`.
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhookDispatcher } from 'webhook-dispatcher';

function jsonFileStore(path) {
  const load = async () => {
    try {
      return JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      if (error.code === 'ENOENT') return {};
      throw error;
    }
  };
  // Write to a temporary file and rename it, so a crash never leaves half a file behind.
  const save = async (records) => {
    await writeFile(`${path}.tmp`, JSON.stringify(records, null, 2));
    await rename(`${path}.tmp`, path);
  };
  return {
    async get(id) {
      return (await load())[id];
    },
    async list() {
      return Object.values(await load());
    },
    async create(webhook) {
      const records = await load();
      if (records[webhook.id]) throw new Error(`webhook ${webhook.id} exists`);
      await save({ ...records, [webhook.id]: webhook });
    },
    async update(webhook) {
      const records = await load();
      if (!records[webhook.id]) throw new Error(`no webhook ${webhook.id}`);
      await save({ ...records, [webhook.id]: webhook });
    },
    async delete(id) {
      const records = await load();
      if (!records[id]) return false;
      delete records[id];
      await save(records);
      return true;
    },
  };
}

const dir = await mkdtemp(join(tmpdir(), 'webhooks-'));
const file = join(dir, 'webhooks.json');

// First "process": registers a webhook.
const first = createWebhookDispatcher({ store: jsonFileStore(file) });
const hook = await first.webhooks.create({
  name: 'Ops channel',
  url: 'https://hooks.example.com/ops',
  sign: true,
});
await first.close();

// Second "process": the same file, the webhook is still there (secret included) and takes part in matching.
const second = createWebhookDispatcher({ store: jsonFileStore(file) });
const [again] = await second.webhooks.list();
console.log(`stored in ${file}: ${again.name} -> ${again.url} (signed: ${again.secret !== undefined})`);
const preview = await second.preview(hook.id, {
  _id: 'evt-1',
  accesses: [{ action: 'updateOn', resource: 'proj/default:env/production:flag/checkout' }],
});
console.log(`a delivery would carry X-LD-Signature ${preview.headers['x-ld-signature'].slice(0, 16)}...`);
await second.close();
await rm(dir, { recursive: true });
if (again.id !== hook.id || again.secret !== hook.secret) process.exitCode = 1;

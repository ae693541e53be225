// Per-webhook mutual TLS: a webhook's clientCertificate is presented to a receiver that requires one, never shown.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../src/bullmq/index.js';
import {
  createWebhookDispatcher,
  type DeliveryResult,
  fetchTransport,
  httpTransport,
  memoryStore,
  WebhookValidationError,
} from '../src/index.js';
import { createWebhookWorker, migrate, pgBossQueue, postgresStore } from '../src/postgres/index.js';
import { ldEvent, webhookRecord } from './helpers/events.js';
import { startPostgres } from './helpers/postgres.js';
import { startRedis } from './helpers/redis.js';
import { open } from './helpers/setup.js';
import { makeTestCa, startHttpsReceiver, type TestCa } from './helpers/test-ca.js';

let ca: TestCa;
/** A line from the middle of the sender's private key: it must appear nowhere the webhook is shown or logged. */
let keyLine: string;

beforeAll(() => {
  ca = makeTestCa();
  keyLine = ca.sender.key.split('\n')[5]!;
  expect(keyLine.length).toBeGreaterThan(40);
}, 60_000);
afterAll(() => ca?.remove());

function dispatcherWith(options: Parameters<typeof createWebhookDispatcher>[0] = {}) {
  const logged: unknown[] = [];
  const log = (...args: unknown[]) => logged.push(args);
  const dispatcher = createWebhookDispatcher({
    transport: httpTransport({ ca: ca.ca, allowPrivateNetworks: true }),
    allowPrivateNetworks: true,
    retry: 0,
    logger: { debug: log, info: log, warn: log, error: log },
    ...options,
  });
  open.push(dispatcher);
  return { dispatcher, logged };
}

const byWebhook = (results: DeliveryResult[], id: string) => results.find((r) => r.webhookId === id);

describe('webhooks.create({ clientCertificate })', () => {
  it('is presented to a receiver that requires one; a webhook without one is refused; a plain receiver is unaffected', async () => {
    const strict = await startHttpsReceiver(ca, true);
    const plain = await startHttpsReceiver(ca, false);
    const { dispatcher, logged } = dispatcherWith();
    const certified = await dispatcher.webhooks.create({
      url: strict.url,
      secret: 'shh',
      clientCertificate: ca.sender,
    });
    const bare = await dispatcher.webhooks.create({ url: strict.url });
    const plainWithCert = await dispatcher.webhooks.create({ url: plain.url, clientCertificate: ca.second });
    const plainBare = await dispatcher.webhooks.create({ url: plain.url });

    const results = await dispatcher.emit(ldEvent());
    expect(byWebhook(results, certified.id)).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(byWebhook(results, bare.id)).toMatchObject({ outcome: 'failed', ok: false });
    expect(byWebhook(results, plainWithCert.id)).toMatchObject({ outcome: 'delivered' });
    expect(byWebhook(results, plainBare.id)).toMatchObject({ outcome: 'delivered' });
    // Only the certified webhook got through the strict receiver, as the CA's webhook-sender.
    expect(strict.senders).toEqual(['webhook-sender']);
    // A receiver that asks for no certificate gets none, with or without one on the webhook.
    expect(plain.senders).toEqual(['-', '-']);

    // The refusal is recorded in the delivery log as a failed attempt.
    const failed = await dispatcher.deliveries.list(bare.id);
    expect(failed.items).toHaveLength(1);
    expect(failed.items[0]).toMatchObject({ status: 'failed' });

    // The key is in none of: the log's records, the preview, the results, the logger's calls.
    const shown = JSON.stringify([
      await dispatcher.deliveries.list(certified.id),
      await dispatcher.preview(certified.id),
      results,
      logged,
    ]);
    expect(shown).not.toContain(keyLine);
    expect(shown).not.toContain('PRIVATE KEY');
    expect(shown).not.toContain('clientCertificate');
  });

  it('keeps sending with the same certificate after an unrelated update, and stops after it is cleared', async () => {
    const strict = await startHttpsReceiver(ca, true);
    const { dispatcher } = dispatcherWith();
    const hook = await dispatcher.webhooks.create({ url: strict.url, clientCertificate: ca.sender });
    await dispatcher.webhooks.update(hook.id, { name: 'renamed' });
    expect((await dispatcher.webhooks.get(hook.id))?.clientCertificate).toEqual(ca.sender);
    expect((await dispatcher.emit(ldEvent()))[0]).toMatchObject({ outcome: 'delivered' });
    await dispatcher.webhooks.update(hook.id, { clientCertificate: null });
    expect(await dispatcher.webhooks.get(hook.id)).not.toHaveProperty('clientCertificate');
    expect((await dispatcher.emit(ldEvent()))[0]).toMatchObject({ outcome: 'failed' });
    expect(strict.senders).toEqual(['webhook-sender']);
  });

  it("reuses the certificate's connection pool: successive deliveries open no new TLS connections", async () => {
    const strict = await startHttpsReceiver(ca, true);
    const { dispatcher } = dispatcherWith();
    await dispatcher.webhooks.create({ url: strict.url, clientCertificate: ca.sender });
    const deliver = async (times: number) => {
      for (let i = 0; i < times; i++) {
        expect((await dispatcher.emit(ldEvent()))[0]).toMatchObject({ outcome: 'delivered' });
      }
    };
    await deliver(3);
    const warm = strict.connections();
    await deliver(6);
    // A pool made per delivery (or per attempt) would open a connection, and a handshake, for each one.
    expect(strict.connections()).toBe(warm);
    expect(strict.senders).toEqual(Array(9).fill('webhook-sender'));
  });

  it('takes an encrypted key with its passphrase', async () => {
    const strict = await startHttpsReceiver(ca, true);
    const { dispatcher } = dispatcherWith();
    await dispatcher.webhooks.create({
      url: strict.url,
      clientCertificate: { cert: ca.sender.cert, key: ca.encryptedKey, passphrase: 'hunter2' },
    });
    expect((await dispatcher.emit(ldEvent()))[0]).toMatchObject({ outcome: 'delivered' });
    expect(strict.senders).toEqual(['webhook-sender']);
  });

  it('is validated when saved, naming the member and never echoing the key', async () => {
    const { dispatcher } = dispatcherWith();
    const refusal = async (clientCertificate: unknown) => {
      const error = await dispatcher.webhooks
        .create({ url: 'https://example.com/h', clientCertificate } as never)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebhookValidationError);
      expect((error as Error).message).not.toContain(keyLine);
      return (error as WebhookValidationError).field;
    };
    expect(await refusal('cert.pem')).toBe('clientCertificate');
    expect(await refusal(ca.sender.key)).toBe('clientCertificate');
    expect(await refusal({ ...ca.sender, passphrase: 1234 })).toBe('clientCertificate.passphrase');
    expect(await refusal({ cert: ca.sender.cert })).toBe('clientCertificate.key');
    expect(await refusal({ cert: 'not pem', key: ca.sender.key })).toBe('clientCertificate.cert');
    expect(await refusal({ cert: ca.sender.cert, key: 'no pem here' })).toBe('clientCertificate.key');
    expect(await refusal({ ...ca.sender, extra: 1 })).toBe('clientCertificate.extra');
    expect(await refusal({ cert: ca.sender.cert, key: ca.second.key })).toBe('clientCertificate');
    const wrong = { cert: ca.sender.cert, key: ca.encryptedKey, passphrase: 'wrong' };
    expect(await refusal(wrong)).toBe('clientCertificate');
    const bytes = { cert: Buffer.from(ca.sender.cert), key: Buffer.from(ca.sender.key) };
    expect(await refusal(bytes)).toBe('clientCertificate.cert');
    expect(await dispatcher.webhooks.list()).toEqual([]);
  });

  it('survives hostile stored certificates (written around the dispatcher): a failed delivery, nothing shown', async () => {
    const strict = await startHttpsReceiver(ca, true);
    const hostile: unknown[] = [
      { cert: 'not pem', key: 'not pem either' },
      { cert: ca.sender.cert, key: ca.second.key },
      42,
      { cert: ca.sender.cert },
    ];
    const store = memoryStore();
    for (const [i, clientCertificate] of hostile.entries()) {
      await store.create(webhookRecord({ id: `stored-${i}`, url: strict.url, clientCertificate } as never));
    }
    const { dispatcher, logged } = dispatcherWith({ store });
    const results = await dispatcher.emit(ldEvent());
    expect(results.map((r) => r.outcome)).toEqual(hostile.map(() => 'failed'));
    expect(strict.senders).toEqual([]);
    // Another webhook of the same dispatcher still delivers.
    await dispatcher.webhooks.create({ url: strict.url, clientCertificate: ca.sender });
    expect((await dispatcher.emit(ldEvent())).filter((r) => r.ok)).toHaveLength(1);
    expect(JSON.stringify([results, logged])).not.toContain(keyLine);
  });

  it('fails the delivery with CLIENT_CERTIFICATE_UNSUPPORTED through fetchTransport, which cannot present one', async () => {
    const plain = await startHttpsReceiver(ca, false);
    const { dispatcher } = dispatcherWith({
      transport: fetchTransport({ allowPrivateNetworks: true }),
      retry: { retries: 3, delayMs: 0 },
    });
    await dispatcher.webhooks.create({ url: plain.url, clientCertificate: ca.sender });
    const [result] = await dispatcher.emit(ldEvent());
    // Not retried: another attempt through the same transport cannot present it either.
    expect(result).toMatchObject({
      outcome: 'failed',
      attempts: 1,
      error: { code: 'CLIENT_CERTIFICATE_UNSUPPORTED' },
    });
    expect(result?.error?.message).toContain('httpTransport');
    expect(plain.senders).toEqual([]);
  });
});

describe('clientCertificate through the Postgres store and a pg-boss worker', () => {
  it('is stored in the row, and the worker presents it: the certified webhook delivered, the bare one refused', async () => {
    const postgres = await startPostgres();
    const pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
    const suffix = randomUUID().slice(0, 8);
    const table = `webhooks_mtls_${suffix}`;
    const schema = 'wd_test_pgboss_mtls';
    const queueName = `mtls-${suffix}`;
    const closing: { close(): Promise<void> }[] = [];
    open.push({
      close: async () => {
        // The dispatchers before the pool they use.
        for (const dispatcher of closing) await dispatcher.close();
        await pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}, ${table}_log`);
        await pool.end();
        await postgres.stop();
      },
    });
    await migrate(pool, { table, deliveriesTable: `${table}_log` });
    const store = postgresStore({ pool, table });
    const strict = await startHttpsReceiver(ca, true);
    const producer = createWebhookDispatcher({
      store,
      queue: pgBossQueue({ pool, schema, queueName }),
      allowPrivateNetworks: true,
    });
    closing.push(producer);
    const certified = await producer.webhooks.create({ url: strict.url, clientCertificate: ca.sender });
    const bare = await producer.webhooks.create({ url: strict.url });
    const { rows } = await pool.query(`SELECT record FROM ${table} WHERE id = $1`, [certified.id]);
    expect(rows[0].record.clientCertificate).toEqual(ca.sender);

    const results: DeliveryResult[] = [];
    const worker = createWebhookWorker({
      pool,
      schema,
      queueName,
      store,
      transport: httpTransport({ ca: ca.ca, allowPrivateNetworks: true }),
      allowPrivateNetworks: true,
      retry: 0,
      onDelivery: (result) => {
        results.push(result);
      },
    });
    closing.push(worker);
    await producer.emit(ldEvent());
    const deadline = Date.now() + 20_000;
    while (results.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(byWebhook(results, certified.id)).toMatchObject({ outcome: 'delivered' });
    expect(byWebhook(results, bare.id)).toMatchObject({ outcome: 'failed' });
    expect(strict.senders).toEqual(['webhook-sender']);
    expect(JSON.stringify(results)).not.toContain(keyLine);
  }, 60_000);
});

describe('clientCertificate in the Redis store', () => {
  it('is kept as saved, and a dispatcher reading the store presents it', async () => {
    const redis = await startRedis();
    const key = `wd-test-mtls:${randomUUID().slice(0, 8)}`;
    const clients: Redis[] = [];
    const client = () => {
      const made = new Redis(redis.url);
      clients.push(made);
      return made;
    };
    const closing: { close(): Promise<void> }[] = [];
    open.push({
      close: async () => {
        for (const dispatcher of closing) await dispatcher.close();
        await clients[0]?.del(key, `${key}:circuits`);
        for (const made of clients) made.disconnect();
        await redis.stop();
      },
    });
    const strict = await startHttpsReceiver(ca, true);
    const writer = createWebhookDispatcher({
      store: redisStore({ client: client(), key }),
      allowPrivateNetworks: true,
    });
    closing.push(writer);
    const hook = await writer.webhooks.create({ url: strict.url, clientCertificate: ca.sender });
    const { dispatcher: reader } = dispatcherWith({ store: redisStore({ client: client(), key }) });
    expect((await reader.webhooks.get(hook.id))?.clientCertificate).toEqual(ca.sender);
    expect((await reader.emit(ldEvent()))[0]).toMatchObject({ outcome: 'delivered' });
    expect(strict.senders).toEqual(['webhook-sender']);
  }, 30_000);
});

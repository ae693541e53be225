import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisDeliveryLog, redisStore } from '../src/bullmq/index.js';
import { InvalidEventError } from '../src/extend.js';
import {
  type DeliveryLog,
  httpTransport,
  memoryDeliveryLog,
  memoryStore,
  type WebhookInput,
  type WebhookStore,
  WebhookValidationError,
} from '../src/index.js';
import { migrate, postgresDeliveryLog, postgresStore } from '../src/postgres/index.js';
import { startApi } from './helpers/api.js';
import { expectUnstorableTextKept } from './helpers/delivery-log-contract.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { startReceiver } from './helpers/receiver.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { open, setup } from './helpers/setup.js';

let postgres: TestPostgres;
let pool: pg.Pool;
let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  pool = new pg.Pool({ connectionString: postgres.url, max: 5 });
  client = new Redis(redis.url);
}, 60_000);

afterAll(async () => {
  await client?.quit();
  await pool?.end();
  await Promise.all([postgres?.stop(), redis?.stop()]);
});

/** A fresh Postgres table migrated for the test, dropped after it. */
async function freshTable(): Promise<string> {
  const table = `webhooks_${randomUUID().slice(0, 8)}`;
  await migrate(pool, { table, deliveriesTable: `${table}_log` });
  open.push({
    close: async () => {
      await pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}, ${table}_log`);
    },
  });
  return table;
}

/** A fresh store of each kind: its own Postgres table, its own Redis key. */
const STORES: [string, () => Promise<WebhookStore>][] = [
  ['memoryStore', async () => memoryStore()],
  ['redisStore', async () => redisStore({ client, key: `test:webhooks:${randomUUID()}` })],
  ['postgresStore', async () => postgresStore({ pool, table: await freshTable() })],
];

/** A fresh delivery log of each kind. */
const LOGS: [string, () => Promise<DeliveryLog>][] = [
  ['memoryDeliveryLog', async () => memoryDeliveryLog()],
  ['redisDeliveryLog', async () => redisDeliveryLog({ client, prefix: `test:log:${randomUUID()}` })],
  ['postgresDeliveryLog', async () => postgresLog(`${await freshTable()}_log`)],
];

function postgresLog(deliveriesTable: string) {
  const log = postgresDeliveryLog({ pool, deliveriesTable });
  open.push({ close: async () => log.close() });
  return log;
}

const URL = 'https://example.com/hook';
const NUL = '\u0000';
const LONE = '\ud800';

/** A webhook field holding `bad`, and the field path the refusal names. */
const FIELDS: [string, (bad: string) => Partial<WebhookInput> & { tenant?: string }][] = [
  ['url', (bad) => ({ url: `${URL}/${bad}` })],
  ['name', (bad) => ({ name: `prod ${bad}` })],
  ['tags[2]', (bad) => ({ tags: ['a', 'b', `c${bad}`] })],
  ['events[0]', (bad) => ({ events: [`flag.${bad}`] })],
  ['headers["X-Note"]', (bad) => ({ headers: { 'X-Note': `a${bad}b` } })],
  [`headers[${JSON.stringify(`X-${NUL}`)}]`, () => ({ headers: { [`X-${NUL}`]: 'v' } })],
  ['bodyTemplate', (bad) => ({ bodyTemplate: `{"a":"${bad}"}` })],
  ['contentType', (bad) => ({ contentType: `text/plain; x=${bad}` })],
  [
    'statements[0].resources[1]',
    (bad) => ({ statements: [{ effect: 'allow', actions: ['*'], resources: ['proj/*', `proj/${bad}`] }] }),
  ],
  ['secret', (bad) => ({ secret: `shh-${bad}-1234` })],
  ['tenant', (bad) => ({ tenant: `acme${bad}` })],
];

describe('a NUL or a lone surrogate in webhook configuration', () => {
  describe.each(STORES)('on %s', (_store, makeStore) => {
    it.each(FIELDS)('is refused in `%s`, naming the field, on create and update', async (field, input) => {
      const { dispatcher } = await setup(undefined, { store: await makeStore() });
      const saved = await dispatcher.webhooks.create({ url: URL });
      for (const bad of [NUL, LONE, '\udc00']) {
        const fields = input(bad);
        // The header-name case always holds a NUL, whatever `bad` is.
        const what =
          field.startsWith('headers[') && field !== 'headers["X-Note"]'
            ? 'NUL'
            : bad === NUL
              ? 'NUL'
              : 'lone surrogate';
        const expected = {
          code: 'ERR_INVALID_WEBHOOK',
          field,
          message: expect.stringMatching(
            new RegExp(
              `^Expected \`${literal(field)}\` to hold no NUL \\(U\\+0000\\) or lone surrogate \\(no store keeps them\\), got a string with a ${what}`,
            ),
          ),
        };
        const created = await dispatcher.webhooks.create({ url: URL, ...fields }).catch((e: unknown) => e);
        expect(created, JSON.stringify(fields)).toBeInstanceOf(WebhookValidationError);
        expect(created).toMatchObject(expected);
        if (field !== 'tenant') {
          await expect(dispatcher.webhooks.update(saved.id, fields)).rejects.toMatchObject(expected);
        }
      }
      expect(await dispatcher.webhooks.list()).toEqual([saved]);
    });
  });
});

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('the admin API on postgresStore', () => {
  it('answers 422 naming the field for a NUL or lone surrogate, never a 503 with Postgres text', async () => {
    const api = await startApi('node', {}, { store: await STORES[2]![1]() });
    for (const [body, field] of [
      [{ url: URL, name: `a${NUL}b` }, 'name'],
      [{ url: URL, tags: ['ok', `x${LONE}`] }, 'tags[1]'],
      [{ url: URL, headers: { 'X-Note': `a${NUL}` } }, 'headers["X-Note"]'],
    ] as const) {
      const response = await api.call('POST', '/webhooks', { as: 'token-acme', body });
      expect(response.status, response.text).toBe(422);
      expect(response.body.error).toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field });
      expect(response.text).not.toMatch(/invalid byte sequence|unsupported Unicode|0x00/i);
    }
    const saved = await api.call('POST', '/webhooks', { as: 'token-acme', body: { url: URL } });
    expect(saved.status).toBe(201);
    const patched = await api.call('PATCH', `/webhooks/${saved.body.id}`, {
      as: 'token-acme',
      body: [{ op: 'add', path: '/tags/-', value: `t${NUL}` }],
      type: 'application/json-patch+json',
    });
    expect(patched.status, patched.text).toBe(422);
    expect(patched.body.error).toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field: 'tags[0]' });
  });
});

describe('a NUL or a lone surrogate in an event', () => {
  it.each([
    ['type', { type: `flag.${NUL}updated` }],
    ['id', { id: `evt-${LONE}` }],
    ['_id', { _id: `abc${NUL}` }],
    ['type', { type: 'x\udfff' }],
  ])('is refused at emit in `event.%s`, naming the field', async (field, fields) => {
    const { dispatcher, receiver } = await setup();
    await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const error = await dispatcher.emit({ ...fields, data: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error).toMatchObject({
      code: 'ERR_INVALID_EVENT',
      message: expect.stringContaining(
        `emit: expected \`event.${field}\` to hold no NUL (U+0000) or lone surrogate`,
      ),
    });
    await expect(dispatcher.emit({ type: 'ok' }, { tenant: `acme${NUL}` })).rejects.toMatchObject({
      field: 'tenant',
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it('is sent faithfully in the event data: the receiver gets the exact JSON escapes', async () => {
    const { dispatcher, receiver } = await setup();
    await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const event = {
      type: 'note.added',
      id: 'evt-1',
      data: { text: `a${NUL}b${LONE}c\udc00d`, [`k${NUL}`]: 1 },
    };
    const [result] = await dispatcher.emit(event);
    expect(result).toMatchObject({ ok: true });
    expect(receiver.requests[0]!.body).toBe(JSON.stringify(event));
    expect(receiver.requests[0]!.body).toContain('"text":"a\\u0000b\\ud800c\\udc00d"');
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual(event);
  });
});

describe('what a receiver sends back, with NUL or invalid UTF-8, on every delivery log', () => {
  it('postgresDeliveryLog keeps an attempt holding NUL or lone surrogates (the contract case)', async () => {
    await expectUnstorableTextKept(postgresLog(`${await freshTable()}_log`));
  });

  it('postgresDeliveryLog refuses a cursor holding a NUL as a bad query, not with Postgres text', async () => {
    const log = postgresLog(`${await freshTable()}_log`);
    const cursor = Buffer.from(JSON.stringify([Date.now(), `d${NUL}`])).toString('base64url');
    await expect(log.list('w1', { cursor })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
  });

  describe.each(LOGS)('%s', (_log, makeLog) => {
    it('records the failed attempt (listed, marked) and recover() sends it again', async () => {
      let down = true;
      const { dispatcher, receiver } = await setup(
        (_request, _n, res) => {
          if (!down) return 204;
          res.statusCode = 500;
          // A NUL and bytes that are not UTF-8 (decoded as U+FFFD) in the body; the header through the transport.
          res.end(
            Buffer.concat([Buffer.from('boom\u0000 at '), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('!')]),
          );
          return 'handled';
        },
        {
          retry: 0,
          deliveryLog: await makeLog(),
          transport: echoingTransport({ 'x-debug': `trace${NUL}id` }),
        },
      );
      const hook = await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
      const since = Date.now() - 1000;
      const event = { type: 'note.added', id: 'evt-nul', data: { text: `a${NUL}b${LONE}` } };
      const [failed] = await dispatcher.emit(event);
      expect(failed).toMatchObject({ ok: false, error: { code: 'HTTP_STATUS' } });

      const page = await eventually(() => dispatcher.deliveries.list(hook.id, { status: 'failed' }));
      const [attempt] = page.items[0]!.attempts;
      expect(attempt!.response!.body).toBe('boom\ufffd at \ufffd\ufffd\ufffd!');
      expect(attempt!.response!.headers!['x-debug']).toBe('trace\ufffdid');
      expect(new Set(attempt!.altered)).toEqual(new Set(['response.body', 'response.headers']));
      expect(attempt!.request.body).toBe(JSON.stringify(event));

      down = false;
      await dispatcher.deliveries.recover(hook.id, { since });
      await receiver.waitFor(2);
      expect(receiver.requests[1]!.body).toBe(receiver.requests[0]!.body);
      expect(receiver.requests[1]!.body).toBe(JSON.stringify(event));
      const after = await eventually(async () => {
        const record = await dispatcher.deliveries.get(failed!.deliveryId);
        return record?.status === 'delivered' ? record : undefined;
      });
      expect(after.attempts.map((a) => a.ok)).toEqual([true, false]);
    });
  });
});

describe('an id holding a NUL in an admin API path, on Postgres', () => {
  it('answers 404 like the memory store, never a 503 or 500 with Postgres text', async () => {
    const table = await freshTable();
    const api = await startApi(
      'node',
      {},
      {
        store: postgresStore({ pool, table }),
        deliveryLog: postgresLog(`${table}_log`),
      },
    );
    for (const [method, path] of [
      ['GET', '/webhooks/a%00b'],
      ['PATCH', '/webhooks/a%00b'],
      ['DELETE', '/webhooks/a%00b'],
      ['POST', '/webhooks/a%00b/test'],
      ['GET', '/webhooks/a%00b/deliveries'],
      ['GET', '/deliveries/a%00b'],
      ['POST', '/deliveries/a%00b/redeliver'],
    ] as const) {
      const body = method === 'PATCH' ? { name: 'x' } : method === 'POST' ? {} : undefined;
      const response = await api.call(method, path, { as: 'token-acme', ...(body ? { body } : {}) });
      expect(response.status, `${method} ${path}: ${response.text}`).toBe(404);
      expect(response.text).not.toMatch(/UTF8|0x00|Internal/);
    }
  });
});

describe('the admin API on postgresDeliveryLog', () => {
  it('shows the attempt of a receiver that answered a NUL, with the field marked', async () => {
    const receiver = await startReceiver((_request, _n, res) => {
      res.statusCode = 500;
      res.end('bad\u0000answer');
      return 'handled';
    });
    open.push(receiver);
    const api = await startApi('node', {}, { deliveryLog: postgresLog(`${await freshTable()}_log`) });
    const created = await api.call('POST', '/webhooks', {
      as: 'token-acme',
      body: { url: receiver.url, events: ['*'] },
    });
    const [result] = await api.real.emit({ type: 'flag.updated', id: 'evt-api' }, { tenant: 'acme' });
    expect(result).toMatchObject({ ok: false, status: 500, webhookId: created.body.id });
    const shown = await eventually(async () => {
      const response = await api.call('GET', `/deliveries/${result!.deliveryId}`, { as: 'token-acme' });
      return response.status === 200 ? response : undefined;
    });
    expect(shown.body.attempts[0]).toMatchObject({
      altered: ['response.body'],
      response: { body: 'bad\ufffdanswer' },
    });
  });
});

describe('a transport error holding NUL or a lone surrogate', () => {
  it('reaches the result and the switch-off saved on postgresStore as U+FFFD', async () => {
    const errors: string[] = [];
    const { dispatcher } = await setup(undefined, {
      store: await STORES[2]![1](),
      retry: { retries: 1, delayMs: 20 },
      health: { failureThreshold: 1, probeDelayMs: 0, disableAfterMs: 1 },
      logger: { error: (message) => errors.push(message) },
      transport: {
        async send() {
          throw Object.assign(new Error(`peer said ${NUL}no${LONE}`), { code: `E_PEER${NUL}` });
        },
      },
    });
    const hook = await dispatcher.webhooks.create({ url: URL, events: ['*'] });
    const [result] = await dispatcher.emit({ type: 'flag.updated', id: 'evt-t' });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'E_PEER\ufffd', message: 'peer said \ufffdno\ufffd' },
    });
    // Before the fix Postgres refused the switch-off: the webhook stayed on.
    const saved = await eventually(async () => {
      const webhook = await dispatcher.webhooks.get(hook.id);
      return webhook?.on === false ? webhook : undefined;
    });
    expect(saved).toMatchObject({ on: false, disabled: { reason: 'failing' } });
    expect(saved!.disabled!.detail).toContain('peer said \ufffdno\ufffd');
    expect(errors).toEqual([]);
  });
});

describe('a delivery log that refuses a record', () => {
  it('gets the reduced record (response dropped, marked) and the delivery can still be sent again', async () => {
    const deliveriesTable = `${await freshTable()}_log`;
    // The host's own rule on its table: a real refusal by the database, for a reason the log cannot know.
    await pool.query(
      `ALTER TABLE ${deliveriesTable} ADD CONSTRAINT small_attempts CHECK (octet_length(attempts::text) < 8000)`,
    );
    let down = true;
    const { dispatcher, receiver } = await setup(
      (_request, _n, res) => {
        if (!down) return 200;
        res.statusCode = 503;
        res.end('x'.repeat(12_000));
        return 'handled';
      },
      { retry: 0, deliveryLog: postgresLog(deliveriesTable), logger: { error: (m) => errors.push(m) } },
    );
    const errors: string[] = [];
    const hook = await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const since = Date.now() - 1000;
    const [failed] = await dispatcher.emit({ type: 'flag.updated', id: 'evt-big' });
    expect(failed).toMatchObject({ ok: false, status: 503 });

    const page = await eventually(() => dispatcher.deliveries.list(hook.id, { status: 'failed' }));
    const [attempt] = page.items[0]!.attempts;
    expect(attempt).toMatchObject({ status: 503, error: { code: 'HTTP_STATUS' }, altered: ['response'] });
    expect(attempt!.response).toBeUndefined();
    expect(attempt!.request.body).toBe('{"type":"flag.updated","id":"evt-big"}');
    expect(errors).toEqual([expect.stringContaining('the delivery log refused an attempt')]);

    down = false;
    await dispatcher.deliveries.recover(hook.id, { since });
    await receiver.waitFor(2);
    expect(receiver.requests[1]!.body).toBe(receiver.requests[0]!.body);
  });
});

/** `httpTransport()` to the real receiver, with `headers` added to each response as a proxy in between could. */
function echoingTransport(headers: Record<string, string>) {
  const http = httpTransport({ allowPrivateNetworks: true });
  open.push({ close: async () => http.close?.() });
  return {
    async send(...args: Parameters<ReturnType<typeof httpTransport>['send']>) {
      const response = await http.send(...args);
      return { ...response, headers: { ...response.headers, ...headers } };
    },
  };
}

/** Polls `read` until it answers a page with items (or a value), for 10 s at most: log writes are not awaited. */
async function eventually<T>(read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    const empty = value === undefined || (value as { items?: unknown[] }).items?.length === 0;
    if (!empty) return value as T;
    if (Date.now() > deadline) throw new Error(`nothing after 10 s: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

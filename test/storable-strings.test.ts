import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../src/bullmq/index.js';
import {
  InvalidEventError,
  memoryStore,
  type WebhookInput,
  type WebhookStore,
  WebhookValidationError,
} from '../src/index.js';
import { migrate, postgresStore } from '../src/postgres/index.js';
import { startApi } from './helpers/api.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
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

/** A fresh store of each kind: its own Postgres table, its own Redis key. */
const STORES: [string, () => Promise<WebhookStore>][] = [
  ['memoryStore', async () => memoryStore()],
  ['redisStore', async () => redisStore({ client, key: `test:webhooks:${randomUUID()}` })],
  [
    'postgresStore',
    async () => {
      const table = `webhooks_${randomUUID().slice(0, 8)}`;
      await migrate(pool, { table, deliveriesTable: `${table}_log` });
      open.push({
        close: async () => {
          await pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}, ${table}_log`);
        },
      });
      return postgresStore({ pool, table });
    },
  ],
];

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

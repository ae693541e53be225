import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { type DeliveryAttempt, requestForLog } from '../src/extend.js';
import {
  type DeliveryLog,
  type DeliveryRecord,
  type DeliveryResult,
  generateStandardSecret,
  memoryDeliveryLog,
} from '../src/index.js';
import { MAX_SCANNED, truncateUtf8 } from '../src/log/delivery-log.js';
import { parseIsoTime } from '../src/log/iso-time.js';
import { attemptOf, deliveryLogContract, T0 } from './helpers/delivery-log-contract.js';
import { ldEvent } from './helpers/events.js';
import { setup } from './helpers/setup.js';

function attempt(webhookId: string, n: number): DeliveryAttempt {
  return {
    deliveryId: `d${n}`,
    webhookId,
    eventId: `e${n}`,
    attempt: 1,
    startedAt: new Date(n).toISOString(),
    durationMs: 1,
    ok: true,
    status: 200,
    request: { url: 'https://example.com/', headers: {} },
  };
}

/** Every attempt of a webhook's listed deliveries, newest delivery first, each delivery's attempts newest first. */
async function attemptsOf(dispatcher: { deliveries: { list: DeliveryLog['list'] } }, webhookId: string) {
  const page = await dispatcher.deliveries.list(webhookId, { limit: 1000 });
  return page.items.flatMap((d) => d.attempts);
}

const ids = (page: { items: DeliveryRecord[] }) => page.items.map((r) => r.deliveryId);

/** A logger that keeps every call, to search them for secrets. */
function recordingLogger() {
  const calls: { level: string; message: string; meta?: unknown }[] = [];
  const at =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>): void => {
      calls.push({ level, message, meta });
    };
  return { calls, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('dispatcher.deliveries.list', () => {
  it('returns the deliveries with every attempt, newest first, with time, duration, status or error and the request', async () => {
    const { receiver, dispatcher } = await setup((_req, n) => (n === 0 ? 500 : 201), {
      now: () => Date.UTC(2026, 0, 15, 12, 0, 0),
    });
    const hook = await dispatcher.webhooks.create({ url: `${receiver.url}/log`, secret: 'shh' });

    const [result] = await dispatcher.emit(ldEvent());
    const page = await dispatcher.deliveries.list(hook.id);

    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).toBeUndefined();
    const delivery = page.items[0] as DeliveryRecord;
    expect(delivery).toMatchObject({
      deliveryId: result!.deliveryId,
      webhookId: hook.id,
      eventId: result!.eventId,
      status: 'delivered',
      createdAt: '2026-01-15T12:00:00.000Z',
      updatedAt: '2026-01-15T12:00:00.000Z',
    });
    const [second, first] = delivery.attempts as [DeliveryAttempt, DeliveryAttempt];
    expect(delivery.attempts).toHaveLength(2);
    expect(second).toMatchObject({
      deliveryId: result!.deliveryId,
      webhookId: hook.id,
      eventId: result!.eventId,
      attempt: 2,
      ok: true,
      status: 201,
      startedAt: '2026-01-15T12:00:00.000Z',
    });
    expect(second.error).toBeUndefined();
    expect(first).toMatchObject({
      attempt: 1,
      ok: false,
      status: 500,
      error: { code: 'HTTP_STATUS', message: 'receiver answered 500' },
    });
    for (const a of delivery.attempts) {
      expect(a.durationMs).toBeGreaterThanOrEqual(0);
      expect(a.durationMs).toBeLessThan(5000);
      expect(a.request.url).toBe(`${receiver.url}/log`);
      expect(a.request.headers['content-type']).toBe('application/json');
      expect(a.request.headers['webhook-id']).toBe(result!.deliveryId);
      expect(a.response?.body).toBe('ok');
    }
  });

  it('records a network failure with its error code and no status', async () => {
    const { receiver, dispatcher } = await setup();
    const url = receiver.url;
    await receiver.close();
    const hook = await dispatcher.webhooks.create({ url });

    await dispatcher.emit(ldEvent());
    const page = await dispatcher.deliveries.list(hook.id);
    const attempts = await attemptsOf(dispatcher, hook.id);

    expect(page.items[0]?.status).toBe('failed');
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      expect(a).toMatchObject({ ok: false, error: { code: 'ECONNREFUSED' } });
      expect(a.status).toBeUndefined();
      expect(a.response).toBeUndefined();
    }
  });

  it('keeps the start of a large response body only', async () => {
    const { receiver, dispatcher } = await setup((_req, _n, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('e'.repeat(200_000));
      return 'handled';
    });
    const hook = await dispatcher.webhooks.create({ url: receiver.url });

    await dispatcher.emit(ldEvent());
    const [latest] = await attemptsOf(dispatcher, hook.id);

    expect(latest!.status).toBe(400);
    expect(latest!.response!.body!.length).toBe(16_384);
    expect(latest!.response!.body).toMatch(/^e+$/);
    expect(latest!.response!.headers?.['content-type']).toBe('text/plain');
  });

  it('orders the deliveries newest first and honours limit and the cursor', async () => {
    let t = Date.UTC(2026, 0, 15);
    const { receiver, dispatcher } = await setup(undefined, { now: () => (t += 1000) });
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    const events = [ldEvent(), ldEvent(), ldEvent()];
    for (const event of events) await dispatcher.emit(event);

    const page = await dispatcher.deliveries.list(hook.id);
    expect(page.items.map((d) => d.eventId)).toEqual(events.map((e) => e._id).reverse());
    const first = await dispatcher.deliveries.list(hook.id, { limit: 2 });
    expect(first.items.map((d) => d.eventId)).toEqual([events[2]!._id, events[1]!._id]);
    const rest = await dispatcher.deliveries.list(hook.id, { limit: 2, cursor: first.nextCursor });
    expect(rest.items.map((d) => d.eventId)).toEqual([events[0]!._id]);
    expect(rest.nextCursor).toBeUndefined();
  });

  it('keeps the deliveries of each webhook apart', async () => {
    const { receiver, dispatcher } = await setup();
    const a = await dispatcher.webhooks.create({ url: `${receiver.url}/a` });
    const b = await dispatcher.webhooks.create({ url: `${receiver.url}/b` });

    await dispatcher.emit(ldEvent());
    await dispatcher.emit(ldEvent());

    const listed = (await dispatcher.deliveries.list(a.id)).items;
    expect(listed.every((x) => x.webhookId === a.id && x.attempts.every((y) => y.webhookId === a.id))).toBe(
      true,
    );
    expect(listed).toHaveLength(2);
    expect((await dispatcher.deliveries.list(b.id)).items).toHaveLength(2);
    expect(await dispatcher.deliveries.list('unknown')).toEqual({ items: [] });
  });

  it('records nothing with deliveryLog: false', async () => {
    const { receiver, dispatcher } = await setup(() => 500, { deliveryLog: false });
    const hook = await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(await dispatcher.deliveries.list(hook.id)).toEqual({ items: [] });
  });
});

deliveryLogContract('memoryDeliveryLog', async (options) => {
  let t = T0;
  const log = memoryDeliveryLog({ ...options, now: () => t });
  return {
    log,
    advance: async (ms) => {
      t += ms;
    },
  };
});

describe('the log behind a dispatcher: failed deliveries across webhooks and tenants', () => {
  it('finds the failed deliveries of three webhooks in two tenants, tenant scoped, and figures that match the receiver', async () => {
    const log = memoryDeliveryLog();
    const { receiver, dispatcher } = await setup((req) => (req.url?.startsWith('/fail') ? 503 : 200), {
      deliveryLog: log,
      retry: { retries: 0 },
    });
    const since = Date.now();
    const acmeFail = await dispatcher.webhooks.create({ url: `${receiver.url}/fail-acme`, tenant: 'acme' });
    const acmeOk = await dispatcher.webhooks.create({ url: `${receiver.url}/ok-acme`, tenant: 'acme' });
    const globexFail = await dispatcher.webhooks.create({
      url: `${receiver.url}/fail-globex`,
      tenant: 'globex',
    });
    for (let i = 0; i < 3; i++) {
      await dispatcher.emit(ldEvent('production', { _id: `acme-${i}` }), { tenant: 'acme' });
      await dispatcher.emit(ldEvent('production', { _id: `globex-${i}` }), { tenant: 'globex' });
    }
    await receiver.waitFor(9);
    await expect.poll(async () => (await log.search({ since })).items.length).toBe(9);

    const acme = await log.findFailed({ since, tenant: 'acme' });
    expect(acme.items).toHaveLength(3);
    expect(acme.items.every((r) => r.webhookId === acmeFail.id && r.tenant === 'acme')).toBe(true);
    const everyFailed = await log.findFailed({ since });
    expect(new Set(everyFailed.items.map((r) => r.webhookId))).toEqual(new Set([acmeFail.id, globexFail.id]));
    expect((await log.search({ tenant: 'globex' })).items.every((r) => r.tenant === 'globex')).toBe(true);

    const seen = (path: string) => receiver.requests.filter((r) => r.url === path).length;
    expect(await log.webhookStats(acmeOk.id)).toMatchObject({
      delivered: seen('/ok-acme'),
      failed: 0,
      successRate: 1,
    });
    const failing = await log.webhookStats(globexFail.id, { since });
    expect(failing).toMatchObject({
      delivered: 0,
      failed: seen('/fail-globex'),
      successRate: 0,
      lastDeliveredAt: null,
    });
    expect(failing.p50Ms).toBeGreaterThan(0);
  });
});

describe('memoryDeliveryLog', () => {
  it('bounds a filtered read: a short page with a cursor after MAX_SCANNED skipped deliveries, then the rest', async () => {
    const log = memoryDeliveryLog({ perWebhook: 20_000 });
    await log.record(attemptOf('w1', 'failed-oldest', T0, { ok: false, status: 500 }));
    for (let i = 0; i < MAX_SCANNED + 10; i++) await log.record(attemptOf(`w${i % 7}`, `ok${i}`, T0 + 1 + i));
    const first = await log.search({ status: 'failed' });
    expect(first.items).toEqual([]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await log.search({ status: 'failed', cursor: first.nextCursor });
    expect(second.items.map((r) => r.deliveryId)).toEqual(['failed-oldest']);
    expect(second.nextCursor).toBeUndefined();
    const refs = await log.findFailed({ since: T0 });
    expect(refs).toEqual({ items: [], nextCursor: expect.any(String) });
    const rest = await log.findFailed({ since: T0, cursor: refs.nextCursor });
    expect(rest.items.map((r) => r.deliveryId)).toEqual(['failed-oldest']);
  });

  it('drops the history of the least recently written webhook beyond maxWebhooks', async () => {
    const log = memoryDeliveryLog({ perWebhook: 2, maxWebhooks: 2 });
    await log.record(attempt('a', 1));
    await log.record(attempt('b', 2));
    await log.record(attempt('a', 3));
    await log.record(attempt('c', 4));

    expect(await log.list('b')).toEqual({ items: [] });
    expect(await log.get('d2')).toBeUndefined();
    expect((await log.list('a')).items.map((x) => x.eventId)).toEqual(['e3', 'e1']);
    expect((await log.list('c')).items.map((x) => x.eventId)).toEqual(['e4']);
    expect(log.stats()).toMatchObject({ deliveries: 3, attempts: 3, webhooks: 2 });
  });

  it('keeps the newest perDelivery attempts of a delivery', async () => {
    const log = memoryDeliveryLog({ perDelivery: 3 });
    for (let n = 1; n <= 5; n++) await log.record({ ...attempt('w', 1), attempt: n });
    expect((await log.get('d1'))!.attempts.map((a) => a.attempt)).toEqual([5, 4, 3]);
    expect(log.stats()).toMatchObject({ deliveries: 1, attempts: 3 });
  });

  it('counts a body that every attempt of a delivery shares once', async () => {
    const log = memoryDeliveryLog({ perDelivery: 2 });
    const body = 'b'.repeat(100_000);
    const one = { ...attemptOf('w', 'd', 0), request: { url: 'u', headers: {}, body } };
    await log.record(one);
    const single = log.stats().bytes;
    expect(single).toBeGreaterThan(200_000); // two bytes per character
    for (let n = 2; n <= 4; n++)
      await log.record({ ...one, attempt: n, request: { ...one.request, body: body.slice() } });
    expect(log.stats().bytes).toBeLessThan(single + 10_000);
    // A different body is counted as well.
    await log.record({ ...one, attempt: 5, request: { ...one.request, body: 'c'.repeat(100_000) } });
    expect(log.stats().bytes).toBeGreaterThan(single + 200_000);
    const record = (await log.get('d'))!;
    expect(record.attempts.map((a) => a.request.body?.[0])).toEqual(['c', 'b']);
  });

  it('bounds its memory in bytes: 20,000 attempts with 16 KiB bodies (the old 1 GB blowup)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const maxBytes = 8 * 1024 * 1024;
    const log = memoryDeliveryLog({ maxBytes });
    let peak = 0;
    // 200 webhooks x 100 deliveries: all within perWebhook and maxWebhooks, so only the byte bound holds them.
    for (let n = 0; n < 20_000; n++) {
      const page = Buffer.alloc(16_384, 97 + (n % 26)).toString('latin1'); // a fresh 16 KiB error page each time
      await log.record(
        attemptOf(`w${n % 200}`, `d${n}`, n, {
          ok: false,
          status: 500,
          error: { code: 'HTTP_STATUS', message: 'receiver answered 500' },
          response: { headers: { 'content-type': 'text/html' }, body: page },
          request: {
            url: 'https://example.com/',
            headers: { 'content-type': 'application/json' },
            body: page,
          },
        }),
      );
      peak = Math.max(peak, log.stats().bytes);
    }
    const stats = log.stats();
    expect(peak).toBeLessThanOrEqual(maxBytes);
    expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
    // Two 16 KiB strings at two bytes per character: about 64 KiB each, so about 128 deliveries fit.
    expect(stats.deliveries).toBeGreaterThan(100);
    expect(stats.deliveries).toBeLessThan(140);
    expect(stats.attempts).toBe(stats.deliveries);
    // The newest are kept; the oldest are gone.
    expect(await log.get('d19999')).toBeDefined();
    expect(await log.get('d0')).toBeUndefined();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // 20,000 x 2 x 16 KiB went through it (640 MiB); what stays is bounded by maxBytes (strings are one byte
    // per character here, so the real size is about half the estimate). Generous: 4 x maxBytes.
    expect(grown).toBeLessThan(4 * maxBytes);
    expect(log).toBeDefined(); // keeps the log alive until the heap was measured
  });

  it('drops the least recently written deliveries first, also after many rewrites', async () => {
    const log = memoryDeliveryLog({ perDelivery: 1 });
    for (const id of ['a', 'b', 'c']) await log.record(attemptOf('w', id, 0));
    // Thousands of rewrites of a and c (the write order is compacted along the way): b is the oldest written.
    for (let n = 0; n < 3000; n++) await log.record({ ...attemptOf('w', n % 2 ? 'a' : 'c', 0), attempt: n });
    const sized = memoryDeliveryLog({ perDelivery: 1, maxBytes: 3 * 4000 });
    for (const id of ['a', 'b', 'c'])
      await sized.record(attemptOf('w', id, 0, { response: { body: 'x'.repeat(1000) } }));
    for (let n = 0; n < 3000; n++) {
      await sized.record({
        ...attemptOf('w', n % 2 ? 'a' : 'c', 0, { response: { body: 'x'.repeat(1000) } }),
        attempt: n,
      });
    }
    expect(sized.stats().deliveries).toBe(3);
    await sized.record(attemptOf('w', 'd', 1, { response: { body: 'x'.repeat(1000) } }));
    expect(await sized.get('b')).toBeUndefined();
    expect(ids(await sized.list('w'))).toEqual(['d', 'c', 'a']);
    expect(log.stats()).toMatchObject({ deliveries: 3, attempts: 3 });
  });

  it('drops a delivery bigger than maxBytes on its own rather than exceed the bound', async () => {
    const log = memoryDeliveryLog({ maxBytes: 10_000 });
    await log.record(attemptOf('w', 'small', 0));
    await log.record({ ...attemptOf('w', 'huge', 1), response: { body: 'x'.repeat(20_000) } });
    expect(await log.get('huge')).toBeUndefined();
    expect(log.stats().bytes).toBeLessThanOrEqual(10_000);
  });

  it('keeps at the defaults: 32 MiB, 7 days, 100 per webhook, 10,000 webhooks', async () => {
    let t = 0;
    const log = memoryDeliveryLog({ now: () => t });
    for (let n = 0; n < 150; n++) await log.record(attemptOf('w', `d${n}`, n));
    expect(log.stats().deliveries).toBe(100);
    t = 7 * 86_400_000 - 1;
    expect(await log.get('d149')).toBeDefined();
    t = 7 * 86_400_000;
    expect(await log.get('d149')).toBeUndefined();
    await log.record(attemptOf('w', 'fresh', t));
    expect(log.stats()).toMatchObject({ deliveries: 1, attempts: 1, webhooks: 1 });
  });

  it('stores only the known fields of an attempt, as strings, whatever it was given', async () => {
    const log = memoryDeliveryLog();
    const hostile = {
      ...attemptOf('w', 'd', 0),
      extra: 'x'.repeat(1000),
      request: { url: 'u', headers: { a: 1, b: { big: 'x'.repeat(1000) }, c: ['1', 2] }, body: 42 },
      error: { code: 'HTTP_STATUS', message: 'm'.repeat(100_000) },
    } as unknown as DeliveryAttempt;
    await log.record(hostile);
    const [stored] = (await log.get('d'))!.attempts;
    expect(stored).not.toHaveProperty('extra');
    expect(stored!.request).toEqual({ url: 'u', headers: { a: '1', c: ['1', '2'] }, body: '42' });
    expect(stored!.error!.message).toHaveLength(4096);
    expect(() => log.record({ ...attemptOf('w', 'd', 0), deliveryId: '' })).toThrow(/`attempt.deliveryId`/);
    expect(() => log.record(null as never)).toThrow(/`attempt`/);
  });

  it('refuses bad options naming the field', () => {
    expect(() => memoryDeliveryLog({ perWebhook: 0 })).toThrow(/`perWebhook`/);
    expect(() => memoryDeliveryLog({ maxWebhooks: 1.5 })).toThrow(/`maxWebhooks`/);
    expect(() => memoryDeliveryLog({ perDelivery: -1 })).toThrow(/`perDelivery`/);
    expect(() => memoryDeliveryLog({ maxBytes: 0 })).toThrow(/`maxBytes` to be a positive number/);
    expect(() => memoryDeliveryLog({ maxAgeMs: Number.NaN })).toThrow(/`maxAgeMs`/);
    expect(() => memoryDeliveryLog({ now: 5 as never })).toThrow(/`now` to be a function/);
    // Retention beyond the longest timer is fine: no timer runs.
    expect(() => memoryDeliveryLog({ maxAgeMs: 90 * 86_400_000 })).not.toThrow();
  });

  it('keeps the newest N deliveries per webhook when used by the dispatcher', async () => {
    let t = Date.UTC(2026, 0, 15);
    const { receiver, dispatcher } = await setup(undefined, {
      deliveryLog: memoryDeliveryLog({ perWebhook: 4, now: () => t }),
      now: () => (t += 10),
    });
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    const events = Array.from({ length: 10 }, () => ldEvent());
    for (const event of events) await dispatcher.emit(event);

    const kept = (await dispatcher.deliveries.list(hook.id)).items;

    expect(kept.map((d) => d.eventId)).toEqual(
      events
        .slice(-4)
        .map((e) => e._id)
        .reverse(),
    );
  });
});

describe('requestForLog', () => {
  const headers = { authorization: 'Bearer tok_live_9f8e7d6c5b4a', 'content-type': 'application/json' };

  it('redacts headers, masks the secret and credentials in the body, and bounds it', () => {
    const secret = 'whsec_0123456789abcdef';
    const body = `{"note":"${secret} tok_live_9f8e7d6c5b4a","x":"ü"}`;
    const logged = requestForLog({ url: 'https://e.com/', headers, body }, { secret });
    expect(logged).toEqual({
      url: 'https://e.com/',
      headers: { authorization: '[redacted]', 'content-type': 'application/json' },
      body: '{"note":"[redacted] [redacted]","x":"ü"}',
    });
    const cut = requestForLog({ url: 'u', headers, body: 'aü€😀b' }, { maxBodyBytes: 8 });
    expect(cut).toMatchObject({ body: 'aü€', bodyTruncated: true }); // 1 + 2 + 3 bytes; the emoji would pass 8
    expect(requestForLog({ url: 'u', headers, body: 'abc' }, { maxBodyBytes: 3 })).not.toHaveProperty(
      'bodyTruncated',
    );
    expect(requestForLog({ url: 'u', headers })).not.toHaveProperty('body');
  });

  it('reads ISO times as Date.parse does', () => {
    for (const text of [
      '2026-01-15T12:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
      '2026-12-31T23:59:59.999Z',
      '2024-02-29T10:20:30.456Z',
      '2026-13-01T00:00:00.000Z',
      '2026-02-30T00:00:00.000Z',
      '2026-01-15T12:00:00Z',
      '2026-01-15T12:00:00.000+02:00',
      'Thu, 15 Jan 2026 12:00:00 GMT',
      'x026-01-15T12:00:00.000Z',
      'nonsense',
    ]) {
      expect(parseIsoTime(text), text).toEqual(Date.parse(text));
    }
  });

  it('cuts UTF-8 on a character boundary', () => {
    expect(truncateUtf8('😀😀', 7)).toEqual({ text: '😀', truncated: true });
    expect(truncateUtf8('😀😀', 8)).toEqual({ text: '😀😀', truncated: false });
    expect(truncateUtf8('abc', 0)).toEqual({ text: '', truncated: true });
  });
});

describe('a custom DeliveryLog', () => {
  it('receives every attempt and answers deliveries.list', async () => {
    const recorded: DeliveryAttempt[] = [];
    const custom: DeliveryLog = {
      record(a) {
        recorded.push(a);
      },
      async list(webhookId) {
        const own = recorded.filter((a) => a.webhookId === webhookId).reverse();
        return {
          items: own.map((a) => ({
            deliveryId: a.deliveryId,
            webhookId,
            eventId: a.eventId,
            status: a.ok ? 'delivered' : 'failed',
            createdAt: a.startedAt,
            updatedAt: a.startedAt,
            attempts: [a],
          })),
        };
      },
      async get() {
        return undefined;
      },
    };
    const { receiver, dispatcher } = await setup((req) => (req.url === '/fail' ? 503 : 200), {
      deliveryLog: custom,
    });
    const ok = await dispatcher.webhooks.create({ url: `${receiver.url}/ok` });
    const fail = await dispatcher.webhooks.create({ url: `${receiver.url}/fail` });

    for (let i = 0; i < 3; i++) await dispatcher.emit(ldEvent());

    // 3 x 1 attempt + 3 x 2 attempts, as the receiver saw them.
    expect(recorded).toHaveLength(9);
    expect(receiver.requests).toHaveLength(9);
    expect(recorded.filter((a) => a.webhookId === ok.id)).toHaveLength(3);
    expect(recorded.filter((a) => a.webhookId === fail.id).map((a) => a.attempt)).toEqual([1, 2, 1, 2, 1, 2]);
    expect((await dispatcher.deliveries.list(fail.id)).items).toHaveLength(6);
  });

  it('does not break delivery when it throws, and the failure is logged', async () => {
    const { logger, calls } = recordingLogger();
    const throwing: DeliveryLog = {
      record() {
        throw new Error('disk full');
      },
      async list() {
        return { items: [] };
      },
      async get() {
        return undefined;
      },
    };
    const { receiver, dispatcher } = await setup(undefined, { deliveryLog: throwing, logger });
    await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, attempts: 1 });
    expect(calls.filter((c) => c.level === 'error' && /delivery log/.test(c.message))).toHaveLength(1);
    expect(JSON.stringify(calls)).toContain('disk full');
  });

  it('does not break delivery when it rejects asynchronously', async () => {
    const { logger, calls } = recordingLogger();
    const rejecting: DeliveryLog = {
      record: () => Promise.reject(new Error('db down')),
      async list() {
        return { items: [] };
      },
      async get() {
        return undefined;
      },
    };
    const { receiver, dispatcher } = await setup(() => 500, { deliveryLog: rejecting, logger });
    await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());
    await new Promise((resolve) => setImmediate(resolve));

    expect(result).toMatchObject({ ok: false, attempts: 2, error: { code: 'HTTP_STATUS' } });
    expect(calls.filter((c) => c.level === 'error' && /delivery log/.test(c.message))).toHaveLength(2);
  });
});

describe('secrets stay out of logs, results and errors', () => {
  const LD_SECRET = 'ld-secret-0123456789abcdef';
  const STANDARD_SECRET = generateStandardSecret();
  const BEARER = 'Bearer tok_live_9f8e7d6c5b4a';
  const API_KEY = 'key-abcdef-123456';

  it('never records the webhook secret, Authorization or other credential header values', async () => {
    const { logger, calls } = recordingLogger();
    const results: DeliveryResult[] = [];
    const thrown: unknown[] = [];
    const { receiver, dispatcher } = await setup(
      (req, n, res) => {
        if (req.url.startsWith('/echo')) {
          const own = req.url === '/echo-ld' ? LD_SECRET : STANDARD_SECRET;
          // A receiver that echoes the request headers back, and one that knows the shared secret and prints it
          // (a debug page): the log keeps response bodies.
          res.writeHead(n % 2 === 0 ? 500 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ headers: req.headers, debug: `secret: ${own}` }));
          return 'handled';
        }
        if (req.url === '/redirect') {
          res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end();
          return 'handled';
        }
        return 'handled'; // hangs: a timeout
      },
      { logger, onDelivery: (r) => results.push(r), timeoutMs: 150 },
    );
    const headers = { Authorization: BEARER, 'X-Api-Key': API_KEY };
    const hooks = [
      await dispatcher.webhooks.create({ url: `${receiver.url}/echo-ld`, secret: LD_SECRET, headers }),
      await dispatcher.webhooks.create({
        url: `${receiver.url}/echo-std`,
        secret: STANDARD_SECRET,
        signatureScheme: 'both',
        headers,
      }),
      await dispatcher.webhooks.create({ url: `${receiver.url}/redirect`, secret: LD_SECRET, headers }),
      await dispatcher.webhooks.create({ url: `${receiver.url}/hang`, secret: LD_SECRET, headers }),
      await dispatcher.webhooks.create({ url: 'http://127.0.0.1:1/refused', secret: LD_SECRET, headers }),
    ];

    const emitted = await dispatcher.emit(ldEvent());
    const tested = await dispatcher.test(hooks[0]!.id);
    // Configuration errors that involve the secret or the credential headers.
    for (const bad of [
      { url: receiver.url, secret: LD_SECRET, signatureScheme: 'standard' as const },
      { url: receiver.url, headers: { Authorization: `${BEARER}\r\nX-Injected: 1` } },
      { url: receiver.url, headers: { Authorization: `${BEARER}\u0007` } },
      { url: receiver.url, headers: { Authorization: `${BEARER}\u20ac` } },
      { url: 'ftp://x', secret: LD_SECRET, headers },
    ]) {
      await dispatcher.webhooks.create(bad).catch((e: unknown) => thrown.push(e));
    }

    expect(thrown).toHaveLength(5);
    expect(receiver.requests.length).toBeGreaterThan(0);
    // The receiver did get the credentials: the test would be vacuous otherwise.
    expect(receiver.requests[0]!.headers.authorization).toBe(BEARER);
    const logged = await Promise.all(hooks.map((h) => attemptsOf(dispatcher, h.id)));
    expect(logged.flat().length).toBeGreaterThanOrEqual(9);

    const haystacks = {
      deliveryLog: JSON.stringify(logged),
      results: JSON.stringify([emitted, tested, results]),
      logger: JSON.stringify(calls),
      errors: JSON.stringify(thrown.map((e) => ({ message: (e as Error).message, ...(e as object) }))),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of [LD_SECRET, STANDARD_SECRET, BEARER, 'tok_live_9f8e7d6c5b4a', API_KEY]) {
        expect(text.includes(secret), `${where} contains ${secret}`).toBe(false);
      }
    }
    // Redacted, not dropped: the log still says which headers were sent.
    const sent = logged[1]![0]!.request.headers;
    expect(sent.Authorization).toBe('[redacted]');
    expect(sent['X-Api-Key']).toBe('[redacted]');
    expect(sent['x-ld-signature']).toBe('[redacted]');
    expect(sent['webhook-signature']).toBe('[redacted]');
    expect(sent['webhook-timestamp']).toMatch(/^\d+$/);
  });

  it('masks credentials a receiver echoes in response headers, keeping the header names', async () => {
    const { receiver, dispatcher } = await setup((req, _n, res) => {
      res.writeHead(401, {
        authorization: String(req.headers.authorization),
        'x-api-key': String(req.headers['x-api-key']),
        'set-cookie': [`session=${API_KEY}`, 'theme=dark'],
        'x-echo': `you sent ${req.headers.authorization} signed ${req.headers['x-ld-signature']}`,
        'x-debug': `secret is ${LD_SECRET}`,
        'www-authenticate': 'Bearer realm="hooks"',
      });
      res.end();
      return 'handled';
    });
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/echo-headers`,
      secret: LD_SECRET,
      headers: { Authorization: BEARER, 'X-Api-Key': API_KEY },
    });

    await dispatcher.emit(ldEvent());

    const [attempt] = await attemptsOf(dispatcher, hook.id);
    expect(receiver.requests[0]!.headers.authorization).toBe(BEARER);
    const text = JSON.stringify(attempt);
    for (const secret of [LD_SECRET, BEARER, 'tok_live_9f8e7d6c5b4a', API_KEY]) {
      expect(text.includes(secret), secret).toBe(false);
    }
    expect(attempt!.response?.headers).toMatchObject({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      'set-cookie': '[redacted]',
      'x-echo': 'you sent [redacted] signed [redacted]',
      'x-debug': 'secret is [redacted]',
      'www-authenticate': 'Bearer realm="hooks"',
    });
  });
});

import { describe, expect, it } from 'vitest';
import {
  type DeliveryAttempt,
  type DeliveryLog,
  type DeliveryResult,
  generateStandardSecret,
  memoryDeliveryLog,
} from '../src/index.js';
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
  it('returns every attempt, newest first, with time, duration, status or error and the request', async () => {
    const { receiver, dispatcher } = await setup((_req, n) => (n === 0 ? 500 : 201), {
      now: () => Date.UTC(2026, 0, 15, 12, 0, 0),
    });
    const hook = await dispatcher.webhooks.create({ url: `${receiver.url}/log`, secret: 'shh' });

    const [result] = await dispatcher.emit(ldEvent());
    const attempts = await dispatcher.deliveries.list(hook.id);

    expect(attempts).toHaveLength(2);
    const [second, first] = attempts as [DeliveryAttempt, DeliveryAttempt];
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
    for (const a of attempts) {
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
    const attempts = await dispatcher.deliveries.list(hook.id);

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
    const [latest] = await dispatcher.deliveries.list(hook.id);

    expect(latest!.status).toBe(400);
    expect(latest!.response!.body!.length).toBe(16_384);
    expect(latest!.response!.body).toMatch(/^e+$/);
    expect(latest!.response!.headers?.['content-type']).toBe('text/plain');
  });

  it('orders the attempts of several deliveries newest first and honours limit', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    const events = [ldEvent(), ldEvent(), ldEvent()];
    for (const event of events) await dispatcher.emit(event);

    const attempts = await dispatcher.deliveries.list(hook.id);

    expect(attempts.map((a) => a.eventId)).toEqual(events.map((e) => e._id).reverse());
    expect((await dispatcher.deliveries.list(hook.id, { limit: 2 })).map((a) => a.eventId)).toEqual([
      events[2]!._id,
      events[1]!._id,
    ]);
  });

  it('keeps the attempts of each webhook apart', async () => {
    const { receiver, dispatcher } = await setup();
    const a = await dispatcher.webhooks.create({ url: `${receiver.url}/a` });
    const b = await dispatcher.webhooks.create({ url: `${receiver.url}/b` });

    await dispatcher.emit(ldEvent());
    await dispatcher.emit(ldEvent());

    expect((await dispatcher.deliveries.list(a.id)).every((x) => x.webhookId === a.id)).toBe(true);
    expect(await dispatcher.deliveries.list(a.id)).toHaveLength(2);
    expect(await dispatcher.deliveries.list(b.id)).toHaveLength(2);
    expect(await dispatcher.deliveries.list('unknown')).toEqual([]);
  });

  it('records nothing with deliveryLog: false', async () => {
    const { receiver, dispatcher } = await setup(() => 500, { deliveryLog: false });
    const hook = await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(await dispatcher.deliveries.list(hook.id)).toEqual({ items: [] });
  });
});

describe('memoryDeliveryLog', () => {
  it('keeps the newest perWebhook attempts of each webhook (a ring buffer)', async () => {
    const log = memoryDeliveryLog({ perWebhook: 3 });
    for (let n = 1; n <= 7; n++) await log.record(attempt('w', n));
    await log.record(attempt('other', 100));

    expect((await log.list('w')).map((a) => a.eventId)).toEqual(['e7', 'e6', 'e5']);
    expect((await log.list('w', { limit: 1 })).map((a) => a.eventId)).toEqual(['e7']);
    expect((await log.list('other')).map((a) => a.eventId)).toEqual(['e100']);
  });

  it('lists in order before the ring is full', async () => {
    const log = memoryDeliveryLog({ perWebhook: 5 });
    for (let n = 1; n <= 2; n++) await log.record(attempt('w', n));
    expect((await log.list('w')).map((a) => a.eventId)).toEqual(['e2', 'e1']);
  });

  it('drops the history of the least recently written webhook beyond maxWebhooks', async () => {
    const log = memoryDeliveryLog({ perWebhook: 2, maxWebhooks: 2 });
    await log.record(attempt('a', 1));
    await log.record(attempt('b', 2));
    await log.record(attempt('a', 3));
    await log.record(attempt('c', 4));

    expect(await log.list('b')).toEqual([]);
    expect((await log.list('a')).map((x) => x.eventId)).toEqual(['e3', 'e1']);
    expect((await log.list('c')).map((x) => x.eventId)).toEqual(['e4']);
  });

  it('refuses sizes that are not positive integers', () => {
    expect(() => memoryDeliveryLog({ perWebhook: 0 })).toThrow(/perWebhook/);
    expect(() => memoryDeliveryLog({ maxWebhooks: 1.5 })).toThrow(/maxWebhooks/);
  });

  it('keeps the newest N per webhook when used by the dispatcher', async () => {
    const { receiver, dispatcher } = await setup(undefined, {
      deliveryLog: memoryDeliveryLog({ perWebhook: 4 }),
    });
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    const events = Array.from({ length: 10 }, () => ldEvent());
    for (const event of events) await dispatcher.emit(event);

    const kept = await dispatcher.deliveries.list(hook.id);

    expect(kept.map((a) => a.eventId)).toEqual(
      events
        .slice(-4)
        .map((e) => e._id)
        .reverse(),
    );
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
        return recorded.filter((a) => a.webhookId === webhookId).reverse();
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
    expect(await dispatcher.deliveries.list(fail.id)).toHaveLength(6);
  });

  it('does not break delivery when it throws, and the failure is logged', async () => {
    const { logger, calls } = recordingLogger();
    const throwing: DeliveryLog = {
      record() {
        throw new Error('disk full');
      },
      async list() {
        return [];
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
        return [];
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
    const logged = await Promise.all(hooks.map((h) => dispatcher.deliveries.list(h.id)));
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
});

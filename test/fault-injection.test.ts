import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  createWebhookDispatcher,
  type DeliveryResult,
  httpTransport,
  type RetryOptions,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  WebhookError,
} from '../src/index.js';
import { ldEvent } from './helpers/events.js';
import { open } from './helpers/setup.js';

// ---------------------------------------------------------------------------------------------------------------
// Misbehaving receivers, all real servers on 127.0.0.1.

interface FaultyReceiver {
  url: string;
  /** Requests (or, for raw TCP, connections that sent something): one per attempt. */
  hits: number;
  /** Arrival time of each request, performance.now(). */
  times: number[];
  /** Response bodies the server stopped writing because the client went away, with the bytes it had written. */
  cutShort: number[];
  /** Runs `fn` after `ms` unless the receiver is closed first. */
  later(ms: number, fn: () => void): void;
  close(): Promise<void>;
}

type Behaviour = (req: IncomingMessage, res: ServerResponse, receiver: FaultyReceiver) => void;

async function httpReceiver(behaviour: Behaviour): Promise<FaultyReceiver> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const receiver: FaultyReceiver = {
    url: '',
    hits: 0,
    times: [],
    cutShort: [],
    later(ms, fn) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    },
    close: async () => {},
  };
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      receiver.hits++;
      receiver.times.push(performance.now());
      behaviour(req, res, receiver);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  receiver.close = async () => {
    for (const timer of timers) clearTimeout(timer);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  open.push(receiver);
  return receiver;
}

const status =
  (code: number, headers: Record<string, string> = {}): Behaviour =>
  (_req, res) => {
    res.writeHead(code, headers).end(`status ${code}`);
  };

const HUGE = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Streams a 50 MB body, honouring backpressure, and notes how much was written if the client hangs up. */
const hugeBody: Behaviour = (_req, res, receiver) => {
  let written = 0;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(HUGE) });
  res.on('close', () => {
    if (written < HUGE) receiver.cutShort.push(written);
  });
  const pump = () => {
    while (written < HUGE && !res.destroyed) {
      written += CHUNK.length;
      if (!res.write(CHUNK)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
};

/** A TCP server that answers whatever it is sent with something that is not HTTP at all. */
async function garbageReceiver(): Promise<FaultyReceiver> {
  const sockets = new Set<Socket>();
  const receiver: FaultyReceiver = {
    url: '',
    hits: 0,
    times: [],
    cutShort: [],
    later: () => {},
    close: async () => {},
  };
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => {
      receiver.hits++;
      receiver.times.push(performance.now());
      socket.end('SSH-2.0-OpenSSH_9.6 \u0000\u00ff\u00fe garbage\r\n\r\n');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  receiver.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  open.push(receiver);
  return receiver;
}

function dispatcherWith(options: WebhookDispatcherOptions = {}): WebhookDispatcher {
  const dispatcher = createWebhookDispatcher({
    allowPrivateNetworks: true,
    retry: { retries: 1, delayMs: 0, jitter: 0 },
    ...options,
  });
  open.push(dispatcher);
  return dispatcher;
}

// ---------------------------------------------------------------------------------------------------------------

interface Case {
  name: string;
  behaviour: Behaviour | 'garbage';
  ok: boolean;
  attempts: number;
  code?: string;
  status?: number;
}

const TIMEOUT_MS = 1500;

describe('N events x M misbehaving receivers', () => {
  it('gives exactly one outcome per (event, webhook), each matching what the receiver saw', async () => {
    const redirectTarget = await httpReceiver(status(200));
    const redirect =
      (code: number): Behaviour =>
      (_req, res) => {
        res.writeHead(code, { location: redirectTarget.url }).end();
      };
    const cases: Case[] = [
      { name: 'ok', behaviour: status(200), ok: true, attempts: 1, status: 200 },
      { name: '204', behaviour: status(204), ok: true, attempts: 1, status: 204 },
      { name: '500', behaviour: status(500), ok: false, attempts: 2, code: 'HTTP_STATUS', status: 500 },
      { name: '400', behaviour: status(400), ok: false, attempts: 2, code: 'HTTP_STATUS', status: 400 },
      { name: '410', behaviour: status(410), ok: false, attempts: 1, code: 'HTTP_STATUS', status: 410 },
      {
        name: '429 + Retry-After',
        behaviour: status(429, { 'retry-after': '3600' }),
        ok: false,
        attempts: 2,
        code: 'HTTP_STATUS',
        status: 429,
      },
      {
        name: 'reset',
        behaviour: (_req, res) => res.socket?.destroy(),
        ok: false,
        attempts: 2,
        code: 'ECONNRESET',
      },
      { name: 'hang', behaviour: () => {}, ok: false, attempts: 2, code: 'TIMEOUT' },
      {
        name: 'slow, within timeout',
        behaviour: (_req, res, r) => r.later(50, () => res.end('late but fine')),
        ok: true,
        attempts: 1,
        status: 200,
      },
      {
        name: 'slow, beyond timeout',
        behaviour: (_req, res, r) => r.later(TIMEOUT_MS * 3, () => res.end('too late')),
        ok: false,
        attempts: 2,
        code: 'TIMEOUT',
      },
      {
        name: 'headers, then a body that stalls',
        behaviour: (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('a');
        },
        ok: false,
        attempts: 2,
        code: 'TIMEOUT',
      },
      {
        name: 'closes after the headers',
        behaviour: (_req, res, r) => {
          res.writeHead(200, { 'content-length': '1000' });
          res.write('partial');
          r.later(5, () => res.socket?.destroy());
        },
        ok: true,
        attempts: 1,
        status: 200,
      },
      {
        name: '500, closes after the headers',
        behaviour: (_req, res, r) => {
          res.writeHead(500, { 'content-length': '1000' });
          res.write('partial');
          r.later(5, () => res.socket?.destroy());
        },
        ok: false,
        attempts: 2,
        code: 'HTTP_STATUS',
        status: 500,
      },
      { name: '301', behaviour: redirect(301), ok: false, attempts: 2, code: 'REDIRECT', status: 301 },
      { name: '302', behaviour: redirect(302), ok: false, attempts: 2, code: 'REDIRECT', status: 302 },
      { name: '307', behaviour: redirect(307), ok: false, attempts: 2, code: 'REDIRECT', status: 307 },
      { name: '50 MB body', behaviour: hugeBody, ok: true, attempts: 1, status: 200 },
      { name: 'not HTTP', behaviour: 'garbage', ok: false, attempts: 2, code: 'INVALID_RESPONSE' },
    ];
    const seen: DeliveryResult[] = [];
    // Outcome classification, not endpoint health: these receivers fail on every event, so with health on their
    // circuits would open (and the 410 one be switched off); test/health.test.ts covers that.
    const dispatcher = dispatcherWith({
      health: false,
      timeoutMs: TIMEOUT_MS,
      retry: { retries: 1, delayMs: 0, jitter: 0, maxRetryAfterMs: 150 },
      onDelivery: (result) => seen.push(result),
    });
    const byWebhook = new Map<string, { c: Case; receiver: FaultyReceiver }>();
    for (const c of cases) {
      const receiver = c.behaviour === 'garbage' ? await garbageReceiver() : await httpReceiver(c.behaviour);
      const hook = await dispatcher.webhooks.create({ url: receiver.url, name: c.name });
      byWebhook.set(hook.id, { c, receiver });
    }
    const N = 4;
    const M = cases.length;
    const events = Array.from({ length: N }, () => ldEvent());

    const started = performance.now();
    const settled = await Promise.allSettled(events.map((event) => dispatcher.emit(event)));
    const elapsed = performance.now() - started;

    // emit never rejects because a receiver misbehaved.
    expect(settled.map((s) => s.status)).toEqual(Array(N).fill('fulfilled'));
    const results = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
    expect(results).toHaveLength(N * M);
    // Exactly one outcome per (event, webhook) pair.
    const pairs = new Set(results.map((r) => `${r.eventId}|${r.webhookId}`));
    expect(pairs.size).toBe(N * M);
    for (const event of events) {
      for (const id of byWebhook.keys()) expect(pairs.has(`${event._id}|${id}`)).toBe(true);
    }

    for (const result of results) {
      const { c } = byWebhook.get(result.webhookId)!;
      const summary = (x: Partial<Case> & { outcome?: string }) => ({
        name: c.name,
        ok: x.ok,
        outcome: x.outcome,
        attempts: x.attempts,
        status: x.status,
        code: x.code,
      });
      const history = (await dispatcher.deliveries.list(result.webhookId)).items
        .filter((d) => d.deliveryId === result.deliveryId)
        .flatMap((d) => d.attempts.slice().reverse())
        .map(
          (a) =>
            `${a.attempt}: ${a.status ?? a.error?.code} ${a.error?.message ?? ''} ${a.durationMs.toFixed(0)}ms`,
        );
      expect(summary({ ...result, code: result.error?.code }), `${c.name}\n${history.join('\n')}`).toEqual(
        summary({ ...c, outcome: c.ok ? 'delivered' : 'failed' }),
      );
      if (!c.ok) expect(result.error?.message).toEqual(expect.any(String));
    }

    // The receivers saw exactly the attempts the outcomes report, and so does the delivery log.
    for (const [id, { c, receiver }] of byWebhook) {
      const attempts = results.filter((r) => r.webhookId === id).reduce((sum, r) => sum + r.attempts, 0);
      expect(receiver.hits, c.name).toBe(attempts);
      expect(attempts, c.name).toBe(N * c.attempts);
      const logged = (await dispatcher.deliveries.list(id)).items.flatMap((d) => d.attempts);
      expect(logged, c.name).toHaveLength(attempts);
    }
    // Redirects were not followed.
    expect(redirectTarget.hits).toBe(0);

    // onDelivery saw the same N x M outcomes, once each.
    expect(seen).toHaveLength(N * M);
    const key = (r: DeliveryResult) => `${r.eventId}|${r.webhookId}`;
    const sortByKey = (list: DeliveryResult[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sortByKey(seen)).toEqual(sortByKey(results));

    // The 50 MB bodies were cut short, not read to the end, and did not hold the delivery.
    const [hugeId, { receiver: huge }] = [...byWebhook].find(([, x]) => x.c.behaviour === hugeBody)!;
    for (const r of results.filter((x) => x.webhookId === hugeId))
      expect(r.durationMs).toBeLessThan(TIMEOUT_MS);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(huge.cutShort).toHaveLength(N);
    for (const written of huge.cutShort) expect(written).toBeLessThan(16 * 1024 * 1024);
    // Nothing waited much longer than its timeouts: 2 attempts of TIMEOUT_MS each, plus a clamped Retry-After.
    expect(elapsed).toBeLessThan(2 * TIMEOUT_MS + 150 + 2000);
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** The gap between the first two requests a receiver saw, in ms. */
const gap = (receiver: FaultyReceiver) => receiver.times[1]! - receiver.times[0]!;

describe('Retry-After', () => {
  it('waits as long as a 429 asks before retrying', async () => {
    const receiver = await httpReceiver((_req, res, r) => {
      if (r.hits === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.end('ok');
    });
    const dispatcher = dispatcherWith({ retry: { retries: 1, delayMs: 0, maxRetryAfterMs: 5000 } });
    await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, attempts: 2, status: 200 });
    expect(gap(receiver)).toBeGreaterThanOrEqual(950);
    expect(gap(receiver)).toBeLessThan(2000);
  });

  it('honours Retry-After on a 503 too', async () => {
    const receiver = await httpReceiver((_req, res, r) => {
      if (r.hits === 1) res.writeHead(503, { 'retry-after': '1' }).end();
      else res.end('ok');
    });
    const dispatcher = dispatcherWith({ retry: { retries: 1, delayMs: 0 } });
    await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(gap(receiver)).toBeGreaterThanOrEqual(950);
  });

  it('clamps a long Retry-After to maxRetryAfterMs', async () => {
    const receiver = await httpReceiver(status(429, { 'retry-after': '86400' }));
    const dispatcher = dispatcherWith({ retry: { retries: 1, delayMs: 0, maxRetryAfterMs: 200 } });
    await dispatcher.webhooks.create({ url: receiver.url });

    const started = performance.now();
    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, attempts: 2, status: 429, error: { code: 'HTTP_STATUS' } });
    expect(gap(receiver)).toBeGreaterThanOrEqual(180);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('is ignored with respectRetryAfter: false', async () => {
    const receiver = await httpReceiver(status(429, { 'retry-after': '30' }));
    const dispatcher = dispatcherWith({ retry: { retries: 1, delayMs: 0, respectRetryAfter: false } });
    await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(gap(receiver)).toBeLessThan(500);
  });
});

describe('retry presets through the dispatcher', () => {
  async function attemptsFor(behaviour: Behaviour | 'refused', retry: RetryOptions, timeoutMs = 2000) {
    let url: string;
    let receiver: FaultyReceiver | undefined;
    if (behaviour === 'refused') {
      const gone = await httpReceiver(status(200));
      url = gone.url;
      await gone.close();
    } else {
      receiver = await httpReceiver(behaviour);
      url = receiver.url;
    }
    const dispatcher = dispatcherWith({ retry: { delayMs: 0, ...retry }, timeoutMs });
    await dispatcher.webhooks.create({ url });
    const [result] = await dispatcher.emit(ldEvent());
    if (receiver) expect(receiver.hits).toBe(result!.attempts);
    return result!;
  }

  it("retryOn 'server-errors' does not retry a 400, a 429 or a redirect but does retry a 503", async () => {
    const serverErrors: RetryOptions = { retries: 2, retryOn: 'server-errors' };
    expect(await attemptsFor(status(400), serverErrors)).toMatchObject({ attempts: 1, status: 400 });
    expect(await attemptsFor(status(429), serverErrors)).toMatchObject({ attempts: 1, status: 429 });
    expect(await attemptsFor(status(301, { location: '/x' }), serverErrors)).toMatchObject({
      attempts: 1,
      error: { code: 'REDIRECT' },
    });
    expect(await attemptsFor(status(503), serverErrors)).toMatchObject({ attempts: 3, status: 503 });
  });

  it("retryOn 'server-errors' retries network errors and timeouts", async () => {
    const serverErrors: RetryOptions = { retries: 1, retryOn: 'server-errors' };
    expect(await attemptsFor('refused', serverErrors)).toMatchObject({
      attempts: 2,
      error: { code: 'ECONNREFUSED' },
    });
    expect(await attemptsFor(() => {}, serverErrors, 150)).toMatchObject({
      attempts: 2,
      error: { code: 'TIMEOUT' },
    });
  });

  it("retryOn 'any' (the default) retries a 400 and a redirect", async () => {
    expect(await attemptsFor(status(400), { retries: 1 })).toMatchObject({ attempts: 2 });
    expect(await attemptsFor(status(302, { location: '/x' }), { retries: 1 })).toMatchObject({
      attempts: 2,
      error: { code: 'REDIRECT' },
    });
  });

  it('never retries a 410 Gone, whatever the preset', async () => {
    for (const retryOn of ['any', 'server-errors'] as const) {
      expect(await attemptsFor(status(410), { retries: 3, retryOn })).toMatchObject({
        attempts: 1,
        status: 410,
      });
    }
  });

  it('lets a function decide', async () => {
    const decide = ({ status: s }: { status?: number }) => s === 418;
    expect(await attemptsFor(status(418), { retries: 2, retryOn: decide })).toMatchObject({ attempts: 3 });
    expect(await attemptsFor(status(500), { retries: 2, retryOn: decide })).toMatchObject({ attempts: 1 });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('backpressure', () => {
  it('fails deliveries beyond maxQueued at once with QUEUE_FULL, never silently', async () => {
    const receiver = await httpReceiver((_req, res, r) => r.later(150, () => res.end('ok')));
    const seen: DeliveryResult[] = [];
    const dispatcher = dispatcherWith({ concurrency: 1, maxQueued: 2, onDelivery: (x) => seen.push(x) });
    await dispatcher.webhooks.create({ url: receiver.url });
    await dispatcher.webhooks.list(); // the store is loaded: emits below enqueue synchronously
    const events = Array.from({ length: 7 }, () => ldEvent());

    const settledAt: number[] = [];
    const started = performance.now();
    const pending = events.map((event, i) =>
      dispatcher.emit(event).then((results) => {
        settledAt[i] = performance.now() - started;
        return results[0]!;
      }),
    );
    const results = await Promise.all(pending);

    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false, false, false]);
    for (const full of results.slice(3)) {
      expect(full).toMatchObject({ outcome: 'failed', attempts: 0, error: { code: 'QUEUE_FULL' } });
      expect(full.error!.message).toMatch(/queue is full/);
    }
    // Refused at once, not after waiting for a slot.
    for (const at of settledAt.slice(3)) expect(at).toBeLessThan(100);
    expect(receiver.hits).toBe(3);
    expect(seen).toHaveLength(7);
    expect(seen.filter((r) => r.error?.code === 'QUEUE_FULL')).toHaveLength(4);
  });

  it('counts each (event, webhook) delivery against the limit', async () => {
    const receiver = await httpReceiver((_req, res, r) => r.later(100, () => res.end('ok')));
    const dispatcher = dispatcherWith({ concurrency: 2, maxQueued: 3 });
    for (let i = 0; i < 8; i++) await dispatcher.webhooks.create({ url: `${receiver.url}${i}` });

    const results = await dispatcher.emit(ldEvent());

    expect(results).toHaveLength(8);
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => r.error?.code === 'QUEUE_FULL')).toHaveLength(3);
    expect(receiver.hits).toBe(5);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('close', () => {
  it('finishes the deliveries in flight and those queued, then refuses new work with ERR_DISPATCHER_CLOSED', async () => {
    const receiver = await httpReceiver((_req, res, r) => r.later(80, () => res.end('ok')));
    const dispatcher = dispatcherWith({ concurrency: 2 });
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    const pending = Array.from({ length: 5 }, () => dispatcher.emit(ldEvent()));
    await new Promise((resolve) => setTimeout(resolve, 20));

    await dispatcher.close();
    expect(receiver.hits).toBe(5);
    const results = (await Promise.all(pending)).flat();

    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true]);
    for (const call of [
      () => dispatcher.emit(ldEvent()),
      () => dispatcher.test(hook.id),
      () => dispatcher.webhooks.create({ url: receiver.url }),
      () => dispatcher.webhooks.update(hook.id, { on: false }),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toMatchObject({ code: 'ERR_DISPATCHER_CLOSED' });
    }
  });

  it('ends hung deliveries, and those waiting behind them, with ABORTED at the deadline', async () => {
    const closed: number[] = [];
    const receiver = await httpReceiver((_req, res) => {
      res.on('close', () => closed.push(performance.now()));
    });
    const seen: DeliveryResult[] = [];
    const dispatcher = dispatcherWith({ concurrency: 1, timeoutMs: 30_000, onDelivery: (r) => seen.push(r) });
    await dispatcher.webhooks.create({ url: receiver.url });
    const pending = Array.from({ length: 3 }, () => dispatcher.emit(ldEvent()));
    while (receiver.hits === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const started = performance.now();
    await dispatcher.close({ deadlineMs: 100 });
    const closedAfter = performance.now() - started;
    const results = (await Promise.all(pending)).flat();

    expect(closedAfter).toBeGreaterThanOrEqual(95);
    expect(closedAfter).toBeLessThan(1000);
    expect(results.map((r) => [r.outcome, r.attempts, r.error?.code])).toEqual([
      ['failed', 1, 'ABORTED'],
      ['failed', 0, 'ABORTED'],
      ['failed', 0, 'ABORTED'],
    ]);
    expect(receiver.hits).toBe(1);
    expect(seen).toHaveLength(3);
    // The hung connection was released, not left to the receiver.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toHaveLength(1);
  });

  it('ends a delivery waiting for its retry with ABORTED at the deadline', async () => {
    const receiver = await httpReceiver(status(503));
    const dispatcher = dispatcherWith({ retry: { retries: 1, delayMs: 10_000, jitter: 0 } });
    await dispatcher.webhooks.create({ url: receiver.url });
    const pending = dispatcher.emit(ldEvent());
    while (receiver.hits === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const started = performance.now();
    await dispatcher.close({ deadlineMs: 50 });
    const [result] = await pending;

    expect(performance.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 503, error: { code: 'ABORTED' } });
    expect(receiver.hits).toBe(1);
  });

  it('resolves at once when nothing is in flight, and close() twice is the same close', async () => {
    const dispatcher = dispatcherWith();
    const first = dispatcher.close();
    expect(dispatcher.close()).toBe(first);
    await first;
  });
});

// ---------------------------------------------------------------------------------------------------------------

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('memory', () => {
  it('stays bounded over thousands of deliveries of 50 MB responses', async () => {
    const gc = exposeGc();
    const receiver = await httpReceiver(hugeBody);
    // A smaller discard limit than the default 1 MiB only to keep the test fast: every response still offers 50 MB.
    const transport = httpTransport({ allowPrivateNetworks: true, maxDiscardBytes: 64 * 1024 });
    const dispatcher = dispatcherWith({ retry: 0, concurrency: 64, transport });
    open.push({ close: async () => transport.close?.() });
    await dispatcher.webhooks.create({ url: receiver.url });
    const burst = (n: number) => Promise.all(Array.from({ length: n }, () => dispatcher.emit(ldEvent())));
    // Warm up: connection pool, JIT, the delivery log's ring buffer filled once (100 attempts x 16 KiB).
    await burst(300);
    gc();
    const before = process.memoryUsage();

    const ROUNDS = 8;
    const PER_ROUND = 250;
    let delivered = 0;
    for (let round = 0; round < ROUNDS; round++) {
      delivered += (await burst(PER_ROUND)).flat().filter((r) => r.ok && r.status === 200).length;
    }
    gc();
    const after = process.memoryUsage();

    expect(delivered).toBe(ROUNDS * PER_ROUND);
    // 2,000 x 50 MB were offered; buffering even 1% of that would show. The bounds leave room for allocator noise.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(16 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(160 * 1024 * 1024);
    // Every response was cut short: the server saw each connection go away long before 50 MB.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.cutShort).toHaveLength(receiver.hits);
    expect(Math.max(...receiver.cutShort)).toBeLessThan(8 * 1024 * 1024);
  }, 60_000);
});

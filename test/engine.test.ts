import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryRequest, TransportResponse } from '../src/extend.js';
import {
  createWebhookDispatcher,
  type Transport,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../src/index.js';

// The engine under test is the real one; the transport is the seam it is built around, scripted per URL so each
// test can make one receiver slow, hanging or failing beside others.

const open: WebhookDispatcher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close({ deadlineMs: 50 })));
});

type Script = (request: DeliveryRequest, n: number) => Promise<TransportResponse> | TransportResponse;

interface Sent {
  url: string;
  at: number;
  end?: number;
}

function scriptedTransport(scripts: Record<string, Script>) {
  const sent: Sent[] = [];
  const counts = new Map<string, number>();
  let inFlight = 0;
  let peak = 0;
  const perUrl = new Map<string, { now: number; peak: number }>();
  const transport: Transport = {
    async send(request) {
      const n = counts.get(request.url) ?? 0;
      counts.set(request.url, n + 1);
      const record: Sent = { url: request.url, at: performance.now() };
      sent.push(record);
      const lane = perUrl.get(request.url) ?? { now: 0, peak: 0 };
      perUrl.set(request.url, lane);
      inFlight++;
      lane.now++;
      peak = Math.max(peak, inFlight);
      lane.peak = Math.max(lane.peak, lane.now);
      try {
        return await (scripts[request.url] as Script)(request, n);
      } finally {
        inFlight--;
        lane.now--;
        record.end = performance.now();
      }
    },
  };
  return { transport, sent, peak: () => peak, lanePeak: (url: string) => perUrl.get(url)?.peak ?? 0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const answerAfter =
  (ms: number, status = 200): Script =>
  () =>
    sleep(ms).then(() => ({ status }));
const hang: Script = () => new Promise(() => {});

let seq = 0;
const event = () => ({ id: `e${++seq}`, type: 'flag-updated' });

async function dispatcherWith(
  transport: Transport,
  urls: string[],
  options: WebhookDispatcherOptions = {},
  webhookFields: Record<string, unknown> = {},
) {
  const dispatcher = createWebhookDispatcher({ transport, retry: 0, ...options });
  open.push(dispatcher);
  const ids: string[] = [];
  for (const url of urls)
    ids.push((await dispatcher.webhooks.create({ url, events: ['*'], ...webhookFields })).id);
  return { dispatcher, ids };
}

const A = 'https://a.example.com/hook';
const B = 'https://b.example.com/hook';
const C = 'https://c.example.com/hook';

describe('engine: slots', () => {
  it('keeps at most `concurrency` deliveries in flight over all webhooks', async () => {
    const t = scriptedTransport({ [A]: answerAfter(10), [B]: answerAfter(10), [C]: answerAfter(10) });
    const { dispatcher } = await dispatcherWith(t.transport, [A, B, C], {
      concurrency: 4,
      perWebhookConcurrency: 8,
    });
    const results = (await Promise.all(Array.from({ length: 10 }, () => dispatcher.emit(event())))).flat();
    expect(results).toHaveLength(30);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(t.peak()).toBe(4);
  });

  it('keeps at most `perWebhookConcurrency` deliveries in flight to one webhook', async () => {
    const t = scriptedTransport({ [A]: answerAfter(10) });
    const { dispatcher } = await dispatcherWith(t.transport, [A], {
      concurrency: 64,
      perWebhookConcurrency: 3,
    });
    await Promise.all(Array.from({ length: 20 }, () => dispatcher.emit(event())));
    expect(t.lanePeak(A)).toBe(3);
  });

  it('shares slots round-robin: a webhook with a long backlog does not make a newcomer wait for all of it', async () => {
    const t = scriptedTransport({ [A]: answerAfter(5), [B]: answerAfter(5) });
    const { dispatcher, ids } = await dispatcherWith(t.transport, [A], {
      concurrency: 1,
      perWebhookConcurrency: 1,
    });
    const backlog = Array.from({ length: 40 }, () => dispatcher.emit(event()));
    await sleep(1);
    const b = await dispatcher.webhooks.create({ url: B, events: ['*'] });
    // Only B's webhook gets these: A is switched off for the emit and back on (its backlog is already queued).
    await dispatcher.webhooks.update(ids[0] as string, { events: ['other'] });
    const late = Array.from({ length: 5 }, () => dispatcher.emit(event()));
    await Promise.all([...backlog, ...late]);
    const order = t.sent.map((s) => s.url);
    const lastB = order.lastIndexOf(B);
    expect(order.filter((u) => u === B)).toHaveLength(5);
    // Interleaved one for one with A's backlog: B's fifth delivery comes long before A's backlog is through.
    expect(lastB).toBeLessThan(20);
    expect(b.id).toBeDefined();
  });

  it('a retry wait holds no slot: another webhook is served while a delivery waits to retry', async () => {
    const t = scriptedTransport({ [A]: (_r, n) => ({ status: n === 0 ? 500 : 200 }), [B]: answerAfter(5) });
    const { dispatcher } = await dispatcherWith(t.transport, [A], {
      concurrency: 1,
      retry: { retries: 1, delayMs: 400, jitter: 0 },
    });
    const first = dispatcher.emit(event());
    await sleep(50);
    await dispatcher.webhooks.create({ url: B, events: ['other'] });
    const started = performance.now();
    const [b] = await dispatcher.emit({ id: 'x1', type: 'other' });
    expect(b).toMatchObject({ ok: true });
    expect(performance.now() - started).toBeLessThan(300);
    expect(await first).toMatchObject([{ ok: true, attempts: 2 }]);
  });

  it('a hanging webhook keeps at most its share of the slots: the others are served at once', async () => {
    const t = scriptedTransport({ [A]: hang, [B]: answerAfter(5) });
    const { dispatcher } = await dispatcherWith(t.transport, [A, B], {
      concurrency: 4,
      perWebhookConcurrency: 4,
      timeoutMs: 5000,
    });
    const pending = Array.from({ length: 10 }, () => dispatcher.emit(event()));
    await sleep(100);
    const delivered = t.sent.filter((s) => s.url === B && s.end !== undefined);
    expect(delivered).toHaveLength(10);
    expect(t.lanePeak(A)).toBeLessThanOrEqual(2);
    await dispatcher.close({ deadlineMs: 10 });
    const results = (await Promise.all(pending)).flat();
    expect(results.filter((r) => r.webhookId && !r.ok).every((r) => r.error?.code === 'ABORTED')).toBe(true);
  });
});

describe('engine: the lane slows down', () => {
  it('rateLimit: at most N deliveries to the webhook in any one-second window', async () => {
    const t = scriptedTransport({ [A]: () => ({ status: 200 }) });
    const { dispatcher } = await dispatcherWith(t.transport, [A], {}, { rateLimit: 2 });
    const started = performance.now();
    await Promise.all(Array.from({ length: 5 }, () => dispatcher.emit(event())));
    const times = t.sent.map((s) => s.at);
    for (let i = 2; i < times.length; i++) {
      expect((times[i] as number) - (times[i - 2] as number)).toBeGreaterThanOrEqual(990);
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(1990);
  });

  it('a 503 with Retry-After pauses the whole lane, not only that delivery, and no other lane', async () => {
    const t = scriptedTransport({
      [A]: (_r, n) => (n === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }),
      [B]: () => ({ status: 200 }),
    });
    const { dispatcher } = await dispatcherWith(t.transport, [A, B], {
      perWebhookConcurrency: 1,
      health: false,
    });
    const first = await dispatcher.emit(event());
    expect(first.find((r) => r.ok === false)).toMatchObject({ status: 503 });
    const started = performance.now();
    const second = await dispatcher.emit(event());
    expect(second.every((r) => r.ok)).toBe(true);
    const aSecond = t.sent.filter((s) => s.url === A)[1] as Sent;
    const bSecond = t.sent.filter((s) => s.url === B)[1] as Sent;
    expect(aSecond.at - started).toBeGreaterThanOrEqual(900);
    expect(bSecond.at - started).toBeLessThan(200);
  });
});

describe('engine: bounded memory', () => {
  it('refuses deliveries beyond maxQueued with QUEUE_FULL, without sending them', async () => {
    const t = scriptedTransport({ [A]: answerAfter(30) });
    const { dispatcher } = await dispatcherWith(t.transport, [A], {
      concurrency: 1,
      perWebhookConcurrency: 1,
      maxQueued: 3,
    });
    const results = (await Promise.all(Array.from({ length: 8 }, () => dispatcher.emit(event())))).flat();
    const full = results.filter((r) => r.error?.code === 'QUEUE_FULL');
    expect(full.length).toBeGreaterThanOrEqual(4);
    expect(full.every((r) => r.attempts === 0)).toBe(true);
    expect(t.sent.length).toBe(results.length - full.length);
  });

  it('counts bytes: 16 KB events beyond maxQueuedBytes are refused, an event shared by many webhooks is counted once', async () => {
    const t = scriptedTransport({ [A]: hang, [B]: hang, [C]: hang });
    const { dispatcher } = await dispatcherWith(t.transport, [A, B, C], {
      concurrency: 1,
      perWebhookConcurrency: 1,
      maxQueuedBytes: 200_000,
      timeoutMs: 60_000,
    });
    const big = (i: number) => ({ id: `big${i}`, type: 'flag-updated', blob: 'x'.repeat(16_384) });
    const pending = Array.from({ length: 20 }, (_, i) => dispatcher.emit(big(i)));
    await sleep(50);
    await dispatcher.close({ deadlineMs: 10 });
    const results = (await Promise.all(pending)).flat();
    const full = results.filter((r) => r.error?.code === 'QUEUE_FULL');
    const held = results.length - full.length;
    // 200 KB of 16 KB events: about 11 events held (each once, for three webhooks), the rest refused.
    expect(held).toBeGreaterThanOrEqual(3 * 9);
    expect(held).toBeLessThanOrEqual(3 * 13);
    expect(full[0]?.error?.message).toMatch(/bytes/);
  });
});

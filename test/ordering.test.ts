import { describe, expect, it } from 'vitest';
import { createWebhookDispatcher, type DeliveryResult } from '../src/index.js';
import { startApi } from './helpers/api.js';
import { EVENTS, eventNo, failingFirstAttempts, flakyReceiver, inOrder } from './helpers/ordering.js';
import { startReceiver } from './helpers/receiver.js';
import { open } from './helpers/setup.js';

// `ordering: 'fifo'` in process, against real receivers on 127.0.0.1: a failed first attempt holds the deliveries
// behind it through its retry wait, so the receiver sees every event in emit order.

describe("ordering: 'fifo' in process", () => {
  it('200 events arrive in emit order through 20% failed first attempts; an unordered webhook beside it is not held', async () => {
    const failing = failingFirstAttempts(20);
    expect(failing.size).toBeGreaterThan(20);
    const fifo = await flakyReceiver(failing);
    open.push(fifo.receiver);
    const unordered = await flakyReceiver(failing);
    open.push(unordered.receiver);
    const results: DeliveryResult[] = [];
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: { schedule: [20], jitter: 0 },
      health: false,
      perWebhookConcurrency: 8,
      onDelivery: (result) => results.push(result),
    });
    open.push(dispatcher);
    const ordered = await dispatcher.webhooks.create({
      url: fifo.receiver.url,
      events: ['*'],
      ordering: 'fifo',
    });
    expect(ordered.ordering).toBe('fifo');
    const other = await dispatcher.webhooks.create({ url: unordered.receiver.url, events: ['*'] });

    const emits: Promise<DeliveryResult[]>[] = [];
    for (let i = 0; i < EVENTS; i++) emits.push(dispatcher.emit({ id: `e${i}`, type: 'flag-updated' }));
    const outcomes = (await Promise.all(emits)).flat();
    expect(outcomes.filter((r) => r.outcome === 'delivered')).toHaveLength(2 * EVENTS);

    // Each event delivered once, in emit order, every failed first attempt retried before the next event.
    expect(fifo.delivered).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
    expect(fifo.receiver.requests).toHaveLength(EVENTS + failing.size);
    const arrivals = fifo.receiver.requests.map(eventNo);
    expect(inOrder(arrivals.filter((n, i) => arrivals.indexOf(n) === i))).toBe(true);
    for (const n of failing) expect(arrivals.indexOf(n) + 1).toBe(arrivals.lastIndexOf(n));

    // The unordered webhook got everything too, without waiting for the fifo one's retries: it reorders.
    expect([...unordered.delivered].sort((a, b) => a - b)).toEqual(fifo.delivered);
    expect(inOrder(unordered.delivered)).toBe(false);
    expect(results.filter((r) => r.webhookId === other.id && r.outcome === 'delivered')).toHaveLength(EVENTS);
  }, 60_000);

  it('a delivery that ends failed (retries exhausted) lets the next one go, after its last attempt', async () => {
    const fifo = await flakyReceiver(new Set(), new Set([3]));
    open.push(fifo.receiver);
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: { schedule: [20, 20], jitter: 0 },
      health: false,
    });
    open.push(dispatcher);
    await dispatcher.webhooks.create({ url: fifo.receiver.url, events: ['*'], ordering: 'fifo' });
    const emits = Array.from({ length: 8 }, (_, i) => dispatcher.emit({ id: `e${i}`, type: 't' }));
    const outcomes = (await Promise.all(emits)).flat();
    expect(outcomes.map((r) => r.outcome)).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'failed',
      'delivered',
      'delivered',
      'delivered',
      'delivered',
    ]);
    expect(fifo.receiver.requests.map(eventNo)).toEqual([0, 1, 2, 3, 3, 3, 4, 5, 6, 7]);
  });

  it('without ordering, one delivery at a time still reorders after a retry (the case fifo is for)', async () => {
    const fifo = await flakyReceiver(new Set([3]));
    open.push(fifo.receiver);
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: { schedule: [50], jitter: 0 },
      health: false,
      perWebhookConcurrency: 1,
    });
    open.push(dispatcher);
    const hook = await dispatcher.webhooks.create({ url: fifo.receiver.url, events: ['*'] });
    await Promise.all(Array.from({ length: 8 }, (_, i) => dispatcher.emit({ id: `e${i}`, type: 't' })));
    expect(inOrder(fifo.delivered)).toBe(false);

    // Switched to fifo by an update: the same failure now holds the rest.
    await dispatcher.webhooks.update(hook.id, { ordering: 'fifo' });
    fifo.delivered.length = 0;
    await Promise.all(Array.from({ length: 8 }, (_, i) => dispatcher.emit({ id: `e${i + 100}`, type: 't' })));
    expect(fifo.delivered).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
  });

  it('recover re-sends a fifo webhook failed deliveries through its lane, oldest first, a retry holding the rest', async () => {
    let up = false;
    const seen = new Set<number>();
    const delivered: number[] = [];
    const receiver = await startReceiver((request) => {
      const n = eventNo(request);
      if (!up) return 503;
      // Once up, the first re-send of event 2 fails once more.
      const first = !seen.has(n);
      seen.add(n);
      if (n === 2 && first) return 500;
      delivered.push(n);
      return 200;
    });
    open.push(receiver);
    let now = Date.parse('2026-03-01T10:00:00Z');
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: { schedule: [20], jitter: 0, retryOn: () => up },
      health: false,
      now: () => now,
    });
    open.push(dispatcher);
    const hook = await dispatcher.webhooks.create({ url: receiver.url, events: ['*'], ordering: 'fifo' });
    for (let i = 0; i < 6; i++) {
      now += 1000;
      expect((await dispatcher.emit({ id: `e${i}`, type: 't' }))[0]?.outcome).toBe('failed');
    }
    up = true;
    expect(await dispatcher.deliveries.recover(hook.id, { since: 0 })).toBe(6);
    await receiver.waitFor(6 + 7);
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5]);
    expect(receiver.requests.slice(6).map(eventNo)).toEqual([0, 1, 2, 2, 3, 4, 5]);
  });

  it("refuses an ordering other than 'fifo', naming the field; null clears it", async () => {
    const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true });
    open.push(dispatcher);
    await expect(
      dispatcher.webhooks.create({
        url: 'http://127.0.0.1:9/x',
        ordering: 'lifo' as unknown as 'fifo',
      }),
    ).rejects.toThrow(/`ordering`/);
    const hook = await dispatcher.webhooks.create({ url: 'http://127.0.0.1:9/x', ordering: 'fifo' });
    const cleared = await dispatcher.webhooks.update(hook.id, { ordering: null });
    expect(cleared.ordering).toBeUndefined();
    expect((await dispatcher.webhooks.get(hook.id))?.ordering).toBeUndefined();
  });

  it('keeps the order through an open circuit and a Retry-After: the head is the probe, the rest wait behind it', async () => {
    let up = false;
    const delivered: number[] = [];
    const receiver = await startReceiver((request, _n, res) => {
      const n = eventNo(request);
      if (!up) {
        res.writeHead(503, { 'Retry-After': '0' }).end();
        return 'handled';
      }
      delivered.push(n);
      return 200;
    });
    open.push(receiver);
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: { schedule: Array.from({ length: 30 }, () => 20), jitter: 0 },
      health: { failureThreshold: 2, probeDelayMs: 40, maxProbeDelayMs: 80 },
    });
    open.push(dispatcher);
    await dispatcher.webhooks.create({ url: receiver.url, events: ['*'], ordering: 'fifo' });
    const emits = Array.from({ length: 20 }, (_, i) => dispatcher.emit({ id: `e${i}`, type: 't' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only the head was tried while down: one delivery in flight at a time, the others never sent.
    expect(new Set(receiver.requests.map(eventNo))).toEqual(new Set([0]));
    up = true;
    const outcomes = (await Promise.all(emits)).flat();
    expect(outcomes.every((result) => result.outcome === 'delivered')).toBe(true);
    expect(delivered).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('is set, shown, patched and cleared through the admin API; anything but fifo is a 422 naming the field', async () => {
    const api = await startApi();
    const as = 'token-acme';
    const created = await api.call('POST', '/webhooks', {
      as,
      body: { url: 'https://example.com/h', ordering: 'fifo' },
    });
    expect(created.status).toBe(201);
    expect(created.body.ordering).toBe('fifo');
    const id = created.body.id as string;
    const wrong = await api.call('PATCH', `/webhooks/${id}`, {
      as,
      body: { ordering: 'lifo' },
      type: 'application/merge-patch+json',
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.field).toBe('ordering');
    const cleared = await api.call('PATCH', `/webhooks/${id}`, {
      as,
      body: [{ op: 'remove', path: '/ordering' }],
      type: 'application/json-patch+json',
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('ordering');
    expect((await api.real.webhooks.get(id))?.ordering).toBeUndefined();
    const again = await api.call('PATCH', `/webhooks/${id}`, {
      as,
      body: { ordering: 'fifo' },
      type: 'application/merge-patch+json',
    });
    expect(again.status).toBe(200);
    expect((await api.call('GET', `/webhooks/${id}`, { as })).body.ordering).toBe('fifo');
    expect((await api.real.webhooks.get(id))?.ordering).toBe('fifo');
  });
});

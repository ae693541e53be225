import { afterEach, describe, expect, it } from 'vitest';
import type { DispatcherEvents, TransportResponse } from '../src/extend.js';
import {
  createWebhookDispatcher,
  memoryStore,
  type Transport,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../src/index.js';

const open: WebhookDispatcher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close({ deadlineMs: 50 })));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const event = () => ({ id: `h${++seq}`, type: 'flag-updated' });

/** A receiver whose answer the test switches: a status, or a thrown network error. */
function switchable(initial: number | 'down') {
  let answer: number | 'down' = initial;
  const times: number[] = [];
  const transport: Transport = {
    async send(): Promise<TransportResponse> {
      times.push(performance.now());
      if (answer === 'down') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return { status: answer };
    },
  };
  return {
    transport,
    times,
    set(next: number | 'down') {
      answer = next;
    },
  };
}

function watch(dispatcher: WebhookDispatcher) {
  const seen: { name: keyof DispatcherEvents; reason: string; on: boolean; disabled?: unknown }[] = [];
  for (const name of ['webhook.failing', 'webhook.disabled', 'webhook.recovered'] as const) {
    dispatcher.on(name, ({ webhook, reason }) =>
      seen.push({ name, reason, on: webhook.on, disabled: webhook.disabled }),
    );
  }
  return seen;
}

async function setup(transport: Transport, options: WebhookDispatcherOptions = {}) {
  const dispatcher = createWebhookDispatcher({ transport, retry: 0, ...options });
  open.push(dispatcher);
  const hook = await dispatcher.webhooks.create({ url: 'https://receiver.example.com/hook', events: ['*'] });
  return { dispatcher, hook, seen: watch(dispatcher) };
}

describe('endpoint health: the circuit', () => {
  it('opens after failureThreshold consecutive failures, probes once, and closes when a probe succeeds', async () => {
    const receiver = switchable(500);
    const { dispatcher, seen } = await setup(receiver.transport, {
      health: { failureThreshold: 3, probeDelayMs: 200 },
    });
    for (let i = 0; i < 3; i++) await dispatcher.emit(event());
    expect(seen.map((e) => e.name)).toEqual(['webhook.failing']);
    expect(seen[0]?.reason).toMatch(/3 consecutive failures/);

    // Open: these wait for the probe instead of being sent.
    receiver.set(200);
    const sentBefore = receiver.times.length;
    const waiting = Promise.all([
      dispatcher.emit(event()),
      dispatcher.emit(event()),
      dispatcher.emit(event()),
    ]);
    await sleep(100);
    expect(receiver.times.length).toBe(sentBefore);
    const results = (await waiting).flat();
    expect(results.every((r) => r.ok)).toBe(true);
    // The first one went alone, as the probe, no sooner than probeDelayMs after the circuit opened.
    expect(seen.map((e) => e.name)).toEqual(['webhook.failing', 'webhook.recovered']);
    expect(receiver.times.length).toBe(sentBefore + 3);
  });

  it('a failed probe opens the circuit again for twice as long', async () => {
    const receiver = switchable(503);
    const { dispatcher } = await setup(receiver.transport, {
      health: { failureThreshold: 1, probeDelayMs: 150 },
    });
    await dispatcher.emit(event()); // opens
    const probes = dispatcher.emit(event()); // first probe, fails (503)
    const later = dispatcher.emit(event()); // second probe
    await Promise.all([probes, later]);
    const [first, second, third] = receiver.times as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(140);
    expect(third - second).toBeGreaterThanOrEqual(290);
  });

  it('refuses deliveries beyond maxQueuedWhileOpen with CIRCUIT_OPEN while the circuit is open', async () => {
    const receiver = switchable('down');
    const { dispatcher } = await setup(receiver.transport, {
      health: { failureThreshold: 1, probeDelayMs: 10_000, maxQueuedWhileOpen: 2 },
    });
    await dispatcher.emit(event());
    const pending = Array.from({ length: 5 }, () => dispatcher.emit(event()));
    await sleep(20);
    await dispatcher.close({ deadlineMs: 10 });
    const results = (await Promise.all(pending)).flat();
    expect(results.filter((r) => r.error?.code === 'CIRCUIT_OPEN')).toHaveLength(3);
    expect(results.filter((r) => r.error?.code === 'ABORTED')).toHaveLength(2);
  });

  it('keeps health across refresh()', async () => {
    const receiver = switchable(500);
    const { dispatcher, seen } = await setup(receiver.transport, {
      health: { failureThreshold: 2, probeDelayMs: 60_000 },
    });
    await dispatcher.emit(event());
    await dispatcher.webhooks.refresh();
    await dispatcher.emit(event());
    expect(seen.map((e) => e.name)).toEqual(['webhook.failing']);
    const explained = await dispatcher.explain((await dispatcher.webhooks.list())[0]?.id as string, event());
    expect(explained.reasons.find((r) => r.check === 'health')?.message).toMatch(/open after 2 consecutive/);
  });
});

describe('endpoint health: switching off', () => {
  it('410 Gone switches the webhook off at once, in the store too, and on: true clears it', async () => {
    const receiver = switchable(410);
    const store = memoryStore();
    const { dispatcher, hook, seen } = await setup(receiver.transport, { store, retry: 3 });
    const [result] = await dispatcher.emit(event());
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 410 });
    await sleep(10);
    expect(seen).toMatchObject([{ name: 'webhook.disabled', reason: 'gone', on: false }]);
    const stored = await store.get(hook.id);
    expect(stored).toMatchObject({ on: false, disabled: { reason: 'gone' } });
    expect(await dispatcher.emit(event())).toEqual([]);

    receiver.set(200);
    const back = await dispatcher.webhooks.update(hook.id, { on: true });
    expect(back.on).toBe(true);
    expect(back.disabled).toBeUndefined();
    expect(await dispatcher.emit(event())).toMatchObject([{ ok: true }]);
  });

  it('switches off a webhook that has failed without a success for disableAfterMs (an injected clock)', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const receiver = switchable('down');
    const { dispatcher, hook, seen } = await setup(receiver.transport, {
      now: () => now,
      health: { failureThreshold: 1000, disableAfterMs: 5 * 24 * 3600_000 },
    });
    await dispatcher.emit(event());
    now += 4 * 24 * 3600_000;
    await dispatcher.emit(event());
    expect(seen).toEqual([]);
    now += 24 * 3600_000;
    await dispatcher.emit(event());
    await sleep(10);
    expect(seen).toMatchObject([{ name: 'webhook.disabled', reason: 'failing', on: false }]);
    const saved = await dispatcher.webhooks.get(hook.id);
    expect(saved?.disabled).toMatchObject({ at: '2026-01-06T00:00:00.000Z', reason: 'failing' });
    expect(saved?.disabled?.detail).toMatch(/since 2026-01-01/);
  });

  it('a success resets the failure streak: no switch-off', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const receiver = switchable('down');
    const { dispatcher, seen } = await setup(receiver.transport, {
      now: () => now,
      health: { failureThreshold: 1000, disableAfterMs: 1000 },
    });
    await dispatcher.emit(event());
    receiver.set(200);
    now += 500;
    await dispatcher.emit(event());
    receiver.set('down');
    now += 800;
    await dispatcher.emit(event());
    await sleep(10);
    expect(seen).toEqual([]);
  });

  it('health: false sends to a failing webhook every time and never switches it off', async () => {
    const receiver = switchable(410);
    const { dispatcher, seen } = await setup(receiver.transport, { health: false });
    for (let i = 0; i < 8; i++) await dispatcher.emit(event());
    expect(receiver.times).toHaveLength(8);
    expect(seen).toEqual([]);
  });

  it('a listener that throws or rejects changes nothing', async () => {
    const receiver = switchable(410);
    const errors: string[] = [];
    const { dispatcher } = await setup(receiver.transport, {
      logger: { error: (message: string) => errors.push(message) },
    });
    dispatcher.on('webhook.disabled', () => {
      throw new Error('listener bug');
    });
    dispatcher.on('webhook.disabled', async () => {
      throw new Error('async listener bug');
    });
    const calls: string[] = [];
    const off = dispatcher.on('webhook.disabled', ({ reason }) => calls.push(reason));
    await dispatcher.emit(event());
    await sleep(20);
    expect(calls).toEqual(['gone']);
    expect(errors.filter((m) => /listener (threw|rejected)/.test(m))).toHaveLength(2);
    off();
  });
});

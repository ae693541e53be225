// `close()` finishes what was emitted: every emit called before it gets its real outcome (ABORTED only when a
// deadline passes), every call after it rejects, and `close({ deadlineMs })` returns on time whatever the store,
// the delivery log or the transport does.
import { describe, expect, it } from 'vitest';
import { memoryQueue } from '../src/extend.js';
import {
  createWebhookDispatcher,
  type DeliveryLog,
  type DeliveryResult,
  memoryDeliveryLog,
  memoryStore,
  type Transport,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookError,
  type WebhookStore,
} from '../src/index.js';
import { ldEvent, webhookRecord } from './helpers/events.js';
import { startReceiver } from './helpers/receiver.js';
import { open } from './helpers/setup.js';

const never = new Promise<never>(() => {});
const events = (count: number) =>
  Array.from({ length: count }, (_, i) => ldEvent('production', { _id: `e${i}` }));

/** A store holding one webhook to `url`, whose first `list()` answers after `delayMs` (0: a plain memory store). */
function storeFor(url: string, delayMs: number): WebhookStore {
  const inner = memoryStore([webhookRecord({ id: 'w1', url })]);
  if (delayMs === 0) return inner;
  return {
    ...inner,
    async list() {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return inner.list();
    },
  };
}

function dispatcherWith(options: WebhookDispatcherOptions): WebhookDispatcher {
  const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true, ...options });
  open.push({ close: () => dispatcher.close({ deadlineMs: 10 }) });
  return dispatcher;
}

describe('emit then close() in the same tick', () => {
  for (const count of [1, 10_000]) {
    for (const loadMs of [0, 200]) {
      it(`delivers all ${count} event(s) to a real receiver before close() resolves (store loads in ${loadMs} ms)`, async () => {
        const receiver = await startReceiver();
        open.push(receiver);
        const dispatcher = dispatcherWith({ store: storeFor(receiver.url, loadMs) });
        // A fresh process: the webhooks are in the store, not yet loaded (except for the warm case).
        if (loadMs === 0) await dispatcher.webhooks.list();
        const emitted = events(count).map((event) => dispatcher.emit(event));
        await dispatcher.close();
        const results = (await Promise.all(emitted)).flat();
        expect(results).toHaveLength(count);
        expect(results.filter((result) => result.outcome !== 'delivered')).toEqual([]);
        expect(receiver.requests).toHaveLength(count);
      }, 120_000);
    }
  }

  it('rejects an emit, test and create called after close() with ERR_DISPATCHER_CLOSED', async () => {
    const receiver = await startReceiver();
    open.push(receiver);
    const dispatcher = dispatcherWith({ store: storeFor(receiver.url, 200) });
    const before = dispatcher.emit(ldEvent());
    const closed = dispatcher.close();
    const after = dispatcher.emit(ldEvent());
    await expect(after).rejects.toMatchObject({ code: 'ERR_DISPATCHER_CLOSED' });
    await expect(dispatcher.test('w1')).rejects.toMatchObject({ code: 'ERR_DISPATCHER_CLOSED' });
    await expect(dispatcher.webhooks.create({ url: receiver.url })).rejects.toMatchObject({
      code: 'ERR_DISPATCHER_CLOSED',
    });
    await closed;
    expect(await before).toMatchObject([{ outcome: 'delivered' }]);
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('redeliver and recover then close() in the same tick', () => {
  it('sends the redelivery and every recovered delivery before close() resolves', async () => {
    let up = false;
    let sent = 0;
    // A transport of the host's (close() does not close it): each answer takes a moment.
    const transport: Transport = {
      async send() {
        await new Promise((resolve) => setTimeout(resolve, 20));
        sent++;
        return { status: up ? 200 : 503 };
      },
    };
    // A log whose reads take a moment, as a database's do.
    const log = memoryDeliveryLog();
    const later = <T>(value: Promise<T>) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 20));
    const deliveryLog: DeliveryLog = {
      record: (attempt) => log.record(attempt),
      list: (webhookId, query) => later(log.list(webhookId, query)),
      get: (deliveryId) => later(log.get(deliveryId)),
    };
    const dispatcher = dispatcherWith({
      store: storeFor('https://receiver.example.com/', 0),
      transport,
      deliveryLog,
      retry: 0,
      health: false,
    });
    const since = Date.now() - 1000;
    const failed = (await Promise.all(events(3).map((event) => dispatcher.emit(event)))).flat();
    expect(failed.map((result) => result.outcome)).toEqual(['failed', 'failed', 'failed']);
    up = true;

    const redelivered = dispatcher.deliveries.redeliver(failed[0]?.deliveryId as string);
    const recovered = dispatcher.deliveries.recover('w1', { since });
    await dispatcher.close();
    // Sent before close() resolved: 3 failed sends, the redelivery, and the 3 re-sends of recover (it read the
    // log before the redelivery landed).
    expect(sent).toBe(7);
    expect(await redelivered).toMatchObject({ outcome: 'delivered' });
    expect(await recovered).toBe(3);
    for (const { deliveryId } of failed) {
      expect((await dispatcher.deliveries.get(deliveryId))?.status).toBe('delivered');
    }
  });
});

describe('close({ deadlineMs: 300 }) against parts that never answer', () => {
  const hanging = (): Transport => ({ send: () => never });
  const hangingLog = (): DeliveryLog => ({ ...memoryDeliveryLog(), record: () => never });
  /** A queue delivering in process that re-reads the webhook from the store at send time, as workers do. */
  const readingQueue = () => Object.assign(memoryQueue(), { readsStoreAtSendTime: true });

  const cases: [string, (url: string) => WebhookDispatcherOptions][] = [
    ['a transport that never settles', () => ({ transport: hanging() })],
    [
      'a send-time store.get() that never settles',
      (url) => {
        const store = storeFor(url, 0);
        return { store: { ...store, get: () => never }, queue: readingQueue() };
      },
    ],
    ['a delivery log whose writes never settle', () => ({ deliveryLog: hangingLog(), transport: hanging() })],
  ];
  for (const [name, options] of cases) {
    it(`returns within 1.5 s with ${name}, every pending emit ending ABORTED with the deadline as the reason`, async () => {
      const receiver = await startReceiver();
      open.push(receiver);
      const dispatcher = dispatcherWith({ store: storeFor(receiver.url, 0), ...options(receiver.url) });
      await dispatcher.webhooks.list();
      const emitted = events(5).map((event) => dispatcher.emit(event));
      const started = performance.now();
      await dispatcher.close({ deadlineMs: 300 });
      expect(performance.now() - started).toBeLessThan(1500);
      const results: DeliveryResult[] = (await Promise.all(emitted)).flat();
      expect(results).toHaveLength(5);
      for (const result of results) {
        expect(result).toMatchObject({ ok: false, outcome: 'failed', error: { code: 'ABORTED' } });
        expect(result.error?.message).toMatch(/deadline of 300 ms/);
      }
    });
  }

  it('returns within 1.5 s with a store.list() that never settles, releasing every emit waiting on it', async () => {
    const store = { ...memoryStore(), list: () => never };
    const dispatcher = dispatcherWith({ store });
    const emitted = events(3).map((event) => dispatcher.emit(event));
    const started = performance.now();
    await dispatcher.close({ deadlineMs: 300 });
    const settled = await Promise.allSettled(emitted);
    expect(performance.now() - started).toBeLessThan(1500);
    for (const emit of settled) {
      expect(emit.status).toBe('rejected');
      const error = (emit as PromiseRejectedResult).reason as WebhookError;
      expect(error.code).toBe('ERR_STORE_TIMEOUT');
      expect(error.message).toMatch(/deadline of 300 ms/);
    }
  });
});

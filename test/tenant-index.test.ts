import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Webhook, WebhookStore } from '../src/core/types.js';
import { createWebhookDispatcher, memoryStore, type WebhookDispatcher } from '../src/index.js';
import { indexBytes } from '../src/routing/tenant-lru.js';
import { webhookRecord } from './helpers/events.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { storeOver } from './helpers/stores.js';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

const dispatchers: WebhookDispatcher[] = [];
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.close();
});

const TENANTS = 200;
const PER_TENANT = 10;

/** 2,000 webhooks over 200 tenants (`t0`..`t199`), and 3 without a tenant. */
function records(): Webhook[] {
  const all: Webhook[] = [];
  for (let t = 0; t < TENANTS; t++) {
    for (let i = 0; i < PER_TENANT; i++) {
      all.push(
        webhookRecord({
          id: `t${t}-w${i}`,
          tenant: `t${t}`,
          url: `${receiver.url}/t${t}/w${i}`,
          events: ['invoice.paid'],
        }),
      );
    }
  }
  for (let i = 0; i < 3; i++) {
    all.push(
      webhookRecord({ id: `global-${i}`, url: `${receiver.url}/global/${i}`, events: ['invoice.paid'] }),
    );
  }
  return all;
}

/** A memory store whose `listTenant` calls are counted, and can be made to fail. */
function countingStore(initial: Webhook[]) {
  const inner = memoryStore(initial);
  const calls: (string | null)[] = [];
  const state = { fail: false, hold: undefined as Promise<void> | undefined };
  const store: WebhookStore = storeOver(inner, {
    async listTenant(tenant) {
      calls.push(tenant);
      if (state.hold) await state.hold;
      if (state.fail) throw new Error('replica unreachable');
      return (inner.listTenant as NonNullable<WebhookStore['listTenant']>)(tenant);
    },
  });
  return { store, calls, state };
}

/** What one tenant's 10 webhooks count for in `maxIndexBytes`. */
const tenantBytes = () => indexBytes(records()[0] as Webhook) * PER_TENANT;

function dispatcherOn(store: WebhookStore, maxIndexBytes = tenantBytes() * 5 + 1) {
  const d = createWebhookDispatcher({ store, maxIndexBytes, allowPrivateNetworks: true, deliveryLog: false });
  dispatchers.push(d);
  return d;
}

let n = 0;
const emitFor = (d: WebhookDispatcher, tenant: string | undefined) =>
  d.emit({ id: `e${n++}`, type: 'invoice.paid' }, tenant === undefined ? {} : { tenant });

describe('tenants read on demand (memoryStore with listTenant)', () => {
  it('keeps only the tenants emitted for recently, bounded in bytes, and reloads an evicted one', async () => {
    const { store, calls } = countingStore(records());
    const d = dispatcherOn(store);
    const before = receiver.requests.length;
    for (let t = 0; t < 20; t++) {
      const results = await emitFor(d, `t${t}`);
      expect(results).toHaveLength(PER_TENANT);
      expect(results.every((r) => r.ok)).toBe(true);
      const stats = d.webhooks.indexStats();
      expect(stats.onDemand).toBe(true);
      expect(stats.bytes).toBeLessThanOrEqual(tenantBytes() * 5 + 1);
      expect(stats.tenants).toBeLessThanOrEqual(5);
    }
    // Each cold tenant cost one listTenant call; the tenant-less webhooks were read once, on the first use.
    expect(calls).toEqual([null, ...Array.from({ length: 20 }, (_, t) => `t${t}`)]);
    // The bound holds 4 or 5 of these tenants (their ids and URLs differ in length): the most recent ones.
    const stats = d.webhooks.indexStats();
    expect(stats.tenants).toBeGreaterThanOrEqual(4);
    expect(stats.webhooks).toBe(stats.tenants * PER_TENANT + 3);
    // Isolation: every request for tenant t went to t's URLs.
    const paths = receiver.requests.slice(before).map((r) => r.url);
    expect(paths.filter((p) => p.startsWith('/t0/'))).toHaveLength(PER_TENANT);
    expect(paths.filter((p) => p.startsWith('/t0/'))).toEqual(paths.filter((p) => p.startsWith('/t0/w')));
    expect(paths.filter((p) => p.startsWith('/global/'))).toHaveLength(0);
    // Webhooks without a tenant stay indexed whatever the tenants do, and are read once.
    expect(await emitFor(d, undefined)).toHaveLength(3);

    // A warm tenant costs no read; an evicted one is read again and still reaches all of its webhooks.
    for (const t of ['t19', 't18', 't17', 't16']) await emitFor(d, t);
    expect(calls).toHaveLength(21);
    const again = await emitFor(d, 't0');
    expect(again.filter((r) => r.ok)).toHaveLength(PER_TENANT);
    expect(calls.slice(21)).toEqual(['t0']);
  });

  it('concurrent first emits for one tenant share one read', async () => {
    const { store, calls, state } = countingStore(records());
    const d = dispatcherOn(store);
    await emitFor(d, undefined);
    let release = () => {};
    state.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const emits = Array.from({ length: 5 }, () => emitFor(d, 't7'));
    await new Promise((r) => setTimeout(r, 20));
    release();
    state.hold = undefined;
    const all = await Promise.all(emits);
    expect(all.map((r) => r.length)).toEqual([10, 10, 10, 10, 10]);
    expect(calls.filter((t) => t === 't7')).toHaveLength(1);
  });

  it('a failing listTenant fails that emit with ERR_STORE_FAILED, and the next emit reads again', async () => {
    const { store, calls, state } = countingStore(records());
    const d = dispatcherOn(store);
    await emitFor(d, undefined);
    state.fail = true;
    await expect(emitFor(d, 't3')).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' });
    expect(d.webhooks.indexStats().tenants).toBe(0);
    state.fail = false;
    expect(await emitFor(d, 't3')).toHaveLength(PER_TENANT);
    expect(calls.filter((t) => t === 't3')).toHaveLength(2);
  });

  it('explain, test, list and changes work for a tenant that is not indexed', async () => {
    const { store } = countingStore(records());
    const d = dispatcherOn(store);
    await emitFor(d, 't1');
    expect(d.webhooks.indexStats().tenants).toBe(1);
    const explained = await d.explain('t150-w2', { id: 'x', type: 'invoice.paid' }, { tenant: 't150' });
    expect(explained.matched).toBe(true);
    expect((await d.webhooks.list({ tenant: 't151' })).map((w) => w.id)).toHaveLength(PER_TENANT);
    // A webhook created for a cold tenant is in the store and is found on that tenant's first emit.
    await d.webhooks.create({ url: `${receiver.url}/t152/new`, tenant: 't152', events: ['invoice.paid'] });
    expect(await emitFor(d, 't152')).toHaveLength(PER_TENANT + 1);
    // Changes to an indexed tenant apply at once.
    await d.webhooks.update('t152-w0', { on: false });
    expect(await emitFor(d, 't152')).toHaveLength(PER_TENANT);
    await d.webhooks.delete('t152-w1');
    expect(await emitFor(d, 't152')).toHaveLength(PER_TENANT - 1);
  });

  it('a store without listTenant indexes every tenant, as before', async () => {
    const d = dispatcherOn({ ...memoryStore(records()) }, 1);
    await emitFor(d, 't0');
    expect(d.webhooks.indexStats()).toMatchObject({
      onDemand: false,
      webhooks: TENANTS * PER_TENANT + 3,
      tenants: TENANTS,
    });
    expect(await emitFor(d, 't199')).toHaveLength(PER_TENANT);
  });

  it('maxIndexBytes is validated', () => {
    expect(() => createWebhookDispatcher({ maxIndexBytes: -1 })).toThrow(/maxIndexBytes/);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  createWebhookDispatcher,
  memoryStore,
  type Transport,
  type Webhook,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookStore,
} from '../src/index.js';
import { DEFAULT_STATEMENTS } from '../src/routing/policy/defaults.js';
import type { SharedValues } from '../src/routing/shared-values.js';
import { createAddressPolicy } from '../src/transport/ssrf.js';
import { compilePolicy } from '../src/webhooks/webhook.js';
import { WebhookRegistry } from '../src/webhooks/webhook-registry.js';
import { webhookRecord } from './helpers/events.js';

const open: WebhookDispatcher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close({ deadlineMs: 50 })));
});

const okTransport = (): Transport & { urls: string[] } => {
  const urls: string[] = [];
  return {
    urls,
    async send(request) {
      urls.push(request.url);
      return { status: 200 };
    },
  };
};

function dispatcherWith(options: WebhookDispatcherOptions) {
  const dispatcher = createWebhookDispatcher({ retry: 0, transport: okTransport(), ...options });
  open.push(dispatcher);
  return dispatcher;
}

const event = (id: string) => ({ id, type: 'flag-updated' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A store whose list() answers the records as they were when it was called, `delayMs` later (a slow database). */
function slowListStore(delayMs: number): WebhookStore {
  const inner = memoryStore();
  return {
    ...inner,
    async list() {
      const snapshot = await inner.list();
      await sleep(delayMs);
      return snapshot;
    },
  };
}

describe('webhook registry: changes are applied in order', () => {
  it('a refresh racing a delete cannot bring the deleted webhook back', async () => {
    const transport = okTransport();
    const dispatcher = dispatcherWith({ store: slowListStore(80), transport });
    const hook = await dispatcher.webhooks.create({ url: 'https://a.example.com/', events: ['*'] });
    const refreshing = dispatcher.webhooks.refresh();
    await sleep(10);
    await dispatcher.webhooks.delete(hook.id);
    await refreshing;
    expect(await dispatcher.emit(event('e1'))).toEqual([]);
    expect(transport.urls).toEqual([]);
  });

  it('a refresh racing an update cannot undo it', async () => {
    const transport = okTransport();
    const dispatcher = dispatcherWith({ store: slowListStore(80), transport });
    const hook = await dispatcher.webhooks.create({ url: 'https://old.example.com/', events: ['*'] });
    const refreshing = dispatcher.webhooks.refresh();
    await sleep(10);
    await dispatcher.webhooks.update(hook.id, { url: 'https://new.example.com/' });
    await refreshing;
    await dispatcher.emit(event('e1'));
    expect(transport.urls).toEqual(['https://new.example.com/']);
  });

  it('a failed refresh keeps the index it had and does not poison later calls', async () => {
    const inner = memoryStore();
    let failList = false;
    const store: WebhookStore = {
      ...inner,
      list: () => (failList ? Promise.reject(new Error('db restarting')) : inner.list()),
    };
    const transport = okTransport();
    const dispatcher = dispatcherWith({ store, transport });
    await dispatcher.webhooks.create({ url: 'https://a.example.com/', events: ['*'] });
    failList = true;
    await expect(dispatcher.webhooks.refresh()).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' });
    expect(await dispatcher.emit(event('e1'))).toHaveLength(1);
    await dispatcher.webhooks.create({ url: 'https://b.example.com/', events: ['*'] });
    expect(await dispatcher.preview((await inner.list())[0]?.id as string, event('p'))).toMatchObject({
      method: 'POST',
    });
    failList = false;
    await dispatcher.webhooks.refresh();
    expect(await dispatcher.emit(event('e2'))).toHaveLength(2);
  });

  it('the first load that failed is tried again on the next call', async () => {
    const inner = memoryStore([webhookRecord({ id: 'w1', events: ['*'] })]);
    let calls = 0;
    const store: WebhookStore = {
      ...inner,
      list: () => (++calls === 1 ? Promise.reject(new Error('not yet')) : inner.list()),
    };
    const dispatcher = dispatcherWith({ store, allowPrivateNetworks: true });
    await expect(dispatcher.emit(event('e1'))).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' });
    expect(await dispatcher.emit(event('e2'))).toHaveLength(1);
  });
});

describe('webhook registry: a store that misbehaves', () => {
  it('skips and logs records that are not webhooks; the others still receive events', async () => {
    const good = webhookRecord({ id: 'good', events: ['*'] });
    const errors: unknown[] = [];
    const store = {
      ...memoryStore(),
      list: async () => [null, 42, good, { id: 'broken', url: 'not a url' }] as unknown as Webhook[],
    };
    const dispatcher = dispatcherWith({
      store,
      allowPrivateNetworks: true,
      logger: { error: (message: string, meta: unknown) => errors.push([message, meta]) },
    });
    const results = await dispatcher.emit(event('e1'));
    expect(results.map((r) => r.webhookId)).toEqual(['good']);
    expect(errors.length).toBe(3);
    expect(JSON.stringify(errors)).toContain('broken');
  });

  it('a store whose list() never answers fails emit after storeTimeoutMs, and close() still returns at once', async () => {
    const store = { ...memoryStore(), list: () => new Promise<Webhook[]>(() => {}) };
    const dispatcher = dispatcherWith({ store, storeTimeoutMs: 100 });
    const started = performance.now();
    await expect(dispatcher.emit(event('e1'))).rejects.toMatchObject({ code: 'ERR_STORE_TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(1000);
    const closing = performance.now();
    await dispatcher.close();
    expect(performance.now() - closing).toBeLessThan(200);
  });

  it('emitAndForget cannot produce an unhandled rejection: store down, invalid event, after close', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const errors: string[] = [];
      const store = { ...memoryStore(), list: () => Promise.reject(new Error('store down')) };
      const dispatcher = dispatcherWith({
        store,
        logger: { error: (message: string) => errors.push(message) },
      });
      dispatcher.emitAndForget(event('e1'));
      dispatcher.emitAndForget(42 as never);
      await dispatcher.close();
      dispatcher.emitAndForget(event('e2'));
      await sleep(50);
      expect(unhandled).toEqual([]);
      expect(errors.filter((m) => /emitAndForget/.test(m))).toHaveLength(3);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('webhook registry: compiled policies', () => {
  const registry = () =>
    new WebhookRegistry({
      store: memoryStore(),
      addressPolicy: createAddressPolicy({}),
      defaultPolicy: compilePolicy([...DEFAULT_STATEMENTS], 'defaultStatements'),
      secretRotationMs: 0,
      storeTimeoutMs: 1000,
      maxWebhooksPerTenant: undefined,
      now: Date.now,
      onRemoved: () => {},
      onError: () => {},
    });
  const policiesHeld = (r: WebhookRegistry) =>
    (r as unknown as { shared: SharedValues }).shared.count('policy:');
  const statements = (p: string) => [
    { effect: 'allow' as const, actions: ['*'], resources: [`proj/${p}:env/*`] },
  ];

  it('shares one compiled policy between webhooks with identical statements, and releases it with the last', async () => {
    const r = registry();
    const a = await r.create({ url: 'https://a.example.com/', statements: statements('x') });
    const b = await r.create({ url: 'https://b.example.com/', statements: structuredClone(statements('x')) });
    expect(r.get(a.id)?.policy).toBe(r.get(b.id)?.policy);
    expect(policiesHeld(r)).toBe(1);
    await r.delete(a.id);
    expect(policiesHeld(r)).toBe(1);
    await r.delete(b.id);
    expect(policiesHeld(r)).toBe(0);
  });

  it('shares templates, event filters, headers and the statements record between webhooks that have the same ones', async () => {
    const r = registry();
    const shared = (r as unknown as { shared: SharedValues }).shared;
    const input = (host: string) => ({
      url: `https://${host}.example.com/`,
      events: ['flag.updated', 'flag.created'],
      statements: statements('x'),
      headers: { 'x-team': 'flags' },
      bodyTemplate: '{"type":"{{event.type}}"}',
    });
    const a = await r.create(input('a'));
    const b = await r.create(input('b'));
    const [ca, cb] = [r.get(a.id), r.get(b.id)];
    expect(ca?.template).toBeDefined();
    expect(ca?.template).toBe(cb?.template);
    expect(ca?.types).toBe(cb?.types);
    expect(ca?.headers).toBe(cb?.headers);
    expect(ca?.webhook.statements).toBe(cb?.webhook.statements);
    expect(ca?.webhook.events).toBe(cb?.webhook.events);
    expect(Object.isFrozen(ca?.webhook.statements?.[0])).toBe(true);
    expect(['policy:', 'events:', 'headers:', 'template:'].map((k) => shared.count(k))).toEqual([1, 1, 1, 1]);
    // An edit that changes one part gives that webhook its own, and keeps sharing the rest.
    await r.update(b.id, { bodyTemplate: '{"id":"{{event.id}}"}' });
    expect(r.get(b.id)?.template).not.toBe(r.get(a.id)?.template);
    expect(r.get(b.id)?.headers).toBe(r.get(a.id)?.headers);
    expect(shared.count('template:')).toBe(2);
    await r.delete(a.id);
    await r.delete(b.id);
    expect(shared.size).toBe(0);
  });

  it('holds one policy per distinct statement set in use, however often a webhook is edited', async () => {
    const r = registry();
    const hook = await r.create({ url: 'https://a.example.com/' });
    for (let i = 0; i < 2000; i++) await r.update(hook.id, { statements: statements(`p${i}`) });
    expect(policiesHeld(r)).toBe(1);
    expect(r.get(hook.id)?.policy?.allows({ action: 'x', resource: 'proj/p1999:env/y' })).toBe(true);
  });
});

describe('webhook registry: send-time lookups trust the index only while the watch is live', () => {
  /** A store that counts get() calls; `hold` makes the next get() wait until released (a slow read). */
  function countingStore() {
    const inner = memoryStore();
    const store = {
      ...inner,
      gets: 0,
      hold: undefined as Promise<void> | undefined,
      async get(id: string) {
        store.gets++;
        if (store.hold) await store.hold;
        return inner.get(id);
      },
    };
    return store;
  }
  const registryOn = (store: WebhookStore) =>
    new WebhookRegistry({
      store,
      addressPolicy: createAddressPolicy({ allowPrivateNetworks: true }),
      defaultPolicy: compilePolicy([...DEFAULT_STATEMENTS], 'defaultStatements'),
      secretRotationMs: 0,
      storeTimeoutMs: 1000,
      maxWebhooksPerTenant: undefined,
      now: Date.now,
      onRemoved: () => {},
      onError: () => {},
    });
  /** What the store's watch does on each connection: status(true), then "re-read everything". */
  const connect = (r: WebhookRegistry) => {
    r.watchStatus(true);
    return r.invalidate();
  };

  it('reads the store until the watch is in place and reloaded, then answers from the index', async () => {
    const store = countingStore();
    const r = registryOn(store);
    const hook = await r.create({ url: 'https://a.example.com/' });
    expect((await r.lookupAtSendTime(hook.id))?.webhook.url).toBe('https://a.example.com/');
    expect(store.gets).toBe(1);
    r.watchStatus(true);
    // In place, but not yet reloaded: notifications sent before LISTEN may have been missed.
    await r.lookupAtSendTime(hook.id);
    expect(store.gets).toBe(2);
    await r.invalidate();
    expect(r.trustsIndex).toBe(true);
    expect((await r.lookupAtSendTime(hook.id))?.webhook.url).toBe('https://a.example.com/');
    expect(store.gets).toBe(2);
  });

  it('confirms in the store every answer that would skip: not in the index, or switched off there', async () => {
    const store = countingStore();
    const r = registryOn(store);
    const off = await r.create({ url: 'https://off.example.com/', on: false });
    await connect(r);
    // Created (or switched on) by another process a moment ago: its notification has not arrived yet.
    await store.create(webhookRecord({ id: 'fresh', url: 'https://fresh.example.com/' }));
    await store.update({ ...(await store.get(off.id)), on: true } as Webhook);
    store.gets = 0;
    expect((await r.lookupAtSendTime('fresh'))?.webhook.url).toBe('https://fresh.example.com/');
    expect((await r.lookupAtSendTime(off.id))?.webhook.on).toBe(true);
    expect(await r.lookupAtSendTime('never-was')).toBeUndefined();
    expect(store.gets).toBe(3);
  });

  it('reads the store again from the moment the watch is lost, and after a reconnect only once reloaded', async () => {
    const store = countingStore();
    const r = registryOn(store);
    const hook = await r.create({ url: 'https://a.example.com/' });
    await connect(r);
    r.watchStatus(false);
    // Deleted elsewhere while the connection was down: no notification will ever say so.
    await store.delete(hook.id);
    store.gets = 0;
    expect(await r.lookupAtSendTime(hook.id)).toBeUndefined();
    expect(store.gets).toBe(1);
    await connect(r);
    expect(r.get(hook.id)).toBeUndefined();
    expect(await r.lookupAtSendTime(hook.id)).toBeUndefined();
  });

  it('a watch lost during its reload is not trusted when the reload ends', async () => {
    const store = slowListStore(50);
    const r = registryOn(store);
    await r.create({ url: 'https://a.example.com/' });
    const reloading = connect(r);
    r.watchStatus(false);
    await reloading;
    expect(r.trustsIndex).toBe(false);
  });

  it('while a change is being applied, lookups read the store instead of the copy about to be replaced', async () => {
    const store = countingStore();
    const r = registryOn(store);
    const hook = await r.create({ url: 'https://a.example.com/' });
    await connect(r);
    let release!: () => void;
    store.hold = new Promise((resolve) => {
      release = resolve;
    });
    // The notification of a switch-off arrived; its re-read is slow.
    await store.update({ ...(webhookRecord({ id: hook.id }) as Webhook), ...hook, on: false });
    const applying = r.invalidate(hook.id);
    const during = r.lookupAtSendTime(hook.id);
    release();
    store.hold = undefined;
    expect((await during)?.webhook.on).toBe(false);
    await applying;
    expect((await r.lookupAtSendTime(hook.id))?.webhook.on).toBe(false);
  });
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CircuitStore, SharedCircuit } from '../src/extend.js';
import {
  createWebhookDispatcher,
  memoryStore,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookStore,
} from '../src/index.js';
import { createWebhookWorker, migrate, pgBossQueue, postgresStore } from '../src/postgres/index.js';
import { ldEvent } from './helpers/events.js';
import { startReceiver } from './helpers/receiver.js';
import { replicaStorePairs, sleep, until, useReplicaDatabases } from './helpers/replicas.js';

const db = useReplicaDatabases();
const { cleanups } = db;
const pairs = replicaStorePairs(db);

/** Two stores on one backing store: what two processes (replicas, workers) would each open. */
interface Backend {
  name: string;
  pair(): Promise<[WebhookStore, WebhookStore]>;
}

/** The smallest store that shares circuits between two dispatchers of this process (a reference, not a mock). */
function sharedInMemory(): [WebhookStore, WebhookStore] {
  const webhooks = memoryStore();
  const circuits = new Map<string, SharedCircuit>();
  const listeners = new Set<(id?: string, circuit?: SharedCircuit) => void>();
  const circuitStore: CircuitStore = {
    async list() {
      return Object.fromEntries(circuits);
    },
    async save(id, circuit) {
      if (circuit === undefined) circuits.delete(id);
      else circuits.set(id, circuit);
      for (const listener of listeners) setTimeout(() => listener(id, circuit), 5);
    },
    watch(onChange) {
      listeners.add(onChange);
      setTimeout(() => onChange(), 0);
      return () => void listeners.delete(onChange);
    },
  };
  const store = (): WebhookStore => ({
    get: (id) => webhooks.get(id),
    list: () => webhooks.list(),
    create: (w) => webhooks.create(w),
    update: (w) => webhooks.update(w),
    delete: (id) => webhooks.delete(id),
    circuits: circuitStore,
  });
  return [store(), store()];
}

const backends: Backend[] = [
  { name: 'a store of this process', pair: async () => sharedInMemory() },
  { name: 'postgresStore', pair: () => pairs.postgres() },
  { name: 'redisStore', pair: () => pairs.redis() },
];

describe.each(backends)('circuits shared through $name', (backend) => {
  async function twoProcesses(options: WebhookDispatcherOptions = {}) {
    let answer = 500;
    const receiver = await startReceiver((request) =>
      request.headers['x-from'] === 'a' || request.headers['x-from'] === 'b' ? answer : 500,
    );
    cleanups.push(() => receiver.close());
    const [storeA, storeB] = await backend.pair();
    const make = (store: WebhookStore, from: string): WebhookDispatcher => {
      const dispatcher = createWebhookDispatcher({
        store,
        retry: 0,
        allowPrivateNetworks: true,
        health: { failureThreshold: 2, probeDelayMs: 1500 },
        // Which process sent a request, for the receiver's count.
        instrumentation: { onAttempt: () => ({ headers: { 'x-from': from }, end() {} }) },
        ...options,
      });
      cleanups.push(() => dispatcher.close({ deadlineMs: 500 }));
      return dispatcher;
    };
    const a = make(storeA, 'a');
    const b = make(storeB, 'b');
    const hook = await a.webhooks.create({ url: receiver.url, events: ['*'] });
    // B follows A's store: it has the webhook once its watch (or first load) says so.
    await until(
      () =>
        b.explain(hook.id, ldEvent()).then(
          () => true,
          () => false,
        ),
      'B to see the webhook',
    );
    const from = (who: string) => receiver.requests.filter((r) => r.headers['x-from'] === who).length;
    const circuitOf = async (d: WebhookDispatcher) =>
      (await d.explain(hook.id, ldEvent())).reasons.find((r) => r.check === 'health')?.message ?? 'closed';
    return {
      a,
      b,
      hook,
      from,
      circuitOf,
      answer: (status: number) => {
        answer = status;
      },
    };
  }

  it('a circuit opened in one process holds the other back until the probe; a success anywhere closes it everywhere', async () => {
    const t = await twoProcesses();
    // A finds the receiver down: two failures open the circuit.
    for (let i = 0; i < 2; i++) expect((await t.a.emit(ldEvent()))[0]?.outcome).toBe('failed');
    const openedAt = Date.now();
    expect(await t.circuitOf(t.a)).toMatch(/circuit is open/);
    // B never delivered to it, and learns it from the store.
    await until(async () => /circuit is open/.test(await t.circuitOf(t.b)), 'B to adopt the open circuit');
    expect(t.from('b')).toBe(0);

    t.answer(200);
    const pending = t.b.emit(ldEvent());
    await sleep(400);
    // Held in B's lane: B does not probe a receiver A already found down before the probe time.
    expect(t.from('b')).toBe(0);
    const [result] = await pending;
    expect(result?.outcome).toBe('delivered');
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(1400);
    expect(t.from('b')).toBe(1);

    // B's successful probe closes A's circuit too: A delivers at once again.
    await until(async () => (await t.circuitOf(t.a)) === 'closed', 'A to adopt the closed circuit');
    const started = Date.now();
    expect((await t.a.emit(ldEvent()))[0]?.outcome).toBe('delivered');
    expect(Date.now() - started).toBeLessThan(1000);
  }, 20_000);

  it('auto-disable counts from the first failure any process saw', async () => {
    const t = await twoProcesses({
      health: { failureThreshold: 2, probeDelayMs: 300, disableAfterMs: 1000 },
    });
    for (let i = 0; i < 2; i++) await t.a.emit(ldEvent());
    await until(async () => /circuit is open/.test(await t.circuitOf(t.b)), 'B to adopt the open circuit');
    await sleep(1100);
    // B's first failure of its own is already more than disableAfterMs after A's first one: switched off.
    const [result] = await t.b.emit(ldEvent());
    expect(result?.outcome).toBe('failed');
    await until(
      async () => (await t.b.webhooks.get(t.hook.id))?.disabled?.reason === 'failing',
      'B to switch the webhook off',
    );
    expect((await t.a.webhooks.get(t.hook.id))?.on).toBe(false);
  }, 20_000);

  it('without health, nothing is shared', async () => {
    const t = await twoProcesses({ health: false });
    for (let i = 0; i < 3; i++) await t.a.emit(ldEvent());
    t.answer(200);
    const started = Date.now();
    expect((await t.b.emit(ldEvent()))[0]?.outcome).toBe('delivered');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('the stores keep circuits of webhooks that exist', () => {
  const circuit = { probeAt: Date.now() + 60_000, probeDelayMs: 5000, failingSince: Date.now() };

  // The stores of other processes: postgresStore and redisStore.
  it.each(backends.slice(1))(
    '$name: a circuit goes with its webhook, and one for a deleted webhook is not kept',
    async (backend) => {
      const [store] = await backend.pair();
      const dispatcher = createWebhookDispatcher({ store });
      cleanups.push(() => dispatcher.close());
      const hook = await dispatcher.webhooks.create({ url: 'https://example.com/hook' });
      await store.circuits?.save(hook.id, circuit);
      expect(await store.circuits?.list()).toEqual({ [hook.id]: circuit });
      await dispatcher.webhooks.delete(hook.id);
      expect(await store.circuits?.list()).toEqual({});
      await store.circuits?.save('never-existed', circuit);
      expect(await store.circuits?.list()).toEqual({});
    },
  );
});

describe('a hostile circuit store', () => {
  it('throwing, hanging or answering garbage costs nothing but a logged error: deliveries flow', async () => {
    const receiver = await startReceiver(() => 500);
    cleanups.push(() => receiver.close());
    const errors: string[] = [];
    const webhooks = memoryStore();
    const store: WebhookStore = {
      get: (id) => webhooks.get(id),
      list: () => webhooks.list(),
      create: (w) => webhooks.create(w),
      update: (w) => webhooks.update(w),
      delete: (id) => webhooks.delete(id),
      circuits: {
        list: async () => ({ x: { probeAt: 'soon' }, y: null }) as never,
        save: () => new Promise(() => {}),
        watch(onChange) {
          setTimeout(() => {
            onChange('x', { probeAt: Number.NaN } as never);
            onChange();
          }, 0);
          throw new Error('no watching today');
        },
      },
    };
    const dispatcher = createWebhookDispatcher({
      store,
      retry: 0,
      allowPrivateNetworks: true,
      storeTimeoutMs: 200,
      health: { failureThreshold: 1, probeDelayMs: 100 },
      logger: {
        error: (message: string, meta?: unknown) => errors.push(`${message} ${JSON.stringify(meta)}`),
        warn() {},
        info() {},
        debug() {},
      },
    });
    cleanups.push(() => dispatcher.close({ deadlineMs: 200 }));
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    for (let i = 0; i < 3; i++) expect((await dispatcher.emit(ldEvent()))[0]?.outcome).toBe('failed');
    expect(receiver.requests.length).toBe(3);
    await until(() => errors.some((e) => /did not answer within 200 ms/.test(e)), 'the save deadline');
    expect(errors.some((e) => /circuits.watch\(\) threw/.test(e))).toBe(true);
    expect(errors.some((e) => /ignored an invalid circuit record/.test(e))).toBe(true);
    expect(hook.on).toBe(true);
  });
});

describe('circuits in pg-boss workers', () => {
  it("one worker's open circuit holds the emitter and a worker started later, from the first job on", async () => {
    const receiver = await startReceiver(() => 503);
    cleanups.push(() => receiver.close());
    const table = `circuits_${randomUUID().slice(0, 8)}`;
    const queueName = `q-${randomUUID().slice(0, 8)}`;
    await migrate(db.pool, { table });
    cleanups.push(() => db.pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}`));
    const health = { failureThreshold: 2, probeDelayMs: 60_000 };
    const schema = 'wd_test_circuits';
    const emitter = createWebhookDispatcher({
      store: postgresStore({ pool: db.pool, table }),
      queue: pgBossQueue({ pool: db.pool, schema, queueName }),
      allowPrivateNetworks: true,
      health,
    });
    cleanups.push(() => emitter.close());
    const hook = await emitter.webhooks.create({ url: receiver.url });
    const worker = (name: string) => {
      const results: string[] = [];
      const w = createWebhookWorker({
        pool: db.pool,
        schema,
        queueName,
        store: postgresStore({ pool: db.pool, table }),
        allowPrivateNetworks: true,
        retry: 0,
        health,
        pollingIntervalMs: 100,
        deferAfterMs: 200,
        onDelivery: (result) => results.push(`${name}:${result.outcome}`),
      });
      cleanups.push(() => w.close({ deadlineMs: 200 }));
      return { w, results };
    };
    const first = worker('first');
    await first.w.ready();
    await emitter.emit(ldEvent());
    await emitter.emit(ldEvent());
    await until(() => receiver.requests.length === 2, 'two failed attempts', 10_000);
    // The emitter never sent anything, and knows the receiver is down.
    await until(
      async () => /circuit is open/.test(JSON.stringify(await emitter.explain(hook.id, ldEvent()))),
      'the emitter to adopt the open circuit',
    );
    await first.w.close();

    // A worker that starts now takes the open circuit from the store: its first job waits, nothing is sent.
    const second = worker('second');
    await second.w.ready();
    await emitter.emit(ldEvent());
    await sleep(1500);
    expect(receiver.requests.length).toBe(2);
    expect(second.results).toEqual([]);
    expect(JSON.stringify(await second.w.dispatcher.explain(hook.id, ldEvent()))).toMatch(/circuit is open/);
  }, 30_000);
});

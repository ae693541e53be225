// The cases both durable queues share, run over each backend (pg-boss on Postgres, BullMQ on Redis). What only
// one backend has (transactions, pg-boss races, BullMQ's lock recovery, Redis memory) stays in its own file:
// test/postgres-queue.test.ts, test/bullmq.test.ts.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryResult, WebhookEvent } from '../src/core/types.js';
import { answerAllButWorkerA, killWorkerHoldingJobs, thrown, until } from './helpers/durable.js';
import { bullmqBackend, type DurableBackend, postgresBackend } from './helpers/durable-backends.js';
import { ldEvent } from './helpers/events.js';
import { attemptOnceEach, deliverHostileEvents, sharedJobs } from './helpers/fan-out.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each<[string, () => DurableBackend]>([
  ['postgres', postgresBackend],
  ['bullmq', bullmqBackend],
])('durable queue on %s', (_name, make) => {
  const backend = make();
  beforeAll(() => backend.start(), 60_000);
  afterAll(() => backend.stop());
  const world = (respond?: Parameters<DurableBackend['world']>[1]) => backend.world(cleanups, respond);

  describe('emit', () => {
    it('persists one job per matched webhook, keyed by the webhook-id, and resolves with queued results', async () => {
      const w = await world();
      const a = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` });
      const b = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` });
      const event = ldEvent();

      const results = await w.dispatcher.emit(event);

      expect(results.map((r) => [r.webhookId, r.outcome, r.ok, r.attempts])).toEqual([
        [a.id, 'queued', false, 0],
        [b.id, 'queued', false, 0],
      ]);
      const jobs = await w.jobs();
      expect(jobs.map((j) => j.id).sort()).toEqual(results.map((r) => backend.jobIdOf(r.deliveryId)).sort());
      // The two jobs refer to the event's body, stored once.
      const eventBodyRef = jobs[0]?.data.eventBodyRef as string;
      expect(jobs.find((j) => j.id === backend.jobIdOf(results[0]?.deliveryId as string))?.data).toEqual({
        deliveryId: results[0]?.deliveryId,
        webhookId: a.id,
        eventId: event._id,
        eventBodyRef,
      });
      expect(await w.storedBody(eventBodyRef)).toBe(JSON.stringify(event));
      expect(jobs.map((j) => j.state)).toEqual(['waiting', 'waiting']);
      expect(w.receiver.requests).toHaveLength(0);
    });

    it('queues the jobs of an emit called just before close(), also in a fresh emitter still loading the store', async () => {
      const w = await world();
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/a` });
      await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/b` });
      const warm = w.dispatcher.emit(ldEvent('production', { _id: 'warm' }));
      await w.dispatcher.close();
      // A fresh process: its first emit waits for the store's first load when close() is called.
      const fresh = w.freshEmitter();
      const cold = fresh.emit(ldEvent('production', { _id: 'cold' }));
      await fresh.close();

      const results = [...(await warm), ...(await cold)];
      expect(results.map((r) => r.outcome)).toEqual(['queued', 'queued', 'queued', 'queued']);
      const jobs = await w.jobs();
      expect(jobs.map((j) => j.id).sort()).toEqual(results.map((r) => backend.jobIdOf(r.deliveryId)).sort());
      expect(new Set(jobs.map((j) => j.state))).toEqual(new Set(['waiting']));
    });
  });

  describe('the event body stored once per emit', () => {
    it('carries NUL and lone surrogates in event data faithfully, in a fan-out and in a job of its own', async () => {
      const w = await world();
      await deliverHostileEvents(w, () => w.spawnWorker('one'));
    });

    it("gives a worker each fan-out job with its event read back, and keeps a retry's reference to the same body", async () => {
      const w = await world();
      const event = ldEvent() as WebhookEvent & { _id: string };
      const queue = w.workerQueue();
      cleanups.push(() => queue.close());
      await attemptOnceEach(queue, sharedJobs(event, ['hook1', 'hook2']));

      const retries = async () => (await w.jobs()).filter((j) => j.data.attempt === 1);
      await until(async () => (await retries()).length === 2, 'the retries');
      const retried = await retries();
      const ref = retried[0]?.data.eventBodyRef as string;
      expect(retried.map((j) => [j.state, j.data.eventBodyRef, j.data.eventBody])).toEqual([
        [backend.retryState, ref, undefined],
        [backend.retryState, ref, undefined],
      ]);
      expect(await w.storedBody(ref)).toBe(JSON.stringify(event));
    });
  });

  describe('createWebhookWorker', () => {
    it('honours at send time a webhook switched off, changed or deleted after enqueue', async () => {
      const w = await world();
      const off = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/off` });
      const changed = await w.dispatcher.webhooks.create({
        url: `${w.receiver.url}/changed`,
        bodyTemplate: 'v1',
      });
      const deleted = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/deleted` });
      const kept = await w.dispatcher.webhooks.create({ url: `${w.receiver.url}/kept` });
      const queued = await w.dispatcher.emit(ldEvent());
      expect(queued.map((r) => r.outcome)).toEqual(['queued', 'queued', 'queued', 'queued']);

      await w.dispatcher.webhooks.update(off.id, { on: false });
      await w.dispatcher.webhooks.update(changed.id, {
        bodyTemplate: 'v2 {{event.kind}}',
        contentType: 'text/plain',
      });
      await w.dispatcher.webhooks.delete(deleted.id);
      const worker = await w.spawnWorker('one');
      await worker.waitForResults(4);

      const byId = new Map(worker.results.map((r) => [r.webhookId, r]));
      expect(byId.get(off.id)).toMatchObject({ outcome: 'skipped', reason: 'the webhook is switched off' });
      expect(byId.get(deleted.id)).toMatchObject({ outcome: 'skipped', attempts: 0 });
      expect(byId.get(changed.id)).toMatchObject({ outcome: 'delivered' });
      expect(byId.get(kept.id)).toMatchObject({ outcome: 'delivered' });
      const sent = w.receiver.requests.map((r) => [r.url, r.body, r.headers['content-type']]);
      expect(sent.sort()).toEqual([
        ['/changed', 'v2 flag', 'text/plain'],
        ['/kept', expect.any(String), 'application/json'],
      ]);
    });

    it('runs in this process too: createWebhookWorker delivers what its own dispatcher emits, and test() at once', async () => {
      const w = await world();
      const hook = await w.dispatcher.webhooks.create({ url: w.receiver.url });
      const seen: DeliveryResult[] = [];
      const worker = await w.inProcessWorker(seen);

      const [queued] = await worker.dispatcher.emit(ldEvent());
      await until(() => seen.length === 1, 'the delivery');
      expect(queued).toMatchObject({ webhookId: hook.id, outcome: 'queued' });
      expect(seen[0]).toMatchObject({ deliveryId: queued?.deliveryId, outcome: 'delivered', ok: true });

      const tested = await worker.dispatcher.test(hook.id);
      expect(tested).toMatchObject({ outcome: 'delivered', attempts: 1 });
      expect(w.receiver.requests).toHaveLength(2);
      expect(await w.jobs()).toHaveLength(1);
    });
  });

  describe('close({ deadlineMs }) of a worker', () => {
    it('leaves a delivery cut off by close({ deadlineMs }) in the queue, and another worker delivers it', async () => {
      let answer = false;
      const w = await world((_request, _n, res) => {
        if (!answer) return 'handled';
        res.statusCode = 200;
        res.end('ok');
        return 'handled';
      });
      await w.dispatcher.webhooks.create({ url: w.receiver.url });
      const first = w.quickWorker();
      await first.ready();
      const [queued] = await w.dispatcher.emit(ldEvent());
      await w.receiver.waitFor(1);

      const closing = Date.now();
      await first.close({ deadlineMs: 100 });
      expect(Date.now() - closing).toBeLessThan(3000);
      const [job] = await w.jobs();
      expect(backend.interruptedStates).toContain(job?.state);

      answer = true;
      const seen: DeliveryResult[] = [];
      const second = w.quickWorker((result) => seen.push(result));
      cleanups.push(() => second.close());
      await until(() => seen.length === 1, 'the second worker to deliver');
      expect(seen[0]).toMatchObject({ deliveryId: queued?.deliveryId, outcome: 'delivered' });
      expect(w.receiver.requests.map((r) => header(r.headers['webhook-id']))).toEqual([
        queued?.deliveryId,
        queued?.deliveryId,
      ]);
    });
  });

  describe('a SIGKILLed worker, all options at their defaults', () => {
    it('holding deliveries, retries and lane deferrals: another worker delivers all of them within 60 s', async () => {
      const refused = new Set<unknown>();
      const w = await world(answerAllButWorkerA(refused));
      // An emitter with the dispatcher's defaults too.
      const emitter = w.freshEmitter();
      cleanups.push(() => emitter.close());
      const run = await killWorkerHoldingJobs({
        emitter,
        receiver: w.receiver,
        refused,
        fork: (name) => w.spawnWorker(name, { defaults: true }),
        deferred: () => w.hasDeferred(),
      });

      expect(run.queued).toEqual(run.queued.map(() => 'queued'));
      expect(run.reportedByA).toEqual([]);
      expect(run.resumedAfterMs).toBeLessThan(60_000);
      expect(run.deliveredByB).toEqual(run.expected);
    }, 150_000);
  });

  describe('one setup for every emitter and worker (postgresWebhooks, bullmqWebhooks)', () => {
    it("a worker records to the shared delivery log: the emitter's deliveries.get() and list() find what it delivered", async () => {
      const w = await world((_request, n) => (n === 0 ? 503 : 200));
      const webhooks = await w.setup({
        allowPrivateNetworks: true,
        retry: { retries: 1, delayMs: 50, jitter: 0 },
      });
      const emitter = webhooks.dispatcher();
      cleanups.push(() => emitter.close());
      const seen: DeliveryResult[] = [];
      const worker = webhooks.worker({ onDelivery: (result) => seen.push(result) });
      cleanups.push(() => worker.close({ deadlineMs: 1000 }));
      const hook = await emitter.webhooks.create({ url: w.receiver.url });

      const [queued] = await emitter.emit(ldEvent());
      await until(() => seen.length === 1, 'the worker to deliver');

      // The retry policy is the setup's: one retry after the 503.
      expect(queued).toMatchObject({ outcome: 'queued' });
      expect(seen[0]).toMatchObject({ deliveryId: queued?.deliveryId, outcome: 'delivered', attempts: 2 });
      const record = await emitter.deliveries.get(queued?.deliveryId as string);
      expect(record).toMatchObject({
        deliveryId: queued?.deliveryId,
        webhookId: hook.id,
        status: 'delivered',
      });
      expect(record?.attempts.map((attempt) => attempt.status)).toEqual([200, 503]);
      const page = await emitter.deliveries.list(hook.id);
      expect(page.items.map((d) => d.deliveryId)).toEqual([queued?.deliveryId]);
    }, 30_000);

    it('refuses a per-process override of what the setup shares, naming the option', async () => {
      const webhooks = await (await world()).setup({});
      for (const key of ['store', 'queue', 'deliveryLog', 'retry', 'timeoutMs', 'storeTimeoutMs']) {
        expect(thrown(() => webhooks.dispatcher({ [key]: undefined } as never))).toMatchObject({
          name: 'OptionsError',
          field: key,
        });
        expect(thrown(() => webhooks.worker({ [key]: undefined } as never))).toMatchObject({ field: key });
      }
      // The types refuse them too.
      // @ts-expect-error `retry` is the setup's, not one process's
      expect(() => webhooks.worker({ retry: 2 })).toThrow(/`retry` is shared by every emitter and worker/);
    });
  });

  describe('packaging', () => {
    it('keeps the backend’s packages out of the core entry', async () => {
      const result = await build({
        entryPoints: [`${ROOT}src/index.ts`],
        bundle: true,
        packages: 'external',
        platform: 'node',
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'error',
      });
      const imports = Object.values(result.metafile.outputs).flatMap((output) =>
        output.imports.map((i) => i.path),
      );
      expect(imports).toContain('undici');
      expect(imports.filter((path) => backend.peers.test(path))).toEqual([]);
    });
  });
});

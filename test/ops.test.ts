import { describe, expect, it } from 'vitest';
import { type DeliveryLog, type DeliveryRecord, memoryDeliveryLog, WebhookError } from '../src/index.js';
import {
  emitToAll,
  memoryLog,
  type OpsLogFactory,
  postgresLog,
  redisLog,
  startFleet,
  until,
} from './helpers/ops.js';
import { setup } from './helpers/setup.js';

/** Every item of a listing, following `nextCursor` page by page. */
async function everyPage(
  read: (cursor: string | undefined) => Promise<{ items: DeliveryRecord[]; nextCursor?: string }>,
): Promise<DeliveryRecord[]> {
  const items: DeliveryRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await read(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    expect(++pages).toBeLessThan(100);
  } while (cursor);
  return items;
}

function operatorSuite(name: string, makeLog: OpsLogFactory) {
  describe(`${name}: failed deliveries across webhooks`, () => {
    it('lists the failed deliveries of every webhook, newest first, paged, scoped by tenant', async () => {
      const fleet = await startFleet(await makeLog());
      const since = Date.now() - 1;
      await emitToAll(fleet, 2);
      const { dispatcher, hooks } = fleet;
      // Postgres records off the delivery path: wait until all eight failures are in the log.
      await until(async () => (await dispatcher.deliveries.list({ status: 'failed' })).items.length === 8);

      const all = await everyPage((cursor) =>
        dispatcher.deliveries.list({ status: 'failed', since, limit: 3, ...(cursor ? { cursor } : {}) }),
      );
      expect(all).toHaveLength(8);
      const created = all.map((r) => Date.parse(r.createdAt));
      expect(created).toEqual([...created].sort((a, b) => b - a));
      expect(new Set(all.map((r) => r.deliveryId)).size).toBe(8);

      const acme = await everyPage((cursor) =>
        dispatcher.deliveries.list({
          status: 'failed',
          tenant: 'acme',
          limit: 2,
          ...(cursor ? { cursor } : {}),
        }),
      );
      expect(acme.map((r) => r.webhookId).sort()).toEqual(
        [hooks.a1.id, hooks.a1.id, hooks.a2.id, hooks.a2.id].sort(),
      );
      expect(acme.every((r) => r.tenant === 'acme')).toBe(true);
      const globex = await dispatcher.deliveries.list({ tenant: 'globex' });
      expect(globex.items.map((r) => r.webhookId)).toEqual([hooks.g1.id, hooks.g1.id]);
      const none = await everyPage((cursor) =>
        dispatcher.deliveries.list({ tenant: null, limit: 2, ...(cursor ? { cursor } : {}) }),
      );
      expect(none.map((r) => r.webhookId)).toEqual([hooks.n1.id, hooks.n1.id]);
      const one = await dispatcher.deliveries.list({ webhookId: hooks.a2.id, tenant: 'acme' });
      expect(one.items.map((r) => r.webhookId)).toEqual([hooks.a2.id, hooks.a2.id]);
      expect((await dispatcher.deliveries.list({ webhookId: hooks.a2.id, tenant: 'globex' })).items).toEqual(
        [],
      );
      // The per-webhook form keeps working.
      expect((await dispatcher.deliveries.list(hooks.g1.id)).items.map((r) => r.deliveryId)).toEqual(
        globex.items.map((r) => r.deliveryId),
      );
    });

    it("recovers one tenant's failed deliveries of every webhook in one call, and no other tenant's", async () => {
      const fleet = await startFleet(await makeLog());
      const since = Date.now() - 1;
      await emitToAll(fleet, 2);
      const { dispatcher, hooks } = fleet;
      await until(async () => (await dispatcher.deliveries.list({ status: 'failed' })).items.length === 8);
      const before = fleet.receiver.requests.length;
      fleet.setUp(true);

      expect(await dispatcher.deliveries.recover({ since, tenant: 'acme' })).toBe(4);
      await fleet.receiver.waitFor(before + 4);
      await until(
        async () =>
          (await dispatcher.deliveries.list({ status: 'failed', tenant: 'acme' })).items.length === 0,
      );
      expect(fleet.seen('a1')).toHaveLength(4);
      expect(fleet.seen('a2')).toHaveLength(4);
      expect(fleet.seen('g1')).toHaveLength(2);
      expect(fleet.seen('n1')).toHaveLength(2);
      // The re-sends are the same deliveries: the same webhook-id headers as the first attempts.
      const ids = (path: 'a1' | 'a2') => fleet.seen(path).map((r) => r.headers['webhook-id']);
      expect(new Set(ids('a1')).size).toBe(2);
      expect(new Set(ids('a2')).size).toBe(2);
      const failed = await dispatcher.deliveries.list({ status: 'failed' });
      expect(failed.items.map((r) => r.webhookId).sort()).toEqual(
        [hooks.g1.id, hooks.g1.id, hooks.n1.id, hooks.n1.id].sort(),
      );

      // The webhooks of no tenant alone, then everything left.
      expect(await dispatcher.deliveries.recover({ since, tenant: null })).toBe(2);
      await until(() => fleet.seen('n1').length === 4);
      expect(fleet.seen('g1')).toHaveLength(2);
      await until(async () => (await dispatcher.deliveries.list({ status: 'failed' })).items.length === 2);
      expect(await dispatcher.deliveries.recover({ since })).toBe(2);
      await until(() => fleet.seen('g1').length === 4);
      await until(async () => (await dispatcher.deliveries.list({ status: 'failed' })).items.length === 0);
      expect(await dispatcher.deliveries.recover({ since })).toBe(0);
    });

    it('skips webhooks deleted or switched off, and deliveries outside the window', async () => {
      const fleet = await startFleet(await makeLog());
      const since = Date.now() - 1;
      await emitToAll(fleet, 1);
      const { dispatcher, hooks } = fleet;
      await until(async () => (await dispatcher.deliveries.list({ status: 'failed' })).items.length === 4);
      const later = Date.now() + 1;
      fleet.setUp(true);
      expect(await dispatcher.deliveries.recover({ since: later })).toBe(0);
      expect(await dispatcher.deliveries.recover({ since, until: since })).toBe(0);
      await dispatcher.webhooks.delete(hooks.a1.id);
      await dispatcher.webhooks.update(hooks.g1.id, { on: false });
      const before = fleet.receiver.requests.length;
      expect(await dispatcher.deliveries.recover({ since })).toBe(2);
      await fleet.receiver.waitFor(before + 2);
      expect(fleet.seen('a1')).toHaveLength(1);
      expect(fleet.seen('g1')).toHaveLength(1);
      expect(fleet.seen('a2')).toHaveLength(2);
      expect(fleet.seen('n1')).toHaveLength(2);
      // One webhook's, through the query form.
      await dispatcher.webhooks.update(hooks.g1.id, { on: true });
      expect(await dispatcher.deliveries.recover({ since, webhookId: hooks.g1.id, tenant: 'acme' })).toBe(0);
      expect(await dispatcher.deliveries.recover({ since, webhookId: hooks.g1.id })).toBe(1);
      await until(() => fleet.seen('g1').length === 2);
    });

    it('answers stats that match what the receiver saw', async () => {
      const fleet = await startFleet(await makeLog(), 80);
      const { dispatcher, hooks } = fleet;
      await emitToAll(fleet, 2);
      fleet.setUp(true);
      await emitToAll(fleet, 3);
      await until(async () => {
        const s = await dispatcher.deliveries.stats(hooks.a2.id);
        return s.delivered + s.failed === 5;
      });
      const seen = fleet.seen('a2');
      expect(seen).toHaveLength(5);
      const stats = await dispatcher.deliveries.stats(hooks.a2.id);
      expect(stats).toMatchObject({ delivered: 3, failed: 2, successRate: 0.6 });
      // Every answer of a2 took at least slowMs: so do both percentiles.
      expect(stats.p50Ms).toBeGreaterThanOrEqual(fleet.slowMs - 5);
      expect(stats.p95Ms).toBeGreaterThanOrEqual(stats.p50Ms as number);
      expect(stats.p95Ms).toBeLessThan(5000);
      expect(Date.parse(stats.lastDeliveredAt as string)).toBeGreaterThan(
        Date.parse(stats.lastFailedAt as string),
      );
      const since = Date.parse(stats.lastFailedAt as string) + 1;
      expect(await dispatcher.deliveries.stats(hooks.a2.id, { since })).toMatchObject({
        delivered: 3,
        failed: 0,
        successRate: 1,
        lastFailedAt: null,
      });
      expect(await dispatcher.deliveries.stats(hooks.g1.id)).toMatchObject({ delivered: 3, failed: 2 });
      expect(await dispatcher.deliveries.stats('no-such-webhook')).toMatchObject({
        delivered: 0,
        successRate: null,
      });
    });
  });
}

operatorSuite('memoryDeliveryLog', memoryLog);
operatorSuite('postgresDeliveryLog', postgresLog);
operatorSuite('redisDeliveryLog', redisLog);

describe('a delivery log without the optional reads', () => {
  /** A log with only the required methods: a custom log written before search/findFailed/webhookStats. */
  function plainLog(): DeliveryLog {
    const inner = memoryDeliveryLog();
    return {
      record: (attempt) => inner.record(attempt),
      list: (webhookId, query) => inner.list(webhookId, query),
      get: (deliveryId) => inner.get(deliveryId),
    };
  }

  it('refuses list across webhooks, recover and stats with ERR_UNSUPPORTED naming the method', async () => {
    const { receiver, dispatcher } = await setup(() => 500, {
      retry: 0,
      health: false,
      deliveryLog: plainLog(),
    });
    const hook = await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const [result] = await dispatcher.emit({ id: 'plain-1', type: 't' });
    expect(result?.ok).toBe(false);
    const refused: [Promise<unknown>, string][] = [
      [dispatcher.deliveries.list(), 'search'],
      [dispatcher.deliveries.list({ status: 'failed', tenant: 'acme' }), 'search'],
      [dispatcher.deliveries.recover({ since: 0 }), 'findFailed'],
      [dispatcher.deliveries.stats(hook.id), 'webhookStats'],
    ];
    for (const [call, method] of refused) {
      const error = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WebhookError);
      expect(error).toMatchObject({
        code: 'ERR_UNSUPPORTED',
        message: expect.stringContaining(`${method}()`),
      });
    }
    // What every log has keeps working: one webhook's list, also through the query form, and its recover.
    expect((await dispatcher.deliveries.list(hook.id)).items).toHaveLength(1);
    expect((await dispatcher.deliveries.list({ webhookId: hook.id })).items).toHaveLength(1);
    expect(await dispatcher.deliveries.recover(hook.id, { since: 0 })).toBe(1);
  });

  it('bounds recover over a log that answers junk and an endless cursor: it ends, having queued nothing', async () => {
    let reads = 0;
    const inner = memoryDeliveryLog();
    const endless: DeliveryLog = {
      record: (attempt) => inner.record(attempt),
      list: (webhookId, query) => inner.list(webhookId, query),
      get: (deliveryId) => inner.get(deliveryId),
      findFailed: async () => {
        reads++;
        const junk = [null, 5, { deliveryId: 7, webhookId: 'w' }, { deliveryId: 'd', webhookId: 'gone' }];
        return { items: junk as never, nextCursor: 'again' };
      },
    };
    const { dispatcher } = await setup(() => 200, { deliveryLog: endless });
    expect(await dispatcher.deliveries.recover({ since: 0 })).toBe(0);
    expect(reads).toBe(1000);
  });

  it('refuses a query that is not one, naming it', async () => {
    const { dispatcher } = await setup();
    await expect(dispatcher.deliveries.list(5 as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    });
    await expect(dispatcher.deliveries.list({ tenant: 5 as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      message: expect.stringContaining('`tenant`'),
    });
    await expect(dispatcher.deliveries.recover({} as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    });
    await expect(dispatcher.deliveries.stats('')).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
  });
});

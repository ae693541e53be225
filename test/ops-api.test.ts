import { describe, expect, it } from 'vitest';
import { type DeliveryLog, memoryDeliveryLog } from '../src/index.js';
import { type ApiServer, startApi } from './helpers/api.js';
import {
  emitToAll,
  type Fleet,
  memoryLog,
  type OpsLogFactory,
  postgresLog,
  redisLog,
  startFleet,
  until,
} from './helpers/ops.js';

/** A fleet behind a real admin API server: acme, globex and the no-tenant scope each with their failures. */
async function fleetBehindApi(log: DeliveryLog): Promise<{ api: ApiServer; fleet: Fleet; since: number }> {
  let api: ApiServer | undefined;
  const fleet = await startFleet(log, 30, async (deliveryLog) => {
    api = await startApi('node', {}, { deliveryLog, health: false });
    return api.real;
  });
  const since = Date.now() - 1;
  await emitToAll(fleet, 2);
  await until(async () => (await fleet.dispatcher.deliveries.list({ status: 'failed' })).items.length === 8);
  return { api: api!, fleet, since };
}

/** Every item of `GET path` as a tenant, following `nextCursor`. */
async function everyItem(api: ApiServer, path: string, as: string) {
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, checked by the assertions
  const items: any[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await api.call('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path, {
      as,
    });
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === undefined) return items;
  }
  throw new Error('too many pages');
}

function apiSuite(name: string, makeLog: OpsLogFactory) {
  describe(`admin API over ${name}: the operator routes`, () => {
    it("GET /deliveries lists the failed deliveries of the request's tenant only, paged", async () => {
      const { api, fleet } = await fleetBehindApi(await makeLog());
      const { hooks } = fleet;
      const acme = await everyItem(api, '/deliveries?status=failed&limit=1', 'token-acme');
      expect(acme.map((d) => d.webhookId).sort()).toEqual(
        [hooks.a1.id, hooks.a1.id, hooks.a2.id, hooks.a2.id].sort(),
      );
      expect(acme[0]).toMatchObject({
        status: 'failed',
        attempts: [expect.objectContaining({ status: 500 })],
      });
      const globex = await everyItem(api, '/deliveries?status=failed', 'token-globex');
      expect(globex.map((d) => d.webhookId)).toEqual([hooks.g1.id, hooks.g1.id]);
      const none = await everyItem(api, '/deliveries', 'token-none');
      expect(none.map((d) => d.webhookId)).toEqual([hooks.n1.id, hooks.n1.id]);
      // Look-alike tenants see nothing; the answer never names another tenant's webhooks.
      for (const token of ['token-acme-upper']) {
        const res = await api.call('GET', '/deliveries?status=failed', { as: token });
        expect(res.body).toEqual({ items: [] });
      }
      const own = await api.call('GET', `/deliveries?webhookId=${hooks.a2.id}`, { as: 'token-acme' });
      expect(own.body.items.map((d: { webhookId: string }) => d.webhookId)).toEqual([
        hooks.a2.id,
        hooks.a2.id,
      ]);
      const seenByGlobex = await api.call('GET', '/deliveries', { as: 'token-globex' });
      for (const id of [hooks.a1.id, hooks.a2.id, hooks.n1.id]) expect(seenByGlobex.text).not.toContain(id);
    });

    it('never takes the tenant from the request: a tenant parameter is refused, a foreign webhook is a 404', async () => {
      const { api, fleet } = await fleetBehindApi(await makeLog());
      const { hooks } = fleet;
      const param = await api.call('GET', '/deliveries?tenant=globex', { as: 'token-acme' });
      expect(param.status).toBe(400);
      expect(param.body.error.code).toBe('ERR_INVALID_QUERY');
      const foreign = await api.call('GET', `/deliveries?webhookId=${hooks.g1.id}`, { as: 'token-acme' });
      expect(foreign.status).toBe(404);
      expect(foreign.text).not.toContain(fleet.receiver.url);
      const stats = await api.call('GET', `/webhooks/${hooks.g1.id}/stats`, { as: 'token-acme' });
      expect(stats.status).toBe(404);
      const bodyTenant = await api.call('POST', '/deliveries/recover', {
        as: 'token-acme',
        body: { since: 0, tenant: 'globex' },
      });
      expect(bodyTenant.status).toBe(422);
      const foreignRecover = await api.call('POST', '/deliveries/recover', {
        as: 'token-acme',
        body: { since: 0, webhookId: hooks.g1.id },
      });
      expect(foreignRecover.status).toBe(404);
      expect(await api.call('GET', '/deliveries', {})).toMatchObject({ status: 401 });
      // Look-alike tenants of acme reach none of its deliveries, figures or failures.
      fleet.setUp(true);
      for (const token of ['token-acme-upper', 'token-globex', 'token-none']) {
        const figures = await api.call('GET', `/webhooks/${hooks.a1.id}/stats`, { as: token });
        expect(figures.status).toBe(404);
        const listed = await api.call('GET', '/deliveries?status=failed', { as: token });
        for (const id of [hooks.a1.id, hooks.a2.id]) expect(listed.text).not.toContain(id);
      }
      const upper = await api.call('POST', '/deliveries/recover', {
        as: 'token-acme-upper',
        body: { since: 0 },
      });
      expect(upper.body).toEqual({ queued: 0 });
      expect(fleet.seen('a1')).toHaveLength(2);
      expect(fleet.seen('a2')).toHaveLength(2);
      expect(fleet.seen('g1')).toHaveLength(2);
    });

    it('POST /deliveries/recover re-sends every failed delivery of the tenant in one call: 202 { queued }', async () => {
      const { api, fleet, since } = await fleetBehindApi(await makeLog());
      fleet.setUp(true);
      const res = await api.call('POST', '/deliveries/recover', {
        as: 'token-acme',
        body: { since: new Date(since).toISOString() },
      });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ queued: 4 });
      await until(() => fleet.seen('a1').length === 4 && fleet.seen('a2').length === 4);
      await until(async () => (await everyItem(api, '/deliveries?status=failed', 'token-acme')).length === 0);
      expect(fleet.seen('g1')).toHaveLength(2);
      expect(fleet.seen('n1')).toHaveLength(2);
      expect(await everyItem(api, '/deliveries?status=failed', 'token-globex')).toHaveLength(2);
      const none = await api.call('POST', '/deliveries/recover', { as: 'token-none', body: { since } });
      expect(none.body).toEqual({ queued: 2 });
      await until(() => fleet.seen('n1').length === 4);
      expect(fleet.seen('g1')).toHaveLength(2);
      const bad = await api.call('POST', '/deliveries/recover', {
        as: 'token-acme',
        body: { since: 'yesterday' },
      });
      expect(bad.status).toBe(422);
      expect(bad.body.error.field).toBe('since');
    });

    it("GET /webhooks/:id/stats answers the webhook's figures as the receiver saw them", async () => {
      const { api, fleet } = await fleetBehindApi(await makeLog());
      fleet.setUp(true);
      await emitToAll(fleet, 2);
      const id = fleet.hooks.a2.id;
      await until(async () => (await fleet.dispatcher.deliveries.stats(id)).delivered === 2);
      const res = await api.call('GET', `/webhooks/${id}/stats`, { as: 'token-acme' });
      expect(res.status).toBe(200);
      const seen = fleet.seen('a2');
      expect(seen).toHaveLength(4);
      expect(res.body).toMatchObject({ delivered: 2, failed: 2, successRate: 0.5 });
      expect(res.body.p50Ms).toBeGreaterThanOrEqual(fleet.slowMs - 5);
      expect(Object.keys(res.body).sort()).toEqual(
        ['delivered', 'failed', 'lastDeliveredAt', 'lastFailedAt', 'p50Ms', 'p95Ms', 'successRate'].sort(),
      );
      const later = await api.call('GET', `/webhooks/${id}/stats?since=${Date.now() + 60_000}`, {
        as: 'token-acme',
      });
      expect(later.body).toMatchObject({ delivered: 0, failed: 0, successRate: null });
      const bad = await api.call('GET', `/webhooks/${id}/stats?since=soon`, { as: 'token-acme' });
      expect(bad.status).toBe(400);
    });
  });
}

apiSuite('memoryDeliveryLog', memoryLog);
apiSuite('postgresDeliveryLog', postgresLog);
apiSuite('redisDeliveryLog', redisLog);

describe('admin API: the operator routes in the document and without the optional reads', () => {
  it('documents GET /deliveries, POST /deliveries/recover and GET /webhooks/{id}/stats', async () => {
    const api = await startApi();
    const doc = (await api.call('GET', '/openapi.json', { as: 'token-acme' })).body;
    expect(doc.paths['/deliveries'].get.operationId).toBe('searchDeliveries');
    expect(doc.paths['/deliveries'].get.parameters.map((p: { name: string }) => p.name)).not.toContain(
      'tenant',
    );
    expect(doc.paths['/deliveries/recover'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/RecoverAllRequest',
    });
    expect(doc.paths['/webhooks/{id}/stats'].get.responses['200'].content['application/json'].schema).toEqual(
      {
        $ref: '#/components/schemas/WebhookStats',
      },
    );
    expect(Object.keys(doc.components.schemas.RecoverAllRequest.properties).sort()).toEqual([
      'since',
      'until',
      'webhookId',
    ]);
  });

  it('answers 501 ERR_UNSUPPORTED when the log has no search, findFailed or webhookStats', async () => {
    const inner = memoryDeliveryLog();
    const plain: DeliveryLog = {
      record: (attempt) => inner.record(attempt),
      list: (webhookId, query) => inner.list(webhookId, query),
      get: (deliveryId) => inner.get(deliveryId),
    };
    const api = await startApi('node', {}, { deliveryLog: plain });
    const hook = await api.real.webhooks.create({ url: 'http://127.0.0.1:9/x', tenant: 'acme' });
    const answers = [
      await api.call('GET', '/deliveries', { as: 'token-acme' }),
      await api.call('POST', '/deliveries/recover', { as: 'token-acme', body: { since: 0 } }),
      await api.call('GET', `/webhooks/${hook.id}/stats`, { as: 'token-acme' }),
    ];
    expect(answers.map((a) => [a.status, a.body.error.code])).toEqual([
      [501, 'ERR_UNSUPPORTED'],
      [501, 'ERR_UNSUPPORTED'],
      [501, 'ERR_UNSUPPORTED'],
    ]);
    expect(answers.map((a) => a.body.error.message)).toEqual([
      expect.stringContaining('search()'),
      expect.stringContaining('findFailed()'),
      expect.stringContaining('webhookStats()'),
    ]);
  });
});

import type { AdminDeliveryRecord, AdminDispatcher, StoredWebhook } from '../../src/api/index.js';
import {
  type DeliveryResult,
  type EventCatalog,
  generateSecret,
  type WebhookDispatcher,
} from '../../src/index.js';

export const hasPart2 = (dispatcher: WebhookDispatcher) =>
  typeof (dispatcher.webhooks as unknown as AdminDispatcher['webhooks']).page === 'function' &&
  typeof (dispatcher.deliveries as unknown as AdminDispatcher['deliveries']).get === 'function';

/** Calls the admin API made to the dispatcher's redeliver/recover, when the adapter below stands in for them. */
export interface BridgeCalls {
  redeliver: { deliveryId: string; options: unknown }[];
  recover: { webhookId: string; options: unknown }[];
}

/**
 * The dispatcher the API is tested against. When the dispatcher has the Part 2 methods (tenants, page, rotateSecret,
 * deliveries.get/redeliver/recover), it is used as it is. Until then, a thin adapter over the real dispatcher
 * supplies them: tenants kept beside the records, pages cut from list(), delivery records grouped from the v1 log.
 * redeliver/recover cannot be emulated honestly on the v1 dispatcher: the adapter records the calls and answers a
 * 'skipped' result, so the tests check what the API passed, not a resend.
 */
export function adminDispatcher(
  real: WebhookDispatcher,
  eventTypes?: EventCatalog,
): { dispatcher: AdminDispatcher; native: boolean; calls: BridgeCalls } {
  const calls: BridgeCalls = { redeliver: [], recover: [] };
  if (hasPart2(real)) return { dispatcher: real as unknown as AdminDispatcher, native: true, calls };
  const tenants = new Map<string, string>();
  const withTenant = (webhook: StoredWebhook): StoredWebhook => {
    const tenant = tenants.get(webhook.id);
    return tenant === undefined ? webhook : { ...webhook, tenant };
  };
  const records = async (webhookId: string): Promise<AdminDeliveryRecord[]> => {
    const attempts = await real.deliveries.list(webhookId, { limit: 100 });
    const byId = new Map<string, AdminDeliveryRecord>();
    for (const attempt of attempts) {
      let record = byId.get(attempt.deliveryId);
      if (!record) {
        record = {
          deliveryId: attempt.deliveryId,
          webhookId: attempt.webhookId,
          eventId: attempt.eventId,
          status: attempt.ok ? 'delivered' : 'failed',
          createdAt: attempt.startedAt,
          updatedAt: attempt.startedAt,
          attempts: [],
        };
        byId.set(attempt.deliveryId, record);
      }
      record.createdAt = attempt.startedAt;
      record.attempts.push({ ...attempt, request: { ...attempt.request } });
    }
    return [...byId.values()];
  };
  const cutPage = <T>(items: T[], cursor: string | undefined, limit = 50) => {
    const start = cursor === undefined ? 0 : Number(Buffer.from(cursor, 'base64url').toString());
    const slice = items.slice(start, start + limit);
    const next =
      start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined;
    return next === undefined ? { items: slice } : { items: slice, nextCursor: next };
  };
  const skipped = (deliveryId: string, webhookId: string): DeliveryResult => ({
    deliveryId,
    webhookId,
    eventId: 'n/a',
    ok: false,
    outcome: 'skipped',
    attempts: 0,
    reason: 'test adapter: redelivery needs the Part 2 engine',
    durationMs: 0,
  });
  const dispatcher: AdminDispatcher = {
    eventTypes,
    webhooks: {
      async create({ tenant, ...input }) {
        const webhook = await real.webhooks.create(input);
        if (tenant !== undefined) tenants.set(webhook.id, tenant);
        return withTenant(webhook);
      },
      async get(id) {
        const webhook = await real.webhooks.get(id);
        return webhook && withTenant(webhook);
      },
      async page({ tenant, cursor, limit }) {
        const all = (await real.webhooks.list()).map(withTenant).filter((w) => (w.tenant ?? null) === tenant);
        all.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
        return cutPage(all, cursor, limit);
      },
      async update(id, patch) {
        return withTenant(await real.webhooks.update(id, patch));
      },
      delete: (id) => real.webhooks.delete(id),
      async rotateSecret(id) {
        return withTenant(await real.webhooks.update(id, { secret: generateSecret() }));
      },
    },
    deliveries: {
      async list(webhookId, { status, since, until, limit, cursor }) {
        const all = (await records(webhookId)).filter(
          (r) =>
            (status === undefined || r.status === status) &&
            (since === undefined || Date.parse(r.createdAt) >= since) &&
            (until === undefined || Date.parse(r.createdAt) < until),
        );
        return cutPage(all, cursor, limit);
      },
      async get(deliveryId) {
        for (const webhook of await real.webhooks.list()) {
          const found = (await records(webhook.id)).find((r) => r.deliveryId === deliveryId);
          if (found) return found;
        }
        return undefined;
      },
      async redeliver(deliveryId, options) {
        calls.redeliver.push({ deliveryId, options });
        const record = await dispatcher.deliveries.get(deliveryId);
        return skipped(deliveryId, record?.webhookId ?? 'n/a');
      },
      async recover(webhookId, options) {
        calls.recover.push({ webhookId, options });
        return [];
      },
    },
    test: (id) => real.test(id),
  };
  return { dispatcher, native: false, calls };
}

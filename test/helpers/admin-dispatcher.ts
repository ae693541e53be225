import type { AdminDeliveryRecord, AdminDispatcher } from '../../src/api/index.js';
import type { DeliveryResult, EventCatalog, WebhookDispatcher } from '../../src/index.js';

/** Calls the admin API made to the dispatcher's redeliver/recover, when the adapter below stands in for them. */
export interface BridgeCalls {
  redeliver: { deliveryId: string; options: unknown }[];
  recover: { webhookId: string; options: unknown }[];
}

/**
 * The dispatcher the API is tested against: the real one, with its webhooks (tenants, page, rotateSecret) and
 * test() as they are. Only what has not landed yet is supplied by a thin adapter over it:
 * - `eventTypes`, when the dispatcher has no catalog of its own;
 * - delivery records, while the delivery log is v1 (a list of attempts): grouped by delivery, searched by id.
 *   redeliver/recover need the v2 log's bodies, so the adapter records what the API passed and answers a
 *   'skipped' result; the tests then check the arguments, not a resend (`native: false`).
 */
export async function adminDispatcher(
  real: WebhookDispatcher,
  eventTypes?: EventCatalog,
): Promise<{ dispatcher: AdminDispatcher; native: boolean; calls: BridgeCalls }> {
  const calls: BridgeCalls = { redeliver: [], recover: [] };
  const realAdmin = real as unknown as AdminDispatcher;
  const catalog = realAdmin.eventTypes ?? eventTypes;
  const probe: unknown = await real.deliveries.list('probe-0', { limit: 1 });
  if (!Array.isArray(probe)) {
    const dispatcher = Object.create(realAdmin, { eventTypes: { value: catalog } }) as AdminDispatcher;
    return { dispatcher, native: true, calls };
  }
  const v1List = real.deliveries.list as unknown as (
    id: string,
    options: { limit: number },
  ) => Promise<
    (AdminDeliveryRecord['attempts'][number] & { deliveryId: string; webhookId: string; eventId: string })[]
  >;
  const records = async (webhookId: string): Promise<AdminDeliveryRecord[]> => {
    const attempts = await v1List(webhookId, { limit: 100 });
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
  const skipped = (deliveryId: string, webhookId: string): DeliveryResult =>
    ({
      deliveryId,
      webhookId,
      eventId: 'n/a',
      ok: false,
      outcome: 'skipped',
      attempts: 0,
      reason: 'test adapter: redelivery needs the v2 delivery log',
      durationMs: 0,
    }) as DeliveryResult;
  const deliveries: AdminDispatcher['deliveries'] = {
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
      const record = await deliveries.get(deliveryId);
      return skipped(deliveryId, record?.webhookId ?? 'n/a');
    },
    async recover(webhookId, options) {
      calls.recover.push({ webhookId, options });
      return [];
    },
  };
  const dispatcher = Object.create(realAdmin, {
    eventTypes: { value: catalog },
    deliveries: { value: deliveries },
  }) as AdminDispatcher;
  return { dispatcher, native: false, calls };
}

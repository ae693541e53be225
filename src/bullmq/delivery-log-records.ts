// What `redisDeliveryLog()` reads back from its scripts' replies.
import type { DeliveryAttempt, DeliveryRecord, DeliveryRef } from '../log/delivery-log.js';

/** Redis writes a number as its shortest form; a score read back compares equal to the one written. */
export function scoreOf(ms: number): string {
  return String(ms);
}

export function toRecord(deliveryId: string, flat: unknown, items: unknown): DeliveryRecord | undefined {
  if (!Array.isArray(flat) || !Array.isArray(items)) return undefined;
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(String(flat[i]), String(flat[i + 1]));
  const webhookId = hash.get('webhookId');
  const createdAt = hash.get('createdAt');
  if (webhookId === undefined || createdAt === undefined) return undefined;
  const attempts: DeliveryAttempt[] = [];
  for (const raw of items) {
    const item = String(raw);
    let json: string;
    let body: string | undefined;
    if (item.startsWith('R')) {
      json = item.slice(1);
      body = hash.get('body');
    } else if (item.startsWith('B')) {
      const colon = item.indexOf(':');
      json = item.slice(colon + 1);
      body = hash.get(`b${item.slice(1, colon)}`);
    } else json = item.slice(1);
    try {
      const attempt = JSON.parse(json) as DeliveryAttempt;
      if (body !== undefined) attempt.request.body = body;
      attempts.push(attempt);
    } catch {
      // A value this log did not write: left out.
    }
  }
  if (attempts.length === 0) return undefined;
  const latest = attempts[0] as DeliveryAttempt;
  const record: DeliveryRecord = {
    deliveryId,
    webhookId,
    eventId: hash.get('eventId') ?? '',
    status: hash.get('status') === 'delivered' ? 'delivered' : 'failed',
    createdAt,
    updatedAt: hash.get('updatedAt') ?? latest.startedAt,
    attempts,
  };
  const tenant = hash.get('tenant');
  if (tenant !== undefined) record.tenant = tenant;
  const eventType = hash.get('eventType');
  if (eventType !== undefined) record.eventType = eventType;
  return record;
}

/** A reference from `HMGET webhookId tenant createdAt`. */
export function toRef(deliveryId: string, fields: unknown): DeliveryRef | undefined {
  if (!Array.isArray(fields)) return undefined;
  const [webhookId, tenant, createdAt] = fields as (string | null)[];
  if (typeof webhookId !== 'string' || typeof createdAt !== 'string') return undefined;
  const ref: DeliveryRef = { deliveryId, webhookId, createdAt };
  if (typeof tenant === 'string') ref.tenant = tenant;
  return ref;
}

import type { DeliveryError, DeliveryResult } from '../core/types.js';

/** Who a result is about: the job's identity. */
export interface ResultSubject {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  tenant?: string;
}

/** The one builder of `DeliveryResult`s: every outcome of the engine, the queues and the facade comes from here. */
export function deliveryResult(
  subject: ResultSubject,
  outcome: DeliveryResult['outcome'],
  fields: {
    attempts?: number;
    status?: number;
    error?: DeliveryError;
    reason?: string;
    durationMs?: number;
  } = {},
): DeliveryResult {
  const result: DeliveryResult = {
    deliveryId: subject.deliveryId,
    webhookId: subject.webhookId,
    eventId: subject.eventId,
    ok: outcome === 'delivered',
    outcome,
    attempts: fields.attempts ?? 0,
    durationMs: fields.durationMs ?? 0,
  } as DeliveryResult;
  if (subject.tenant !== undefined) result.tenant = subject.tenant;
  if (fields.status !== undefined) result.status = fields.status;
  if (fields.error !== undefined) result.error = fields.error;
  if (fields.reason !== undefined) result.reason = fields.reason;
  return result;
}

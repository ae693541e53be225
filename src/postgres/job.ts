import { parseBody, type StoredBody } from '../durable/event-bodies.js';
import { type DeliveryJob, unsentResult } from '../extend.js';
import type { DeliveryResult } from '../index.js';

/**
 * What a pg-boss job holds: the plain fields of a delivery job but `test`, and its event's body either inline
 * (`eventBody`: a job alone in its emit, and every job written before bodies were stored once) or as the key of
 * the body stored once for all the jobs of its emit (`eventBodyRef`). The event object is not stored: it is
 * rebuilt from the body, which renders the same (Dates are already ISO-8601 strings in the JSON).
 */
export type PgDeliveryJobData = Omit<DeliveryJob, 'event' | 'test' | 'eventBody'> & { eventBody?: string };

export function toJobData(job: DeliveryJob, bodyRef = job.eventBodyRef): PgDeliveryJobData {
  const data: PgDeliveryJobData = {
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    eventId: job.eventId,
  };
  if (bodyRef === undefined) data.eventBody = job.eventBody;
  else data.eventBodyRef = bodyRef;
  if (job.tenant !== undefined) data.tenant = job.tenant;
  if (job.eventType !== undefined) data.eventType = job.eventType;
  if (job.attempt) data.attempt = job.attempt;
  if (job.retryBase) data.retryBase = job.retryBase;
  if (job.firstAttemptAt !== undefined) data.firstAttemptAt = job.firstAttemptAt;
  if (job.body !== undefined) data.body = job.body;
  if (job.redelivery) data.redelivery = true;
  if (job.force) data.force = true;
  if (job.sequence !== undefined) data.sequence = job.sequence;
  const context = portable(job.emitContext);
  if (context !== undefined) data.emitContext = context;
  return data;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** The key of the stored body a job refers to, if it refers to one (else its body is inline). */
export function bodyRefOf(data: unknown): string | undefined {
  const ref = (data as Partial<PgDeliveryJobData> | null)?.eventBodyRef;
  return isString(ref) ? ref : undefined;
}

/**
 * Reads a stored job back, with the body it refers to (`stored`) or its inline one; a row written around this
 * library may be anything, so it is checked.
 */
export function fromJobData(data: unknown, stored?: StoredBody): DeliveryJob | undefined {
  const d = data as Partial<PgDeliveryJobData> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    !isString(d.deliveryId) ||
    !isString(d.webhookId) ||
    !isString(d.eventId)
  ) {
    return undefined;
  }
  const body = stored ?? parseBody(d.eventBody);
  if (body === undefined) return undefined;
  const job: DeliveryJob = {
    deliveryId: d.deliveryId,
    webhookId: d.webhookId,
    eventId: d.eventId,
    event: body.event,
    eventBody: body.eventBody,
  };
  if (stored !== undefined && isString(d.eventBodyRef)) job.eventBodyRef = d.eventBodyRef;
  if (isString(d.tenant)) job.tenant = d.tenant;
  if (isString(d.eventType)) job.eventType = d.eventType;
  if (Number.isInteger(d.attempt) && (d.attempt as number) > 0) job.attempt = d.attempt as number;
  if (Number.isInteger(d.retryBase) && (d.retryBase as number) > 0) job.retryBase = d.retryBase as number;
  if (isString(d.body)) job.body = d.body;
  if (typeof d.firstAttemptAt === 'number' && Number.isFinite(d.firstAttemptAt))
    job.firstAttemptAt = d.firstAttemptAt;
  if (d.redelivery === true) job.redelivery = true;
  if (d.force === true) job.force = true;
  if (Number.isSafeInteger(d.sequence) && (d.sequence as number) > 0) job.sequence = d.sequence as number;
  if (d.emitContext !== undefined && d.emitContext !== null) job.emitContext = d.emitContext;
  return job;
}

export function queuedResult(job: DeliveryJob): DeliveryResult {
  return unsentResult(job, 'queued');
}

/** Postgres refused the job or did not answer in time: not known to be persisted; emitting again is safe. */
export function enqueueFailedResult(job: DeliveryJob, reason: string): DeliveryResult {
  return unsentResult(job, 'failed', {
    code: 'ENQUEUE_FAILED',
    message: `the delivery could not be queued in Postgres: ${reason}`,
  });
}

/**
 * The emit context as plain JSON of at most 4 KiB, or nothing: it comes from a host hook, and one that cannot be
 * stored (a cycle, a BigInt, a huge object) must not make the whole insert fail.
 */
function portable(context: unknown): unknown {
  if (context === undefined || context === null) return undefined;
  try {
    const json = JSON.stringify(context);
    if (json === undefined || json.length > 4096) return undefined;
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

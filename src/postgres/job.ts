import { type DeliveryJob, type DeliveryResult, unsentResult } from '../index.js';

/**
 * What a pg-boss job holds: the plain fields of a delivery job but `test`. The event object is
 * not stored twice: it is rebuilt from `eventBody`, which renders the same (Dates are already ISO-8601 strings in
 * the JSON).
 */
export type PgDeliveryJobData = Omit<DeliveryJob, 'event' | 'test'>;

export function toJobData(job: DeliveryJob): PgDeliveryJobData {
  const data: PgDeliveryJobData = {
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    eventId: job.eventId,
    eventBody: job.eventBody,
  };
  if (job.tenant !== undefined) data.tenant = job.tenant;
  if (job.eventType !== undefined) data.eventType = job.eventType;
  if (job.attempt) data.attempt = job.attempt;
  if (job.retryBase) data.retryBase = job.retryBase;
  if (job.firstAttemptAt !== undefined) data.firstAttemptAt = job.firstAttemptAt;
  if (job.body !== undefined) data.body = job.body;
  if (job.redelivery) data.redelivery = true;
  if (job.force) data.force = true;
  const context = portable(job.emitContext);
  if (context !== undefined) data.emitContext = context;
  return data;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** Reads a stored job back; a row written around this library may be anything, so it is checked. */
export function fromJobData(data: unknown): DeliveryJob | undefined {
  const d = data as Partial<PgDeliveryJobData> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    !isString(d.deliveryId) ||
    !isString(d.webhookId) ||
    !isString(d.eventId) ||
    !isString(d.eventBody)
  ) {
    return undefined;
  }
  let event: DeliveryJob['event'];
  try {
    event = JSON.parse(d.eventBody);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  const job: DeliveryJob = {
    deliveryId: d.deliveryId,
    webhookId: d.webhookId,
    eventId: d.eventId,
    event,
    eventBody: d.eventBody,
  };
  if (isString(d.tenant)) job.tenant = d.tenant;
  if (isString(d.eventType)) job.eventType = d.eventType;
  if (Number.isInteger(d.attempt) && (d.attempt as number) > 0) job.attempt = d.attempt as number;
  if (Number.isInteger(d.retryBase) && (d.retryBase as number) > 0) job.retryBase = d.retryBase as number;
  if (isString(d.body)) job.body = d.body;
  if (typeof d.firstAttemptAt === 'number' && Number.isFinite(d.firstAttemptAt))
    job.firstAttemptAt = d.firstAttemptAt;
  if (d.redelivery === true) job.redelivery = true;
  if (d.force === true) job.force = true;
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

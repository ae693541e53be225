import { parseBody, type StoredBody } from '../durable/event-bodies.js';
import { type DeliveryJob, unsentResult } from '../extend.js';
import type { DeliveryResult } from '../index.js';

/** The BullMQ job name of a delivery. */
export const JOB_NAME = 'deliver';

/**
 * What a BullMQ job holds: the plain fields of a `DeliveryJob`, and its event's body either inline (`eventBody`: a
 * job alone in its emit, and every job written before bodies were stored once) or as the key of the body stored
 * once in Redis for all the jobs of its emit (`eventBodyRef`). The event object is not stored: it is rebuilt from
 * the body, which renders the same (Dates are already ISO-8601 strings in the JSON).
 */
export interface DeliveryJobData {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  eventBody?: string;
  eventBodyRef?: string;
  tenant?: string;
  eventType?: string;
  /** Attempts already made: a retry is a delayed job carrying the count, so a crash loses none. */
  attempt?: number;
  firstAttemptAt?: number;
  /** The emit's trace context (plain JSON from `instrumentation.onEmit`), so attempts stay under the emitting request. */
  emitContext?: unknown;
}

export function toJobData(job: DeliveryJob, bodyRef = job.eventBodyRef): DeliveryJobData {
  const data: DeliveryJobData = {
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    eventId: job.eventId,
  };
  if (bodyRef === undefined) data.eventBody = job.eventBody;
  else data.eventBodyRef = bodyRef;
  if (job.tenant !== undefined) data.tenant = job.tenant;
  if (job.eventType !== undefined) data.eventType = job.eventType;
  if (job.attempt !== undefined) data.attempt = job.attempt;
  if (job.firstAttemptAt !== undefined) data.firstAttemptAt = job.firstAttemptAt;
  if (job.emitContext !== undefined && job.emitContext !== null) data.emitContext = job.emitContext;
  return data;
}

/** The job, with the body it refers to (`stored`) or its inline one; undefined when it has neither. */
export function fromJobData(data: DeliveryJobData, stored?: StoredBody): DeliveryJob | undefined {
  const body = stored ?? parseBody(data.eventBody);
  if (body === undefined) return undefined;
  const job: DeliveryJob = {
    deliveryId: data.deliveryId,
    webhookId: data.webhookId,
    eventId: data.eventId,
    event: body.event,
    eventBody: body.eventBody,
  };
  if (stored !== undefined && data.eventBodyRef !== undefined) job.eventBodyRef = data.eventBodyRef;
  if (data.tenant !== undefined) job.tenant = data.tenant;
  if (data.eventType !== undefined) job.eventType = data.eventType;
  if (data.attempt !== undefined) job.attempt = data.attempt;
  if (data.firstAttemptAt !== undefined) job.firstAttemptAt = data.firstAttemptAt;
  if (data.emitContext !== undefined) job.emitContext = data.emitContext;
  return job;
}

/** What `emit` resolves with for a job persisted in Redis: nothing is sent yet, so `ok` is false. */
export function queuedResult(job: DeliveryJob): DeliveryResult {
  return unsentResult(job, 'queued');
}

/** Redis refused the job: it is not persisted and will not be sent unless the caller emits again. */
export function enqueueFailedResult(job: DeliveryJob, error: unknown): DeliveryResult {
  const message = error instanceof Error ? error.message : String(error);
  return unsentResult(job, 'failed', {
    code: 'ENQUEUE_FAILED',
    message: `the delivery could not be queued in Redis: ${message}`,
  });
}

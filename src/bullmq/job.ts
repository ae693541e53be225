import { type DeliveryJob, type DeliveryResult, unsentResult } from '../index.js';

/** The BullMQ job name of a delivery. */
export const JOB_NAME = 'deliver';

/**
 * What a BullMQ job holds: the plain fields of a `DeliveryJob`. The event object is not stored twice: it is
 * rebuilt from `eventBody`, which renders the same (Dates are already ISO-8601 strings in the JSON).
 */
export interface DeliveryJobData {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  eventBody: string;
}

export function toJobData(job: DeliveryJob): DeliveryJobData {
  return {
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    eventId: job.eventId,
    eventBody: job.eventBody,
  };
}

export function fromJobData(data: DeliveryJobData): DeliveryJob {
  return {
    deliveryId: data.deliveryId,
    webhookId: data.webhookId,
    eventId: data.eventId,
    event: JSON.parse(data.eventBody),
    eventBody: data.eventBody,
  };
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

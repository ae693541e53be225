import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { DeliveryRequest, Logger } from '../core/types.js';
import type { DeliveryAttempt, DeliveryLog } from '../log/delivery-log.js';
import { redactBody, redactResponseHeaders, requestForLog } from '../log/delivery-log.js';
import { recordAttempt } from '../log/storable-attempt.js';
import type { AttemptAnswer } from './attempt.js';
import type { HostHooks } from './host-hooks.js';
import type { DeliveryJob } from './queue.js';

/** One attempt as the delivery log gets it. */
export interface AttemptToRecord {
  job: DeliveryJob;
  compiled: CompiledWebhook;
  request: DeliveryRequest;
  attemptNo: number;
  /** Epoch ms on the dispatcher's clock. */
  startedAt: number;
  answer: AttemptAnswer;
}

/**
 * Writes one attempt to the delivery log, secrets masked (credential headers, the secret in the body too). A log
 * that throws or rejects is reported, never propagated; one that refuses the record gets it reduced.
 */
export function logAttempt(
  log: DeliveryLog,
  entry: AttemptToRecord,
  hooks: HostHooks,
  logger: Pick<Logger, 'error'>,
): void {
  const { job, request, answer } = entry;
  const secret = entry.compiled.webhook.secret;
  const attempt: DeliveryAttempt = {
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    eventId: job.eventId,
    attempt: entry.attemptNo,
    startedAt: new Date(entry.startedAt).toISOString(),
    durationMs: answer.durationMs,
    ok: answer.ok,
    status: answer.status,
    error: answer.error,
    request: requestForLog(request, { secret }),
    response: answer.response && {
      headers: redactResponseHeaders(answer.response.headers, request.headers, secret),
      body: redactBody(answer.response.body, request.headers, secret),
    },
  } as DeliveryAttempt;
  const extra = attempt as DeliveryAttempt & Record<string, unknown>;
  if (job.tenant !== undefined) extra.tenant = job.tenant;
  if (job.eventType !== undefined) extra.eventType = job.eventType;
  if (job.redelivery) extra.redelivery = true;
  hooks.call('the delivery log', () =>
    recordAttempt(log, attempt, (error) =>
      logger.error(
        'webhook-dispatcher: the delivery log refused an attempt; it was recorded reduced (see `altered`)',
        { deliveryId: attempt.deliveryId, error: String(error) },
      ),
    ),
  );
}

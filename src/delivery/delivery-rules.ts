// The rules a delivery follows that need none of its state: which failures are final, which statuses slow the lane,
// when a queued delivery is skipped, and how an attempt's span ends.
import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { AttemptAnswer } from './attempt.js';
import type { AttemptSpan } from './instrumentation.js';
import type { DeliveryJob } from './queue.js';

/**
 * Failures another attempt cannot fix: the guard will refuse again, a closing dispatcher will not send, a transport
 * that cannot present the webhook's client certificate will not learn to.
 */
export const FINAL_CODES = new Set(['ABORTED', 'BLOCKED_ADDRESS', 'CLIENT_CERTIFICATE_UNSUPPORTED']);
/** Statuses that mean "slow down" for the whole lane, not only this delivery. */
export const SLOW_DOWN_STATUSES = new Set([429, 502, 503, 504]);

/** Why a delivery is not sent to `compiled` after all (undefined: it is sent). */
export function skipReason(job: DeliveryJob, compiled: CompiledWebhook | undefined): string | undefined {
  if (compiled === undefined) return 'the webhook was deleted before delivery';
  const webhook = compiled.webhook;
  // Isolation is checked at send time too: a job can never reach a webhook of another tenant.
  if ((webhook.tenant ?? undefined) !== (job.tenant ?? undefined))
    return 'the webhook belongs to another tenant';
  if (!webhook.on && !job.test && !job.force) return 'the webhook is switched off';
  return undefined;
}

export function endSpan(span: AttemptSpan, answer: AttemptAnswer, retry: boolean): void {
  span.end({
    ok: answer.ok,
    status: answer.status,
    error: answer.error,
    durationMs: answer.durationMs,
    retry,
  });
}

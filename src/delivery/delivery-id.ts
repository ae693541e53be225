import { hash } from 'node:crypto';

const PLAIN_WEBHOOK_ID = /^[A-Za-z0-9-]{1,64}$/;
const PLAIN_EVENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The deterministic `webhook-id` of a delivery: the same event sent to the same webhook keeps its id, so
 * receivers (and durable queues) can de-duplicate. Plain ids read as they are, `msg_<webhookId>_<eventId>`
 * (the webhook id has no `_`, so the pair is recoverable); anything else, which may not be header-safe, is
 * hashed into `msg_h.<24 base64url characters>` (the `.` keeps the two forms apart).
 */
export function deliveryIdFor(eventId: string, webhookId: string): string {
  if (PLAIN_WEBHOOK_ID.test(webhookId) && PLAIN_EVENT_ID.test(eventId)) return `msg_${webhookId}_${eventId}`;
  return `msg_h.${hash('sha256', `${eventId}\n${webhookId}`, 'base64url').slice(0, 24)}`;
}

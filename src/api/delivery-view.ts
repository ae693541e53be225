import { isSensitiveHeader } from '../rendering/sensitive-headers.js';
import type { AdminDeliveryRecord } from './admin-dispatcher.js';
import { REDACTED } from './view.js';

type Attempt = AdminDeliveryRecord['attempts'][number];

function redacted(headers: Record<string, string> | undefined): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    shown[name] = isSensitiveHeader(name) ? REDACTED : String(value);
  return shown;
}

function attemptView(attempt: Attempt) {
  const request: Attempt['request'] = {
    url: attempt.request.url,
    headers: redacted(attempt.request.headers),
  };
  if (attempt.request.body !== undefined) request.body = attempt.request.body;
  if (attempt.request.bodyTruncated) request.bodyTruncated = true;
  return {
    attempt: attempt.attempt,
    startedAt: attempt.startedAt,
    durationMs: attempt.durationMs,
    ok: attempt.ok,
    ...(attempt.status === undefined ? {} : { status: attempt.status }),
    ...(attempt.error === undefined
      ? {}
      : { error: { code: attempt.error.code, message: attempt.error.message } }),
    ...(attempt.redelivery ? { redelivery: true } : {}),
    ...(attempt.altered === undefined ? {} : { altered: [...attempt.altered] }),
    request,
    ...(attempt.response === undefined ? {} : { response: attempt.response }),
  };
}

/** A delivery record as the API shows it: listed fields only, credential-like request headers redacted again. */
export function toDeliveryView(record: AdminDeliveryRecord) {
  return {
    deliveryId: record.deliveryId,
    webhookId: record.webhookId,
    eventId: record.eventId,
    ...(record.eventType === undefined ? {} : { eventType: record.eventType }),
    status: record.status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    attempts: (record.attempts ?? []).map(attemptView),
  };
}

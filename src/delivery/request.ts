import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { DeliveryRequest, Webhook, WebhookEvent } from '../core/types.js';
import { eventMarkdownOf } from '../rendering/event-markdown.js';
import { signPayload } from '../rendering/sign.js';
import { signStandardWebhook, standardSignatureHeader } from '../rendering/standard-webhooks.js';
import { eventJsonOf } from '../rendering/template.js';
import type { CertifiedDeliveryRequest } from '../transport/http.js';

/** What a body is rendered from: the event and its JSON, computed once per emit. */
export interface BodySource {
  event: WebhookEvent;
  eventBody: string;
}

/**
 * `make(source)` once per event, however many templated webhooks it reaches: keyed by the event object, so the value
 * goes when the event does.
 */
function oncePerEvent<T>(make: (source: BodySource) => T): (source: BodySource) => T {
  const made = new WeakMap<object, T>();
  return (source) => {
    let value = made.get(source.event);
    if (value === undefined) {
      value = make(source);
      made.set(source.event, value);
    }
    return value;
  };
}

/** `eventJson`: the event's JSON as a JSON string literal. */
const eventJsonFor = oncePerEvent((source) => eventJsonOf(source.eventBody));
/** `eventMarkdown`: made only when a template reads it. */
const eventMarkdownFor = oncePerEvent((source) => eventMarkdownOf(source.event));

/**
 * Renders the body of one delivery: the event's JSON, or the webhook's template, stopped as soon as its output
 * passes `maxBytes` (a `TemplateBudgetError` with code `BODY_TOO_LARGE`). Throws on a template failure.
 */
export function renderBody(compiled: CompiledWebhook, source: BodySource, maxBytes?: number): string {
  if (!compiled.template) return source.eventBody;
  const context = {
    event: source.event,
    eventJson: eventJsonFor(source),
    webhook: compiled.templateWebhook,
    get eventMarkdown() {
      return eventMarkdownFor(source);
    },
  };
  return compiled.template.render(context, maxBytes === undefined ? undefined : { maxBytes });
}

/**
 * The request of one delivery, signed. `timestamp` (Unix seconds) is signed by the Standard Webhooks scheme, so
 * every attempt builds its request again; `extraHeaders` (trace context) cannot replace the signature headers.
 * A webhook's `clientCertificate` goes with it as `request.clientCertificate`: the compiled webhook's one frozen
 * object, so the transport's pool for it is found by identity.
 */
export function buildRequest(
  compiled: CompiledWebhook,
  deliveryId: string,
  body: string,
  timestamp: number,
  extraHeaders?: Record<string, string>,
): CertifiedDeliveryRequest {
  const request: CertifiedDeliveryRequest = previewRequest(
    compiled,
    deliveryId,
    body,
    timestamp,
    extraHeaders,
  );
  const certificate = compiled.webhook.clientCertificate;
  if (certificate !== undefined) request.clientCertificate = certificate;
  return request;
}

/** The request as `preview()` shows it: signed, without the client certificate (whose key is never shown). */
export function previewRequest(
  compiled: CompiledWebhook,
  deliveryId: string,
  body: string,
  timestamp: number,
  extraHeaders?: Record<string, string>,
): DeliveryRequest {
  const webhook = compiled.webhook;
  const headers: Record<string, string> = extraHeaders
    ? { ...extraHeaders, ...compiled.headers, 'webhook-id': deliveryId }
    : { ...compiled.headers, 'webhook-id': deliveryId };
  if (webhook.secret !== undefined) {
    if (webhook.signatureScheme !== 'standard') headers['x-ld-signature'] = signPayload(body, webhook.secret);
    if (webhook.signatureScheme !== 'launchdarkly')
      signStandard(headers, webhook, deliveryId, body, timestamp);
  }
  return { url: webhook.url, method: 'POST', headers, body };
}

function signStandard(
  headers: Record<string, string>,
  webhook: Readonly<Webhook>,
  id: string,
  body: string,
  timestamp: number,
): void {
  headers['webhook-timestamp'] = String(timestamp);
  const secret = webhook.secret as string;
  const previous = webhook.previousSecrets?.filter((old) => Date.parse(old.expiresAt) > timestamp * 1000);
  headers['webhook-signature'] =
    previous === undefined || previous.length === 0
      ? signStandardWebhook({ secret, id, timestamp, body })
      : standardSignatureHeader([secret, ...previous.map((old) => old.secret)], id, timestamp, body);
}

/** Bytes of `body` in UTF-8, counted only when it could be over `limit` (a code unit is at most 3 bytes). */
export function bodyBytesOver(body: string, limit: number): number | undefined {
  if (body.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(body);
  return bytes > limit ? bytes : undefined;
}

import type { DeliveryRequest, Webhook, WebhookEvent } from '../core/types.js';
import { eventMarkdownOf } from '../rendering/event-markdown.js';
import { signPayload } from '../rendering/sign.js';
import { signStandardWebhook, standardSignatureHeader } from '../rendering/standard-webhooks.js';
import { eventJsonOf } from '../rendering/template.js';
import type { CompiledWebhook } from '../webhooks/webhook.js';

/** What a body is rendered from: the event and its JSON, computed once per emit. */
export interface BodySource {
  event: WebhookEvent;
  eventBody: string;
}

/**
 * `eventJson` (the event's JSON as a JSON string literal) of each event, made once per emit however many templated
 * webhooks it reaches. Keyed by the event object, so it goes when the event does.
 */
const eventJsonCache = new WeakMap<object, string>();

/**
 * Renders the body of one delivery: the event's JSON, or the webhook's template, stopped as soon as its output
 * passes `maxBytes` (a `TemplateBudgetError` with code `BODY_TOO_LARGE`). Throws on a template failure.
 */
export function renderBody(compiled: CompiledWebhook, source: BodySource, maxBytes?: number): string {
  if (!compiled.template) return source.eventBody;
  let eventJson = eventJsonCache.get(source.event);
  if (eventJson === undefined) {
    eventJson = eventJsonOf(source.eventBody);
    eventJsonCache.set(source.event, eventJson);
  }
  const { event } = source;
  const context = {
    event,
    eventJson,
    webhook: compiled.templateWebhook,
    get eventMarkdown() {
      return eventMarkdownFor(event);
    },
  };
  return compiled.template.render(context, maxBytes === undefined ? undefined : { maxBytes });
}

/** `eventMarkdown` of each event, made when a template first reads it, once per emit. */
const eventMarkdownCache = new WeakMap<object, string>();

function eventMarkdownFor(event: WebhookEvent): string {
  let markdown = eventMarkdownCache.get(event);
  if (markdown === undefined) {
    markdown = eventMarkdownOf(event);
    eventMarkdownCache.set(event, markdown);
  }
  return markdown;
}

/**
 * The request of one delivery, signed. `timestamp` (Unix seconds) is signed by the Standard Webhooks scheme, so
 * every attempt builds its request again; `extraHeaders` (trace context) cannot replace the signature headers.
 */
export function buildRequest(
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

import Mustache from 'mustache';
import { InvalidEventError, kindOf, WebhookError } from '../core/errors.js';
import type { Webhook, WebhookEvent } from '../core/types.js';
import { validateEventTypes, validateTemplateFields } from '../events/catalog-checks.js';
import type { EventCatalog } from '../events/event-catalog.js';
import type { DeliveryRecord } from '../log/delivery-log.js';
import { validateTenant } from '../webhooks/webhook.js';
import type { EmitOptions } from './dispatcher.js';

/** An id that is not a string or a number would collapse into `[object Object]`: every event one delivery id. */
export function assertEventId(event: WebhookEvent): void {
  for (const field of ['id', '_id'] as const) {
    const id = event[field];
    if (
      id === undefined ||
      id === null ||
      typeof id === 'string' ||
      (typeof id === 'number' && Number.isFinite(id))
    )
      continue;
    throw new InvalidEventError(
      `emit: expected \`event.${field}\` to be a string or a finite number, got ${kindOf(id)}`,
    );
  }
}

export function emitTenant(options: EmitOptions): string | undefined {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidEventError(`emit: expected the options to be an object, got ${kindOf(options)}`);
  }
  return options.tenant === undefined ? undefined : validateTenant(options.tenant, 'tenant');
}

/** With a catalog: `events` must name its types, and template fields must be fields of their schemas. */
export function checkAgainstCatalog(webhook: Webhook, catalog: EventCatalog): void {
  validateEventTypes(webhook.events, catalog);
  if (webhook.bodyTemplate !== undefined) {
    let tokens: unknown[] | undefined;
    try {
      tokens = Mustache.parse(webhook.bodyTemplate);
    } catch {
      // The template compiler reports a template that does not parse, with its position.
    }
    if (tokens !== undefined) validateTemplateFields(tokens, webhook.events, catalog);
  }
}

/** The body a logged delivery was first sent with, when the log kept all of it. */
export function sentBody(record: DeliveryRecord): string | undefined {
  const sent = record.attempts.find(
    (attempt) => typeof attempt.request?.body === 'string' && !attempt.request.bodyTruncated,
  );
  return sent?.request.body as string | undefined;
}

export function webhookDisabled(method: string, webhookId: string): WebhookError {
  return new WebhookError(
    'ERR_WEBHOOK_DISABLED',
    `${method}: webhook "${webhookId}" is switched off; pass { force: true } to send anyway`,
  );
}

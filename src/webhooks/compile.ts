import type { CompiledPolicy, CompiledWebhook } from '../core/compiled-webhook.js';
import type { Statement, Webhook } from '../core/types.js';
import { VERSION } from '../core/version.js';
import { validateContentType, validateHeaders } from '../rendering/header-rules.js';
import { compileTemplate } from '../rendering/template.js';
import { compileEventFilter, type EventFilter } from '../routing/event-filter.js';
import { policyIndexKeys } from '../routing/policy/index-keys.js';
import { createPolicyMatcher } from '../routing/policy/matcher.js';
import { type AddressPolicy, checkUrl } from '../transport/ssrf.js';
import { invalid, SCHEMES, validateOrdering, validateRateLimit, validateTenant } from './field-checks.js';
import { assertSecretFits } from './webhook-secret.js';

// A saved webhook compiled into what `emit` matches and `delivery/` sends: its policy, event filter, headers and
// template, with the parts webhooks have alike made once and shared.

/** Sent as `User-Agent` unless a webhook sets its own. */
export const USER_AGENT = `webhook-dispatcher/${VERSION}`;

export interface CompileContext {
  defaultPolicy: CompiledPolicy;
  /** Records read from a store are checked like saved ones: a row written around the dispatcher gets no pass. */
  addressPolicy: AddressPolicy;
  /** Policies already compiled, by their statements' JSON: identical policies are compiled and evaluated once. */
  policies?: { get(key: string): CompiledPolicy | undefined };
  /**
   * Parts that webhooks have alike (policy, events filter, template, headers), made once per canonical key and
   * shared (the registry's `SharedValues`). Without it every webhook gets its own.
   */
  shared?: <T>(key: string, make: () => T) => { key: string; value: T };
}

const NO_KEYS: readonly string[] = Object.freeze([]);
const DEFAULT_CONTENT_TYPE = 'application/json';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
const NO_TAGS: readonly string[] = Object.freeze([]);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Makes a part through `context.shared` when there is one (noting its key), else on its own. */
function sharedPart<T>(context: CompileContext, keys: string[], key: string, make: () => T): T {
  if (context.shared === undefined) return make();
  const found = context.shared(key, make);
  keys.push(found.key);
  return found.value;
}

export function compilePolicy(statements: Statement[], field: string): CompiledPolicy {
  const allows = createPolicyMatcher(statements, { field });
  return { allows, indexKeys: policyIndexKeys(statements), passesWithoutAccesses: false };
}

/**
 * The policy of webhooks that set neither `statements` nor `events`. LaunchDarkly's default speaks of flag changes
 * (resources); an event with no resources (no `accesses`, no `project`), such as `{ type: 'invoice.paid' }`, is not
 * one, and such a webhook takes it, as Unleash and Svix deliver every type to an endpoint without a filter. Indexed
 * under every scope, so those events find it.
 */
export function compileDefaultPolicy(statements: Statement[]): CompiledPolicy {
  return {
    ...compilePolicy(statements, 'defaultStatements'),
    indexKeys: undefined,
    passesWithoutAccesses: true,
  };
}

/**
 * The webhook's headers that are sent: a blank value (`Authorization: ""`) is kept in the record but omitted from the
 * request, as Unleash omits an empty authorization, rather than sent as an empty header.
 */
function sentHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => value.trim() !== ''));
}

export function compileWebhook(webhook: Webhook, seq: number, context: CompileContext): CompiledWebhook {
  checkUrl(webhook.url, context.addressPolicy, 'url');
  validateContentType(webhook.contentType, 'contentType');
  validateHeaders(webhook.headers, 'headers');
  if (!SCHEMES.includes(webhook.signatureScheme)) {
    throw invalid('signatureScheme', `one of ${SCHEMES.join(', ')}`, webhook.signatureScheme);
  }
  assertSecretFits(webhook);
  if (webhook.tenant !== undefined) validateTenant(webhook.tenant);
  if (webhook.rateLimit !== undefined) validateRateLimit(webhook.rateLimit);
  if (webhook.ordering !== undefined) validateOrdering(webhook.ordering);
  if (typeof webhook.on !== 'boolean') throw invalid('on', 'a boolean', webhook.on);
  const keys: string[] = [];
  const record = structuredClone(webhook);
  let policy: CompiledPolicy | undefined;
  if (webhook.statements) {
    const statements = webhook.statements;
    const shared = context.policies?.get(JSON.stringify(statements));
    const part =
      shared === undefined
        ? sharedPart(context, keys, `policy:${JSON.stringify(statements)}`, () => ({
            policy: compilePolicy(statements, 'statements'),
            statements: deepFreeze(structuredClone(statements)),
          }))
        : { policy: shared, statements: record.statements };
    policy = part.policy;
    // The record's statements are the shared frozen copy: one per distinct policy, not one per webhook.
    record.statements = part.statements as Statement[];
  } else if (webhook.events.length === 0) {
    policy = context.defaultPolicy;
  }
  const events = webhook.events;
  let types: EventFilter;
  if (events.length === 0) types = compileEventFilter(events, 'events');
  else {
    const part = sharedPart(context, keys, `events:${JSON.stringify(events)}`, () => ({
      types: compileEventFilter(events, 'events'),
      events: deepFreeze(structuredClone(events)),
    }));
    types = part.types;
    record.events = part.events as string[];
  }
  if (record.contentType === DEFAULT_CONTENT_TYPE) record.contentType = DEFAULT_CONTENT_TYPE;
  record.signatureScheme =
    SCHEMES.find((scheme) => scheme === record.signatureScheme) ?? record.signatureScheme;
  if (record.tags.length === 0) record.tags = NO_TAGS as string[];
  if (Object.keys(record.headers).length === 0) record.headers = NO_HEADERS as Record<string, string>;
  // A User-Agent of the webhook's own replaces the default one (whatever its case).
  const ownUserAgent = Object.keys(webhook.headers).some((name) => name.toLowerCase() === 'user-agent');
  const headers = sharedPart(
    context,
    keys,
    `headers:${JSON.stringify([webhook.contentType, webhook.headers])}`,
    () =>
      Object.freeze({
        ...(ownUserAgent ? {} : { 'user-agent': USER_AGENT }),
        ...sentHeaders(webhook.headers),
        'content-type': webhook.contentType,
      }),
  );
  const { bodyTemplate, contentType, templateEscape } = webhook;
  const template =
    bodyTemplate === undefined
      ? undefined
      : sharedPart(
          context,
          keys,
          `template:${JSON.stringify([bodyTemplate, contentType, templateEscape])}`,
          () => compileTemplate(bodyTemplate, { contentType, escape: templateEscape, field: 'bodyTemplate' }),
        );
  const { id, name, url, tags } = record;
  return {
    webhook: Object.freeze(record),
    headers,
    templateWebhook: Object.freeze({ id, name, url, tags: tags.length === 0 ? NO_TAGS : [...tags] }),
    seq,
    types,
    policy,
    sharedKeys: keys.length === 0 ? NO_KEYS : keys,
    template,
  };
}

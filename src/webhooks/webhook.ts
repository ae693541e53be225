import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { CompiledPolicy, CompiledWebhook } from '../core/compiled-webhook.js';
import { describe, WebhookValidationError } from '../core/errors.js';
import { expectation } from '../core/schema-words.js';
import { findUnstorableField, unstorableExpectation } from '../core/storable-text.js';
import type {
  SignatureScheme,
  Statement,
  TemplateEscape,
  Webhook,
  WebhookInput,
  WebhookPatch,
} from '../core/types.js';
import { VERSION } from '../core/version.js';
import {
  deriveFieldLists,
  FIELD_DEFAULTS,
  type FieldSpec,
  INPUT_FIELDS,
  WEBHOOK_FIELDS,
  type WebhookFieldName,
} from '../core/webhook-fields.js';
import { validateContentType, validateHeaders } from '../rendering/header-rules.js';
import { isSigningKeyLike } from '../rendering/signing-keys.js';
import { assertTemplateNames, compileTemplate, TEMPLATE_ESCAPES } from '../rendering/template.js';
import { compileEventFilter, type EventFilter } from '../routing/event-filter.js';
import { policyIndexKeys } from '../routing/policy/index-keys.js';
import { createPolicyMatcher } from '../routing/policy/matcher.js';
import { type AddressPolicy, checkUrl } from '../transport/ssrf.js';
import { FIELD_CHECKS } from './webhook-certificate.js';
import { applySecret, assertSecretFits, rotateSecrets } from './webhook-secret.js';

/** What `create` and `update` accept: the declared input fields (core/webhook-fields.ts). */
const FIELDS = new Set<string>(INPUT_FIELDS);
/** Fields a saved record carries besides `id`, `url` and its timestamps. */
const STORED_FIELDS = (Object.keys(WEBHOOK_FIELDS) as WebhookFieldName[]).filter((key) => {
  const { access } = WEBHOOK_FIELDS[key];
  return access !== 'shown' && access !== 'switch' && !['id', 'url', 'createdAt', 'updatedAt'].includes(key);
});
/** Input fields `buildWebhook` validates with rules of their own; any other declared one is checked by its schema. */
const OWN_RULES = new Set<string>([
  'url',
  'name',
  'on',
  'sign',
  'secret',
  'signatureScheme',
  'statements',
  'events',
  'contentType',
  'bodyTemplate',
  'templateEscape',
  'headers',
  'tags',
  'tenant',
  'rateLimit',
]);

/**
 * A declared input field without rules of its own (a field added to the declaration): set when given and valid by
 * its schema, removed when `null`. A credential's value is never echoed in the message. `fields` is the declaration
 * (another one only in the test that adds a field to a copy).
 */
export function applyDeclaredFields(
  record: Record<string, unknown>,
  patch: Record<string, unknown>,
  fields: Record<string, FieldSpec> = WEBHOOK_FIELDS,
): void {
  const lists = fields === WEBHOOK_FIELDS ? DECLARED : deriveFieldLists(fields);
  for (const key of lists.input) {
    if (OWN_RULES.has(key) || !(key in patch) || patch[key] === undefined) continue;
    const value = patch[key];
    if (value === null) {
      delete record[key];
      continue;
    }
    const schema: TSchema = fields[key]!.schema;
    if (fields === WEBHOOK_FIELDS) FIELD_CHECKS[key]?.(value);
    if (!Value.Check(schema, value)) {
      const got = lists.credential.includes(key) ? `a value of type ${typeof value}` : describe(value);
      throw new WebhookValidationError(key, `Expected \`${key}\` to be ${expectation(schema)}, got ${got}`);
    }
    record[key] = structuredClone(value);
  }
}
const DECLARED = deriveFieldLists<string>(WEBHOOK_FIELDS);

/** Deliveries per second at most that `rateLimit` accepts (the lane keeps one timestamp per delivery of a second). */
export const MAX_RATE_LIMIT = 10_000;
/** Sent as `User-Agent` unless a webhook sets its own. */
export const USER_AGENT = `webhook-dispatcher/${VERSION}`;
const SCHEMES: readonly SignatureScheme[] = ['launchdarkly', 'standard', 'both'];

function invalid(field: string, expected: string, value: unknown): WebhookValidationError {
  return new WebhookValidationError(field, `Expected \`${field}\` to be ${expected}, got ${describe(value)}`);
}

/** Entries of `events` or `tags` at most (Unleash has 177 event types). */
const MAX_LIST_ENTRIES = 1_000;

function stringList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'an array of strings', value);
  if (value.length > MAX_LIST_ENTRIES) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to have at most ${MAX_LIST_ENTRIES} entries, got ${value.length}.`,
    );
  }
  value.forEach((item, i) => {
    if (typeof item !== 'string' || item === '') throw invalid(`${field}[${i}]`, 'a non-empty string', item);
  });
  return [...value];
}

/**
 * Validates `input` (a create body, or a patch applied over `existing`) and returns the record to save.
 * Throws a `WebhookValidationError` naming the first bad field. The policy, the event types and the template are
 * validated by `compileWebhook()`, which every save runs before writing. Nothing here runs per event.
 */
export function buildWebhook(
  input: unknown,
  context: {
    id: string;
    now: string;
    existing?: Webhook;
    addressPolicy: AddressPolicy;
    secretRotationMs?: number;
  },
): Webhook {
  const { existing } = context;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new WebhookValidationError(
      'webhook',
      `Expected the webhook to be an object, got ${describe(input)}`,
    );
  }
  for (const key of Object.keys(input)) {
    if (!FIELDS.has(key)) {
      throw new WebhookValidationError(
        key,
        `Unknown field \`${key}\`; known fields: ${[...FIELDS].join(', ')}`,
      );
    }
  }
  assertStorable(input);
  const patch = input as WebhookPatch & { id?: unknown; tenant?: unknown };
  const has = (key: keyof WebhookInput) => patch[key] !== undefined && patch[key] !== null;
  const cleared = (key: keyof WebhookInput) => (patch as Record<string, unknown>)[key] === null;

  for (const required of ['url', 'on'] as const) {
    if (cleared(required))
      throw invalid(required, required === 'url' ? 'an absolute http(s) URL' : 'a boolean', null);
  }
  const urlValue = has('url') ? patch.url : existing?.url;
  if (typeof urlValue !== 'string') throw invalid('url', 'an absolute http(s) URL', urlValue);
  const url = checkUrl(urlValue, context.addressPolicy, 'url').href;

  if ('tenant' in patch && patch.tenant !== undefined) {
    if (existing) {
      if (patch.tenant !== existing.tenant) {
        throw new WebhookValidationError(
          'tenant',
          'Expected `tenant` not to change: a webhook keeps the tenant it was created with',
        );
      }
    } else {
      validateTenant(patch.tenant);
    }
  }
  const webhook = { id: context.id, url } as Webhook;
  const record = webhook as unknown as Record<string, unknown>;
  // Every other stored field: kept from the existing webhook unless cleared, else its declared default.
  for (const key of STORED_FIELDS) {
    const old = (existing as Record<string, unknown> | undefined)?.[key];
    if (old !== undefined && !cleared(key as keyof WebhookInput)) record[key] = old;
    else if (FIELD_DEFAULTS[key] !== undefined) record[key] = structuredClone(FIELD_DEFAULTS[key]);
  }
  webhook.createdAt = existing?.createdAt ?? context.now;
  webhook.updatedAt = context.now;
  applyDeclaredFields(record, patch as Record<string, unknown>);

  if (has('name')) {
    if (typeof patch.name !== 'string') throw invalid('name', 'a string', patch.name);
    webhook.name = patch.name;
  }
  if (!existing && has('tenant')) webhook.tenant = patch.tenant as string;
  if (has('rateLimit') || cleared('rateLimit')) {
    if (patch.rateLimit == null) delete webhook.rateLimit;
    else webhook.rateLimit = validateRateLimit(patch.rateLimit);
  }
  if (has('on')) {
    if (typeof patch.on !== 'boolean') throw invalid('on', 'a boolean', patch.on);
    webhook.on = patch.on;
    // Switching a webhook on again is the answer to a switch-off by health: the reason goes with it.
    if (patch.on) delete webhook.disabled;
  }
  if (has('signatureScheme') || cleared('signatureScheme')) {
    const scheme = patch.signatureScheme ?? 'launchdarkly';
    if (!SCHEMES.includes(scheme)) throw invalid('signatureScheme', `one of ${SCHEMES.join(', ')}`, scheme);
    webhook.signatureScheme = scheme;
  }
  applySecret(webhook, patch, isSigningKeyLike(existing?.secret));
  rotateSecrets(webhook, existing, context.now, context.secretRotationMs ?? 0);

  applyFilterAndBody(webhook, patch);
  return webhook;
}

/** What is sent, and for which events: the policy, the event types, the body and its headers, the tags. */
function applyFilterAndBody(webhook: Webhook, patch: WebhookPatch): void {
  const has = (key: keyof WebhookPatch) => patch[key] !== undefined && patch[key] !== null;
  const cleared = (key: keyof WebhookPatch) => patch[key] === null;
  if (cleared('statements') || (Array.isArray(patch.statements) && patch.statements.length === 0)) {
    // `[]` reads as "no policy of its own", exactly like an absent field.
    delete webhook.statements;
  } else if (has('statements')) {
    // Validated by compileWebhook(), which names the failing path (`statements[1].resources[0]`).
    webhook.statements = structuredClone(patch.statements as Statement[]);
  }
  if (has('events') || cleared('events')) {
    webhook.events = patch.events == null ? [] : stringList('events', patch.events);
  }
  if (has('contentType') || cleared('contentType')) {
    webhook.contentType =
      patch.contentType == null ? 'application/json' : validateContentType(patch.contentType, 'contentType');
  }
  if (has('templateEscape')) {
    if (!TEMPLATE_ESCAPES.includes(patch.templateEscape as TemplateEscape)) {
      throw invalid('templateEscape', `one of ${TEMPLATE_ESCAPES.join(', ')}`, patch.templateEscape);
    }
    webhook.templateEscape = patch.templateEscape as TemplateEscape;
  }
  if (has('bodyTemplate')) {
    if (typeof patch.bodyTemplate !== 'string') throw invalid('bodyTemplate', 'a string', patch.bodyTemplate);
    assertTemplateNames(patch.bodyTemplate);
    webhook.bodyTemplate = patch.bodyTemplate;
  }
  if (has('headers') || cleared('headers')) {
    webhook.headers = patch.headers == null ? {} : validateHeaders(patch.headers, 'headers');
  }
  if (has('tags') || cleared('tags')) webhook.tags = patch.tags == null ? [] : stringList('tags', patch.tags);
}

/** Header names are written in brackets in field paths, as `validateHeaders` names them. */
const BRACKETED = new Set(['headers']);

/**
 * Refuses a NUL or a lone surrogate in any string of the input, keys included (see `storable-text.ts`): the memory
 * store would keep them, Postgres would not, so no store gets them.
 */
function assertStorable(input: object): void {
  for (const [key, value] of Object.entries(input)) {
    const found = findUnstorableField(value, key, BRACKETED);
    if (found) {
      throw new WebhookValidationError(
        found.field,
        `Expected \`${found.field}\` ${unstorableExpectation(found)}`,
      );
    }
  }
}

function validateRateLimit(value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > MAX_RATE_LIMIT ||
    !Number.isInteger(value)
  ) {
    throw invalid(
      'rateLimit',
      `a positive integer of at most ${MAX_RATE_LIMIT} (deliveries per second)`,
      value,
    );
  }
  return value;
}

const MAX_TENANT_LENGTH = 256;

/** Validates a tenant id: a non-empty string of printable characters. Tenants are compared exactly. */
export function validateTenant(value: unknown, field = 'tenant'): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_TENANT_LENGTH ||
    value.trim() !== value ||
    /[\p{C}]/u.test(value)
  ) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to be a non-empty string of at most ${MAX_TENANT_LENGTH} printable characters without leading or trailing spaces, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value}`,
    );
  }
  return value;
}

export type { CompiledPolicy, CompiledWebhook } from '../core/compiled-webhook.js';

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
  // One frozen certificate per compiled webhook: the transport keys its connection pools by this object.
  if (record.clientCertificate !== undefined) Object.freeze(record.clientCertificate);
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

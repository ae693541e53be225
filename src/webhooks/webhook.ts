import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, WebhookValidationError } from '../core/errors.js';
import { expectation } from '../core/schema-words.js';
import { findUnstorableField, unstorableExpectation } from '../core/storable-text.js';
import type { Statement, TemplateEscape, Webhook, WebhookInput, WebhookPatch } from '../core/types.js';
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
import { assertTemplateNames, TEMPLATE_ESCAPES } from '../rendering/template.js';
import { type AddressPolicy, checkUrl } from '../transport/ssrf.js';
import { invalid, SCHEMES, stringList, validateRateLimit, validateTenant } from './field-checks.js';
import { applySecret, rotateSecrets } from './webhook-secret.js';

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
    if (!Value.Check(schema, value)) {
      const got = lists.credential.includes(key) ? `a value of type ${typeof value}` : describe(value);
      throw new WebhookValidationError(key, `Expected \`${key}\` to be ${expectation(schema)}, got ${got}`);
    }
    record[key] = structuredClone(value);
  }
}
const DECLARED = deriveFieldLists<string>(WEBHOOK_FIELDS);

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

export type { CompiledPolicy, CompiledWebhook } from '../core/compiled-webhook.js';
export {
  type CompileContext,
  compileDefaultPolicy,
  compilePolicy,
  compileWebhook,
  USER_AGENT,
} from './compile.js';
export { MAX_RATE_LIMIT, validateTenant } from './field-checks.js';

// The admin API's shapes. The webhook's own come from its one field declaration (core/webhook-fields.ts); these
// TypeBox schemas validate request bodies and queries, give the
// TypeScript types (`Static<...>`), and are the components of the OpenAPI document (openapi.ts).
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { Webhook as Webhook_ } from '../core/types.js';
import { deriveFieldLists, type FieldSpec, StatementSchema, WEBHOOK_FIELDS } from '../core/webhook-fields.js';

/** Read-only members are accepted in a merge patch only when they equal the current values. */
export { READ_ONLY_FIELDS } from '../core/webhook-fields.js';

export const Statement = StatementSchema;

const nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
/** A record field (`headers`) merges member by member in a merge patch: a null member removes that entry. */
const isRecord = (schema: TSchema) => schema.type === 'object' && schema.patternProperties !== undefined;

const TenantField = Type.String({
  description: "Ignored when equal to the request's tenant, refused (422) otherwise: the server sets it.",
});

/** The description of a shown field in a merge patch: what setting it does. */
const PATCHED_AS: Record<string, string> = { signed: 'false removes the secret, true generates one.' };

function mergePatchMember(name: string, spec: FieldSpec): TSchema {
  if (spec.access === 'read-only' || spec.fixed) return Type.Optional(Type.Unknown({ readOnly: true }));
  if (spec.access === 'shown') {
    return Type.Optional(Type.Boolean({ description: PATCHED_AS[name] ?? spec.schema.description }));
  }
  // A required field, or one that null cannot clear (`on`), takes a value only.
  if (spec.required || spec.noClear) return Type.Optional(spec.schema);
  if (isRecord(spec.schema)) {
    const values = spec.schema.patternProperties as Record<string, TSchema>;
    const value = Object.values(values)[0]!;
    return Type.Optional(
      nullable(
        Type.Record(Type.String(), nullable(value), {
          description: 'Merged into the headers: a null value removes that header.',
        }),
      ),
    );
  }
  return Type.Optional(nullable(spec.schema));
}

/**
 * The admin API's webhook schemas, derived from a field declaration: the create body, the read representation, the
 * document a JSON Patch applies to, and the merge patch. Exported for the test that adds a field to a copy.
 */
export function deriveWebhookSchemas(fields: Record<string, FieldSpec>) {
  const lists = deriveFieldLists(fields);
  /** The create body: the input fields, `url` required; a create-only field (`tenant`) is the server's to set. */
  const create = Type.Object(
    Object.fromEntries(
      lists.input.map((name) => {
        const spec = fields[name]!;
        if (spec.createOnly) return [name, Type.Optional(TenantField)];
        return [name, spec.required ? spec.schema : Type.Optional(spec.schema)];
      }),
    ),
    { additionalProperties: false, title: 'WebhookCreate' },
  );

  /** The read representation: what a read shows, in its order; credentials never. */
  const view = Type.Object(
    Object.fromEntries(
      lists.view.map((name) => {
        const schema: TSchema = fields[name]!.schema;
        const always = (lists.alwaysShown as string[]).includes(name);
        return [name, always ? schema : (Type.Optional(schema) as TSchema)];
      }),
    ),
    { additionalProperties: false, title: 'Webhook' },
  );

  /** The document a JSON Patch applies to: the representation plus the write-only credentials (`secret`). */
  const document = Type.Object(
    {
      ...view.properties,
      ...Object.fromEntries(lists.credential.map((name) => [name, Type.Optional(fields[name]!.schema)])),
    },
    { additionalProperties: false },
  );

  const mergePatch = Type.Object(
    Object.fromEntries(Object.entries(fields).map(([name, spec]) => [name, mergePatchMember(name, spec)])),
    {
      additionalProperties: false,
      title: 'WebhookMergePatch',
      description:
        'RFC 7386 merge patch: members set fields, null clears an optional one. Read-only members must equal the current values.',
    },
  );
  return { create, view, document, mergePatch };
}

const schemas = deriveWebhookSchemas(WEBHOOK_FIELDS);
export const WebhookCreate = schemas.create;
export const Webhook = schemas.view;
export const WebhookDocument = schemas.document;
export const WebhookMergePatch = schemas.mergePatch;

export const WebhookWithSecret = Type.Object(
  {
    ...Webhook.properties,
    secret: Type.Optional(Type.String({ description: 'Shown in this response only: store it now.' })),
  },
  { additionalProperties: false, title: 'WebhookWithSecret' },
);

const JsonPointer = Type.String({
  pattern: '^(/.*)?$',
  description: 'RFC 6901 JSON Pointer, e.g. /statements/0/effect.',
});
export const JsonPatchOperation = Type.Union(
  [
    Type.Object(
      {
        op: Type.Union([Type.Literal('add'), Type.Literal('replace'), Type.Literal('test')]),
        path: JsonPointer,
        value: Type.Unknown(),
      },
      { additionalProperties: false },
    ),
    Type.Object({ op: Type.Literal('remove'), path: JsonPointer }, { additionalProperties: false }),
    Type.Object(
      { op: Type.Union([Type.Literal('move'), Type.Literal('copy')]), from: JsonPointer, path: JsonPointer },
      { additionalProperties: false },
    ),
  ],
  { title: 'JsonPatchOperation' },
);
export const JsonPatch = Type.Array(JsonPatchOperation, {
  maxItems: 100,
  title: 'JsonPatch',
  description:
    'RFC 6902 JSON Patch over the Webhook representation (plus the write-only /secret). A failing test op answers 409.',
});

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable code: ERR_INVALID_WEBHOOK, ERR_WEBHOOK_NOT_FOUND, ...' }),
      message: Type.String(),
      field: Type.Optional(
        Type.String({ description: 'Path of the offending field: url, statements[1].resources[0].' }),
      ),
      position: Type.Optional(
        Type.Integer({
          description: 'For ERR_INVALID_POLICY: the 0-based offset of the bad character in `field`.',
        }),
      ),
      line: Type.Optional(Type.Integer({ description: 'For ERR_INVALID_TEMPLATE: the 1-based line.' })),
      column: Type.Optional(Type.Integer({ description: 'For ERR_INVALID_TEMPLATE: the 1-based column.' })),
    }),
  },
  { title: 'Error' },
);

/** What `POST /webhooks/preview` answers: the exact request, credential headers redacted, signatures shown. */
export const PreviewedRequest = Type.Object(
  {
    url: Type.String(),
    method: Type.Literal('POST'),
    headers: Type.Record(Type.String(), Type.String()),
    body: Type.String(),
  },
  { title: 'PreviewedRequest' },
);

export const WebhookPage = Type.Object(
  {
    items: Type.Array(Webhook),
    nextCursor: Type.Optional(
      Type.String({ description: 'Pass as `cursor` for the next page; absent on the last.' }),
    ),
  },
  { title: 'WebhookPage' },
);

const DeliveryError = Type.Object({ code: Type.String(), message: Type.String() });
export const DeliveryResult = Type.Object(
  {
    deliveryId: Type.String(),
    webhookId: Type.String(),
    eventId: Type.String(),
    ok: Type.Boolean(),
    outcome: Type.Union([
      Type.Literal('delivered'),
      Type.Literal('failed'),
      Type.Literal('skipped'),
      Type.Literal('queued'),
    ]),
    attempts: Type.Integer(),
    status: Type.Optional(Type.Integer()),
    error: Type.Optional(DeliveryError),
    reason: Type.Optional(Type.String()),
    durationMs: Type.Number(),
  },
  { title: 'DeliveryResult' },
);

export const DeliveryAttempt = Type.Object(
  {
    attempt: Type.Integer(),
    startedAt: Type.String(),
    durationMs: Type.Number(),
    ok: Type.Boolean(),
    status: Type.Optional(Type.Integer()),
    error: Type.Optional(DeliveryError),
    redelivery: Type.Optional(Type.Boolean()),
    altered: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'Fields the log could not keep as they were: present ones had NUL and lone surrogates replaced with U+FFFD, absent ones were dropped because the log refused the full record.',
      }),
    ),
    request: Type.Object({
      url: Type.String(),
      headers: Type.Record(Type.String(), Type.String(), { description: 'Credentials redacted.' }),
      body: Type.Optional(Type.String()),
      bodyTruncated: Type.Optional(Type.Boolean()),
    }),
    response: Type.Optional(
      Type.Object({
        headers: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        body: Type.Optional(Type.String()),
      }),
    ),
  },
  { title: 'DeliveryAttempt' },
);

export const DeliveryRecord = Type.Object(
  {
    deliveryId: Type.String(),
    webhookId: Type.String(),
    eventId: Type.String(),
    eventType: Type.Optional(Type.String()),
    status: Type.Union([Type.Literal('delivered'), Type.Literal('failed')], {
      description: 'Of the latest attempt.',
    }),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    attempts: Type.Array(DeliveryAttempt, { description: 'Newest first.' }),
  },
  { title: 'DeliveryRecord' },
);

export const DeliveryPage = Type.Object(
  { items: Type.Array(DeliveryRecord), nextCursor: Type.Optional(Type.String()) },
  { title: 'DeliveryPage' },
);

export const RecoverAccepted = Type.Object(
  {
    queued: Type.Integer({
      minimum: 0,
      description:
        'Deliveries queued for re-sending; their outcomes appear in the delivery log as they happen.',
    }),
  },
  { title: 'RecoverAccepted' },
);

const TimeBound = Type.Union([
  Type.String({ description: 'ISO-8601' }),
  Type.Number({ description: 'Epoch ms' }),
]);
export const RecoverBody = Type.Object(
  { since: TimeBound, until: Type.Optional(TimeBound) },
  {
    additionalProperties: false,
    title: 'RecoverRequest',
    description: 'Resend the deliveries still failed in [since, until).',
  },
);
export const RedeliverBody = Type.Object(
  { force: Type.Optional(Type.Boolean({ description: 'Send even though the webhook is switched off.' })) },
  { additionalProperties: false, title: 'RedeliverRequest' },
);

export const EventTypeList = Type.Object(
  {
    catalog: Type.Union([Type.String(), Type.Null()], {
      description: "The dispatcher's catalog; null: types are free strings.",
    }),
    items: Type.Array(
      Type.Object({
        type: Type.String(),
        description: Type.String(),
        deprecated: Type.Optional(Type.Boolean()),
        schema: Type.Optional(Type.Unknown()),
      }),
    ),
  },
  { title: 'EventTypeList' },
);

const Limit = Type.Integer({ minimum: 1, maximum: 100, description: 'Page size (default 50).' });
const Cursor = Type.String({ minLength: 1, maxLength: 1024, description: 'From the previous page.' });
export const WebhookListQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);
export const DeliveryListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('delivered'), Type.Literal('failed')])),
    since: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms; by creation time.' })),
    until: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms (exclusive).' })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

/**
 * The read representation (`GET /webhooks/:id`): a saved webhook without its credentials, with `signed`. Its members
 * are the declared view fields (test/webhook-fields.test.ts checks the two agree).
 */
export type WebhookView = Omit<Webhook_, 'secret' | 'previousSecrets' | 'disabled' | 'clientCertificate'> & {
  signed: boolean;
  /** The Ed25519 public key (`whpk_…`) of a `whsk_` secret. */
  publicKey?: string;
  /** What the webhook's client certificate presents (never its key). */
  certificate?: CertificateView;
  disabled?: { at: string; reason: string };
};
export type CertificateView = Static<typeof WEBHOOK_FIELDS.certificate.schema>;
export type WebhookCreateBody = Static<typeof WebhookCreate>;
export type JsonPatchBody = Static<typeof JsonPatch>;
export type ApiErrorBody = Static<typeof ErrorBody>;

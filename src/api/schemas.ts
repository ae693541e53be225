// The one source of the admin API's shapes: these TypeBox schemas validate request bodies and queries, give the
// TypeScript types (`Static<...>`), and are the components of the OpenAPI document (openapi.ts).
import { type Static, type TSchema, Type } from '@sinclair/typebox';

const StringList = (description: string) => Type.Array(Type.String({ minLength: 1 }), { description });

export const Statement = Type.Object(
  {
    effect: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
    actions: Type.Optional(StringList('Action names or globs (`update*`).')),
    notActions: Type.Optional(StringList('Every action except these.')),
    resources: Type.Optional(StringList('Resource specifiers (`proj/*:env/production:flag/*`).')),
    notResources: Type.Optional(StringList('Every resource except these.')),
  },
  {
    additionalProperties: false,
    description:
      'A LaunchDarkly policy statement: exactly one of actions/notActions and one of resources/notResources.',
  },
);

const SignatureScheme = Type.Union(
  [Type.Literal('launchdarkly'), Type.Literal('standard'), Type.Literal('both')],
  { description: 'Which signature headers deliveries carry.' },
);
const TemplateEscape = Type.Union([Type.Literal('json'), Type.Literal('html'), Type.Literal('none')], {
  description: 'Escaping of `{{x}}` in bodyTemplate.',
});
const Headers = Type.Record(Type.String(), Type.String(), {
  description: 'Extra request headers. Values of credential-like headers are shown as "<redacted>".',
});

/** Fields a client sets, with their descriptions; shared by create, merge patch and the read representation. */
const editable = {
  url: Type.String({ minLength: 1, description: 'Absolute http(s) URL the POST goes to.' }),
  name: Type.String({ description: 'Human-readable name.' }),
  on: Type.Boolean({ description: 'Deliveries happen only while on.' }),
  statements: Type.Array(Statement, { description: 'LaunchDarkly policy statements.' }),
  events: StringList('Event types or globs (`change-request-*`); empty = every type.'),
  contentType: Type.String({ minLength: 1, description: 'Content-Type of the body.' }),
  bodyTemplate: Type.String({ description: 'Mustache template of the body.' }),
  templateEscape: TemplateEscape,
  headers: Headers,
  tags: StringList('Free-form tags.'),
  signatureScheme: SignatureScheme,
  rateLimit: Type.Number({ exclusiveMinimum: 0, description: 'Deliveries per second at most.' }),
  ordering: Type.Literal('fifo', {
    description: 'fifo: deliveries arrive in emit order, one at a time. Absent: unordered.',
  }),
};
const writeOnly = {
  sign: Type.Boolean({ description: 'Sign deliveries; true without secret generates one.' }),
  secret: Type.String({
    minLength: 1,
    writeOnly: true,
    description: 'Signing secret (implies sign). Shown once: in the response that set or generated it.',
  }),
};
const TenantField = Type.String({
  description: "Ignored when equal to the request's tenant, refused (422) otherwise: the server sets it.",
});

export const WebhookCreate = Type.Object(
  {
    url: editable.url,
    ...Object.fromEntries(
      Object.entries({ ...editable, ...writeOnly })
        .filter(([key]) => key !== 'url')
        .map(([key, schema]) => [key, Type.Optional(schema)]),
    ),
    tenant: Type.Optional(TenantField),
  } as { url: typeof editable.url } & Record<string, TSchema>,
  { additionalProperties: false, title: 'WebhookCreate' },
);

const Disabled = Type.Object(
  {
    at: Type.String({ description: 'ISO-8601 time it was switched off.' }),
    reason: Type.String({ description: '`failing`, `gone`, or a reason of the host.' }),
  },
  {
    readOnly: true,
    description: 'Set when endpoint health switched the webhook off; cleared by setting on: true.',
  },
);

/** Fields the server maintains: a patch that changes them is refused (422). */
export const READ_ONLY_FIELDS = ['id', 'tenant', 'createdAt', 'updatedAt', 'disabled'] as const;

export const Webhook = Type.Object(
  {
    id: Type.String({ readOnly: true }),
    tenant: Type.Optional(Type.String({ readOnly: true })),
    url: editable.url,
    name: Type.Optional(editable.name),
    on: editable.on,
    signed: Type.Boolean({
      description: 'True when deliveries are signed. The secret itself is never shown on reads.',
    }),
    signatureScheme: editable.signatureScheme,
    statements: Type.Optional(editable.statements),
    events: editable.events,
    contentType: editable.contentType,
    bodyTemplate: Type.Optional(editable.bodyTemplate),
    templateEscape: Type.Optional(editable.templateEscape),
    headers: editable.headers,
    tags: editable.tags,
    rateLimit: Type.Optional(editable.rateLimit),
    ordering: Type.Optional(editable.ordering),
    disabled: Type.Optional(Disabled),
    createdAt: Type.String({ readOnly: true }),
    updatedAt: Type.String({ readOnly: true }),
  },
  { additionalProperties: false, title: 'Webhook' },
);

/** The document a JSON Patch applies to: the representation plus the write-only `secret`. */
export const WebhookDocument = Type.Object(
  { ...Webhook.properties, secret: Type.Optional(writeOnly.secret) },
  { additionalProperties: false },
);

export const WebhookWithSecret = Type.Object(
  {
    ...Webhook.properties,
    secret: Type.Optional(Type.String({ description: 'Shown in this response only: store it now.' })),
  },
  { additionalProperties: false, title: 'WebhookWithSecret' },
);

const nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
export const WebhookMergePatch = Type.Object(
  {
    url: Type.Optional(editable.url),
    on: Type.Optional(editable.on),
    signed: Type.Optional(Type.Boolean({ description: 'false removes the secret, true generates one.' })),
    ...Object.fromEntries(
      Object.entries({ ...editable, ...writeOnly })
        .filter(([key]) => key !== 'url' && key !== 'on' && key !== 'headers')
        .map(([key, schema]) => [key, Type.Optional(nullable(schema))]),
    ),
    headers: Type.Optional(
      nullable(
        Type.Record(Type.String(), nullable(Type.String()), {
          description: 'Merged into the headers: a null value removes that header.',
        }),
      ),
    ),
    ...Object.fromEntries(
      READ_ONLY_FIELDS.map((key) => [key, Type.Optional(Type.Unknown({ readOnly: true }))]),
    ),
  } as Record<string, TSchema>,
  {
    additionalProperties: false,
    title: 'WebhookMergePatch',
    description:
      'RFC 7386 merge patch: members set fields, null clears an optional one. Read-only members must equal the current values.',
  },
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

export type WebhookView = Static<typeof Webhook>;
export type WebhookCreateBody = Static<typeof WebhookCreate>;
export type JsonPatchBody = Static<typeof JsonPatch>;
export type ApiErrorBody = Static<typeof ErrorBody>;

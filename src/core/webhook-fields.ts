// The one declaration of a webhook's fields. Everything that lists them derives from `WEBHOOK_FIELDS`: the fields
// `webhooks.create()`/`update()` accept and keep (webhooks/webhook.ts), the admin API's create, merge-patch and read
// schemas and so its OpenAPI document (api/schemas.ts), its read view (api/view.ts) and the editable set of a patch
// (api/patch.ts). A new field is one entry here (and its property on `Webhook`/`WebhookInput` in types.ts, which
// test/webhook-fields.test.ts checks against this list).
import { type Static, type TSchema, Type } from '@sinclair/typebox';

const StringList = (description: string) => Type.Array(Type.String({ minLength: 1 }), { description });

export const StatementSchema = Type.Object(
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

const DisabledSchema = Type.Object(
  {
    at: Type.String({ description: 'ISO-8601 time it was switched off.' }),
    reason: Type.String({ description: '`failing`, `gone`, or a reason of the host.' }),
  },
  {
    readOnly: true,
    description: 'Set when endpoint health switched the webhook off; cleared by setting on: true.',
  },
);

/**
 * What a field is to a client:
 * - `editable`: set on create and by patches, shown on reads;
 * - `credential`: set on create and by patches, stored, never shown on reads (a view may show a derived flag);
 * - `switch`: a request-only instruction, not stored as itself (`sign: true` generates a secret);
 * - `shown`: derived for reads only (`signed`), patchable through what it stands for;
 * - `read-only`: maintained by the dispatcher (a patch that changes it is refused).
 */
export type FieldAccess = 'editable' | 'credential' | 'switch' | 'shown' | 'read-only';

export interface FieldSpec {
  access: FieldAccess;
  schema: TSchema;
  /** Always present on a saved webhook (and on reads); the value a new webhook gets when the input has none. */
  default?: unknown;
  /** Required on create (only `url`). */
  required?: boolean;
  /** May the dispatcher's input set it? `tenant` is set at creation only, and is read-only afterwards. */
  createOnly?: boolean;
  /** `null` does not clear it (`on`): a patch can only set it. */
  noClear?: boolean;
  /** On every read although it has no default (`id`, `signed`, the timestamps). */
  always?: boolean;
}

function field<
  const A extends FieldAccess,
  S extends TSchema,
  const M extends Partial<FieldSpec> = Partial<FieldSpec>,
>(access: A, schema: S, more?: M): { access: A; schema: S } & M {
  return { access, schema, ...(more as M) };
}

/** Every field of a webhook, in the order reads show them. */
export const WEBHOOK_FIELDS = {
  id: field('read-only', Type.String({ readOnly: true }), { always: true }),
  tenant: field('read-only', Type.String({ readOnly: true }), { createOnly: true }),
  name: field('editable', Type.String({ description: 'Human-readable name.' })),
  url: field(
    'editable',
    Type.String({ minLength: 1, description: 'Absolute http(s) URL the POST goes to.' }),
    { required: true },
  ),
  on: field('editable', Type.Boolean({ description: 'Deliveries happen only while on.' }), {
    default: true,
    noClear: true,
  }),
  signed: field(
    'shown',
    Type.Boolean({
      description: 'True when deliveries are signed. The secret itself is never shown on reads.',
    }),
    { always: true },
  ),
  sign: field('switch', Type.Boolean({ description: 'Sign deliveries; true without secret generates one.' })),
  secret: field(
    'credential',
    Type.String({
      minLength: 1,
      writeOnly: true,
      description: 'Signing secret (implies sign). Shown once: in the response that set or generated it.',
    }),
  ),
  signatureScheme: field(
    'editable',
    Type.Union([Type.Literal('launchdarkly'), Type.Literal('standard'), Type.Literal('both')], {
      description: 'Which signature headers deliveries carry.',
    }),
    { default: 'launchdarkly' },
  ),
  statements: field(
    'editable',
    Type.Array(StatementSchema, { description: 'LaunchDarkly policy statements.' }),
  ),
  events: field('editable', StringList('Event types or globs (`change-request-*`); empty = every type.'), {
    default: [],
  }),
  contentType: field('editable', Type.String({ minLength: 1, description: 'Content-Type of the body.' }), {
    default: 'application/json',
  }),
  bodyTemplate: field('editable', Type.String({ description: 'Mustache template of the body.' })),
  templateEscape: field(
    'editable',
    Type.Union([Type.Literal('json'), Type.Literal('html'), Type.Literal('none')], {
      description: 'Escaping of `{{x}}` in bodyTemplate.',
    }),
  ),
  headers: field(
    'editable',
    Type.Record(Type.String(), Type.String(), {
      description: 'Extra request headers. Values of credential-like headers are shown as "<redacted>".',
    }),
    { default: {} },
  ),
  tags: field('editable', StringList('Free-form tags.'), { default: [] }),
  rateLimit: field(
    'editable',
    Type.Number({ exclusiveMinimum: 0, description: 'Deliveries per second at most.' }),
  ),
  ordering: field(
    'editable',
    Type.Literal('fifo', {
      description: 'fifo: deliveries arrive in emit order, one in flight at a time. Absent: unordered.',
    }),
  ),
  disabled: field('read-only', DisabledSchema),
  createdAt: field('read-only', Type.String({ readOnly: true }), { always: true }),
  updatedAt: field('read-only', Type.String({ readOnly: true }), { always: true }),
} satisfies Record<string, FieldSpec>;

export type WebhookFieldName = keyof typeof WEBHOOK_FIELDS;

/** The lists every consumer derives from a declaration (exported for the test that adds a field to a copy). */
export function deriveFieldLists<N extends string>(fields: Record<N, FieldSpec>) {
  const names = Object.keys(fields) as N[];
  const where = (test: (spec: FieldSpec) => boolean) => names.filter((name) => test(fields[name]));
  return {
    /** Fields a client edits, and reads back. */
    editable: where((spec) => spec.access === 'editable'),
    /** Stored, accepted, never shown (`secret`). */
    credential: where((spec) => spec.access === 'credential'),
    /** What `webhooks.create()` accepts. */
    input: where(
      (spec) =>
        spec.access === 'editable' ||
        spec.access === 'credential' ||
        spec.access === 'switch' ||
        !!spec.createOnly,
    ),
    /** What a saved webhook carries that `create` would take again (to preview an edit of it). */
    savedInput: where((spec) => spec.access === 'editable' || spec.access === 'credential'),
    /** Maintained by the dispatcher: a patch may not change them. */
    readOnly: where((spec) => spec.access === 'read-only'),
    /** What a read shows, in this order. */
    view: where((spec) => spec.access !== 'credential' && spec.access !== 'switch'),
    /** On every read (the others are optional members of the view). */
    alwaysShown: where(
      (spec) =>
        spec.access !== 'credential' &&
        spec.access !== 'switch' &&
        (!!spec.required || spec.default !== undefined || !!spec.always),
    ),
    /** Present on every saved webhook, with the value a new one starts from. */
    defaults: Object.fromEntries(
      names.flatMap((name) => (fields[name].default === undefined ? [] : [[name, fields[name].default]])),
    ) as Partial<Record<N, unknown>>,
  };
}

const lists = deriveFieldLists<WebhookFieldName>(WEBHOOK_FIELDS);
export const EDITABLE_FIELDS = lists.editable;
export const CREDENTIAL_FIELDS = lists.credential;
export const INPUT_FIELDS = lists.input;
export const SAVED_INPUT_FIELDS = lists.savedInput;
export const READ_ONLY_FIELDS = lists.readOnly;
export const VIEW_FIELDS = lists.view;
export const ALWAYS_SHOWN_FIELDS = lists.alwaysShown;
export const FIELD_DEFAULTS = lists.defaults;

export type StatementBody = Static<typeof StatementSchema>;

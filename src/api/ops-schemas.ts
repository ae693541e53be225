// The schemas of the operator routes (routes/operations.ts): deliveries across the tenant's webhooks, their
// recovery in one call, and a webhook's delivery figures.
import { Type } from '@sinclair/typebox';

const TimeBound = Type.Union([
  Type.String({ description: 'ISO-8601' }),
  Type.Number({ description: 'Epoch ms' }),
]);
const Limit = Type.Integer({ minimum: 1, maximum: 100, description: 'Page size (default 50).' });
const Cursor = Type.String({ minLength: 1, maxLength: 1024, description: 'From the previous page.' });
const Id = Type.String({ minLength: 1, maxLength: 256 });

/** `GET /deliveries`: no `tenant` parameter, on purpose: the tenant is the request's own. */
export const DeliverySearchQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('delivered'), Type.Literal('failed')])),
    since: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms; by creation time.' })),
    until: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms (exclusive).' })),
    webhookId: Type.Optional(Id),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const RecoverAllBody = Type.Object(
  {
    since: TimeBound,
    until: Type.Optional(TimeBound),
    webhookId: Type.Optional(Type.String({ ...Id, description: "Only this webhook's (of the tenant)." })),
  },
  {
    additionalProperties: false,
    title: 'RecoverAllRequest',
    description:
      "Resend every delivery of the tenant's webhooks still failed in [since, until); webhooks deleted or switched off are skipped.",
  },
);

export const StatsQuery = Type.Object(
  { since: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms; by creation time.' })) },
  { additionalProperties: false },
);

const Nullable = <T extends ReturnType<typeof Type.Number>>(schema: T, description: string) =>
  Type.Union([schema, Type.Null()], { description });
const NullableTime = (description: string) => Type.Union([Type.String(), Type.Null()], { description });

export const WebhookStats = Type.Object(
  {
    delivered: Type.Integer({ minimum: 0, description: 'Deliveries whose latest attempt succeeded.' }),
    failed: Type.Integer({ minimum: 0, description: 'Deliveries whose latest attempt failed.' }),
    successRate: Nullable(
      Type.Number({ minimum: 0, maximum: 1 }),
      'delivered / (delivered + failed); null: none.',
    ),
    p50Ms: Nullable(Type.Number(), "Median latency of the deliveries' latest attempts; null: none."),
    p95Ms: Nullable(Type.Number(), '95th percentile latency; null: none.'),
    lastDeliveredAt: NullableTime('ISO-8601 time of the latest successful attempt, or null.'),
    lastFailedAt: NullableTime('ISO-8601 time of the latest failed attempt, or null.'),
  },
  {
    title: 'WebhookStats',
    description: 'From the newest 10,000 deliveries the log keeps (created at or after `since`).',
  },
);

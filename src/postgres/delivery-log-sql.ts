// The delivery log's SQL and rows: what `postgresDeliveryLog()` sends and reads back.

import type { DeliveryAttempt, DeliveryRef, NormalizedDeliveryQuery } from '../extend.js';
import type { DeliveryRecord, WebhookDeliveryStats } from '../index.js';

/** The most deliveries `webhookStats` reads (the newest), as in the memory and Redis logs. */
const STATS_MAX_DELIVERIES = 10_000;

export interface Row {
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  tenant: string | null;
  event_type: string | null;
  status: 'delivered' | 'failed';
  created_at: Date;
  updated_at: Date;
  attempts: DeliveryAttempt[];
}

export function toRecord(row: Row): DeliveryRecord {
  const record: DeliveryRecord = {
    deliveryId: row.delivery_id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    attempts: row.attempts,
  };
  if (row.tenant !== null) record.tenant = row.tenant;
  if (row.event_type !== null) record.eventType = row.event_type;
  return record;
}

export function toRef(row: Pick<Row, 'delivery_id' | 'webhook_id' | 'tenant' | 'created_at'>): DeliveryRef {
  const ref: DeliveryRef = {
    deliveryId: row.delivery_id,
    webhookId: row.webhook_id,
    createdAt: row.created_at.toISOString(),
  };
  if (row.tenant !== null) ref.tenant = row.tenant;
  return ref;
}

/** Adds an attempt: the row is made by the first one; the status follows the latest `startedAt`. */
export const recordSql = (table: string) => `
INSERT INTO ${table} AS d (delivery_id, webhook_id, event_id, tenant, event_type, status, created_at, updated_at, attempts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7, jsonb_build_array($8::jsonb))
ON CONFLICT (delivery_id) DO UPDATE SET
  status = CASE WHEN EXCLUDED.updated_at >= d.updated_at THEN EXCLUDED.status ELSE d.status END,
  created_at = LEAST(d.created_at, EXCLUDED.created_at),
  updated_at = GREATEST(d.updated_at, EXCLUDED.updated_at),
  attempts = CASE WHEN jsonb_array_length(d.attempts) < $9 THEN EXCLUDED.attempts || d.attempts
    ELSE (SELECT jsonb_agg(e ORDER BY i) FROM jsonb_array_elements(EXCLUDED.attempts || d.attempts)
          WITH ORDINALITY AS t(e, i) WHERE i <= $9) END
RETURNING (xmax = 0) AS fresh`;

/** Keeps the newest `perWebhook` ($2) deliveries of a webhook ($1). */
export const trimSql = (table: string) => `
DELETE FROM ${table} WHERE webhook_id = $1 AND delivery_id IN (
  SELECT delivery_id FROM ${table} WHERE webhook_id = $1
  ORDER BY created_at DESC, delivery_id DESC OFFSET $2)`;

const NEWEST = 'ORDER BY created_at DESC, delivery_id DESC';

/**
 * A page of deliveries (`columns`) matching `q`, newest first, one row more than the page to tell whether there
 * are more. With a webhook, never more than its newest `perWebhook`, even before a trim has run; across webhooks,
 * one indexed scan (`_created`, `_tenant_created` or the failed-only index of the migration).
 */
export function pageSql(
  table: string,
  q: NormalizedDeliveryQuery,
  ageLimit: Date,
  perWebhook: number,
  columns = '*',
): { text: string; values: unknown[] } {
  const values: unknown[] = [ageLimit];
  const where = ['updated_at >= $1'];
  let from = table;
  if (q.webhookId !== undefined) {
    const w = values.push(q.webhookId);
    where.push(`webhook_id = $${w}`);
    from = `(SELECT * FROM ${table} WHERE webhook_id = $${w} ${NEWEST} LIMIT ${perWebhook}) newest`;
  }
  if (q.tenant !== undefined) where.push(`tenant = $${values.push(q.tenant)}`);
  if (q.status) where.push(`status = $${values.push(q.status)}`);
  if (Number.isFinite(q.sinceMs)) where.push(`created_at >= $${values.push(new Date(q.sinceMs))}`);
  if (Number.isFinite(q.untilMs)) where.push(`created_at < $${values.push(new Date(q.untilMs))}`);
  if (q.after) {
    const a = values.push(new Date(q.after.ms));
    const b = values.push(q.after.id);
    where.push(`(created_at, delivery_id) < ($${a}, $${b})`);
  }
  return {
    text: `SELECT ${columns} FROM ${from} WHERE ${where.join(' AND ')} ${NEWEST} LIMIT ${q.limit + 1}`,
    values,
  };
}

export interface StatsRow {
  delivered: number;
  failed: number;
  p50: number | null;
  p95: number | null;
  last_delivered: Date | null;
  last_failed: Date | null;
}

/**
 * A webhook's ($1) figures in one statement: its newest `perWebhook` deliveries, alive ($2) and created at or after
 * $3, the newest 10,000 of them; latency is the latest attempt's `durationMs` (attempts are kept newest first).
 */
export const statsSql = (table: string, perWebhook: number) => `
SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
       count(*) FILTER (WHERE status = 'failed')::int AS failed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
       max(updated_at) FILTER (WHERE status = 'delivered') AS last_delivered,
       max(updated_at) FILTER (WHERE status = 'failed') AS last_failed
FROM (
  SELECT status, updated_at, (attempts->0->>'durationMs')::float8 AS ms
  FROM (SELECT * FROM ${table} WHERE webhook_id = $1 ${NEWEST} LIMIT ${perWebhook}) newest
  WHERE updated_at >= $2 AND created_at >= $3
  ${NEWEST} LIMIT ${STATS_MAX_DELIVERIES}
) d`;

export function toStats(row: StatsRow | undefined): WebhookDeliveryStats {
  const delivered = row?.delivered ?? 0;
  const failed = row?.failed ?? 0;
  return {
    delivered,
    failed,
    successRate: delivered + failed === 0 ? null : delivered / (delivered + failed),
    p50Ms: row?.p50 ?? null,
    p95Ms: row?.p95 ?? null,
    lastDeliveredAt: row?.last_delivered?.toISOString() ?? null,
    lastFailedAt: row?.last_failed?.toISOString() ?? null,
  };
}

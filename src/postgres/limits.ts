import { randomUUID } from 'node:crypto';
import { type RateLimitStore, rateSpacingMicros } from '../extend.js';
import type { Webhook } from '../index.js';
import { inTransaction, type PoolLike } from './sql.js';

/** A webhook row's values, in the column order `(id, tenant, record, created_at)`. */
export type WebhookRow = [id: string, tenant: string | null, record: string, createdAt: string];

/**
 * Inserts a webhook row unless its tenant already has `max` rows, under a per-tenant advisory lock held until the
 * transaction ends: two processes creating for one tenant at once take turns, and each counts what the other
 * committed (every statement of a READ COMMITTED transaction sees the rows committed before it started).
 * Resolves 'created', 'exists' (the id is taken) or 'full'.
 */
export async function insertWithinTenantLimit(
  pool: PoolLike,
  table: string,
  row: WebhookRow,
  max: number,
): Promise<'created' | 'exists' | 'full'> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [table, row[1]]);
    const { rows } = await client.query<{ full: boolean; created: boolean }>(
      `WITH existing AS (SELECT count(*) AS n FROM ${table} WHERE tenant = $2),
       inserted AS (
         INSERT INTO ${table} (id, tenant, record, created_at)
         SELECT $1, $2, $3, $4 FROM existing WHERE existing.n < $5
         ON CONFLICT (id) DO NOTHING RETURNING 1
       )
       SELECT (SELECT n FROM existing) >= $5 AS full, EXISTS (SELECT 1 FROM inserted) AS created`,
      [...row, max],
    );
    const answer = rows[0];
    return answer?.created ? 'created' : answer?.full ? 'full' : 'exists';
  });
}

/**
 * `rateLimit` kept in `<table>_rates`: each row holds the time (µs, by the database's clock, so the workers' clocks
 * need not agree) from which the webhook's next delivery may start. One statement per start: the upsert locks the
 * row, so concurrent takes for one webhook apply one after the other; `grant_id` says whether this one took the slot.
 */
export function postgresRateLimits(
  pool: PoolLike,
  rates: string,
  explain: (error: unknown) => never,
): RateLimitStore {
  const now = 'floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint';
  const free = 'r.next_at <= EXCLUDED.next_at - $2';
  const sql = `
    INSERT INTO ${rates} AS r (webhook_id, next_at, grant_id) VALUES ($1, ${now} + $2, $3)
    ON CONFLICT (webhook_id) DO UPDATE SET
      next_at = CASE WHEN ${free} THEN EXCLUDED.next_at ELSE r.next_at END,
      grant_id = CASE WHEN ${free} THEN EXCLUDED.grant_id ELSE r.grant_id END
    RETURNING grant_id = $3 AS granted, next_at - ${now} AS wait_micros`;
  return {
    async take(id, perSecond) {
      const { rows } = await pool
        .query<{ granted: boolean; wait_micros: string }>(sql, [
          id,
          rateSpacingMicros(perSecond),
          randomUUID(),
        ])
        .catch(explain);
      const row = rows[0];
      return row === undefined || row.granted ? 0 : Math.max(1, Math.ceil(Number(row.wait_micros) / 1000));
    },
  };
}

/** The row values of a webhook record. */
export function webhookRow(webhook: Webhook): WebhookRow {
  const tenant = (webhook as { tenant?: unknown }).tenant;
  return [
    webhook.id,
    typeof tenant === 'string' ? tenant : null,
    JSON.stringify(webhook),
    String(webhook.createdAt),
  ];
}

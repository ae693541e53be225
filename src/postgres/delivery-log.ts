// A pure function (no class): a copy in this entry's bundle is harmless.
import { isStorable } from '../core/storable-text.js';
import {
  type DeliveryAttempt,
  encodeDeliveryCursor,
  normalizeDeliveryAttempt,
  normalizeDeliveryQuery,
  numberOption,
} from '../extend.js';
import type { DeliveryLog, DeliveryPage, DeliveryRecord } from '../index.js';
import { type PostgresSchemaOptions, resolveNames } from './migrate.js';
import { assertPool, errorMessage, type PoolLike } from './sql.js';

/** Options of `postgresDeliveryLog()`. */
export interface PostgresDeliveryLogOptions
  extends Pick<PostgresSchemaOptions, 'schema' | 'deliveriesTable'> {
  /** A `pg.Pool`; not closed by the log. */
  pool: PoolLike;
  /** Deliveries older than this (by their latest attempt) are deleted. @default 604_800_000 (7 days) */
  maxAgeMs?: number;
  /** Deliveries kept per webhook at most (the newest). @default 100 */
  perWebhook?: number;
  /** Attempts kept per delivery at most (the newest). @default 50 */
  maxAttemptsPerDelivery?: number;
  /** Request and response bodies kept per attempt at most, in UTF-8 bytes. @default the dispatcher's bound */
  maxBodyBytes?: number;
  /** How often in ms the age retention runs, in every process that records. @default 60_000 */
  pruneIntervalMs?: number;
  /** Where failed prunes go (recording errors go to the dispatcher). Silent by default. */
  logger?: { warn?(message: string, meta?: Record<string, unknown>): void };
}

export interface PostgresDeliveryLog extends DeliveryLog {
  record(attempt: DeliveryAttempt): Promise<void>;
  /** Runs the retention now: deletes what is older than `maxAgeMs`. Resolves with the number of rows deleted. */
  prune(): Promise<number>;
  /** Stops the retention timer. */
  close(): void;
}

interface Row {
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

function toRecord(row: Row): DeliveryRecord {
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

/**
 * The delivery log on Postgres: one row per delivery (its attempts newest first, as `jsonb`), so a delivery can be
 * listed, inspected and sent again from any process. Retention by age runs every `pruneIntervalMs`; the count per
 * webhook is trimmed now and then as deliveries are recorded (and `list` never shows more than the newest).
 *
 * @example
 * await migrate(pool);
 * const dispatcher = createWebhookDispatcher({ deliveryLog: postgresDeliveryLog({ pool }), ... });
 */
export function postgresDeliveryLog(options: PostgresDeliveryLogOptions): PostgresDeliveryLog {
  assertPool('pool', options?.pool);
  const pool = options.pool;
  const table = resolveNames({ schema: options.schema, deliveriesTable: options.deliveriesTable }).deliveries;
  const maxAgeMs = numberOption('maxAgeMs', options.maxAgeMs, 604_800_000, {
    positive: true,
    max: 100 * 365 * 86_400_000,
  });
  const perWebhook = numberOption('perWebhook', options.perWebhook, 100, {
    positive: true,
    integer: true,
    max: 1_000_000,
  });
  const maxAttempts = numberOption('maxAttemptsPerDelivery', options.maxAttemptsPerDelivery, 50, {
    positive: true,
    integer: true,
    max: 10_000,
  });
  const pruneIntervalMs = numberOption('pruneIntervalMs', options.pruneIntervalMs, 60_000, {
    positive: true,
  });
  const maxBodyBytes =
    options.maxBodyBytes === undefined
      ? undefined
      : numberOption('maxBodyBytes', options.maxBodyBytes, 0, {
          positive: true,
          integer: true,
          max: 64 * 1_048_576,
        });
  const warn = (message: string, error: unknown) => {
    try {
      options.logger?.warn?.call(options.logger, message, { table, error: errorMessage(error) });
    } catch {
      // ignore
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const startTimer = () => {
    if (timer || closed) return;
    timer = setInterval(() => {
      prune().catch((error) => warn('webhook-dispatcher/postgres: delivery log retention failed', error));
    }, pruneIntervalMs);
    timer.unref?.();
  };

  /** Deliveries recorded per webhook since its last trim, in this process. */
  const sinceTrim = new Map<string, number>();
  const trimEvery = Math.max(1, Math.min(100, Math.ceil(perWebhook / 10)));
  const trim = (webhookId: string) =>
    pool
      .query(
        `DELETE FROM ${table} WHERE webhook_id = $1 AND delivery_id IN (
           SELECT delivery_id FROM ${table} WHERE webhook_id = $1
           ORDER BY created_at DESC, delivery_id DESC OFFSET $2)`,
        [webhookId, perWebhook],
      )
      .catch((error) => warn('webhook-dispatcher/postgres: delivery log trim failed', error));

  async function prune(): Promise<number> {
    const { rowCount } = await pool.query(
      `DELETE FROM ${table} WHERE updated_at < now() - $1 * interval '1 millisecond'`,
      [maxAgeMs],
    );
    return rowCount ?? 0;
  }

  const ageLimit = () => new Date(Date.now() - maxAgeMs);

  return {
    async record(input) {
      // Whatever a caller passes, only the known fields are stored, bodies bounded by `maxBodyBytes`.
      const attempt = normalizeDeliveryAttempt(input, maxBodyBytes);
      startTimer();
      const startedAt = new Date(attempt.startedAt);
      const at = Number.isNaN(startedAt.getTime()) ? new Date() : startedAt;
      const status = attempt.ok ? 'delivered' : 'failed';
      const { rows } = await pool.query<{ fresh: boolean }>(
        `INSERT INTO ${table} AS d (delivery_id, webhook_id, event_id, tenant, event_type, status, created_at, updated_at, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, jsonb_build_array($8::jsonb))
         ON CONFLICT (delivery_id) DO UPDATE SET
           status = CASE WHEN EXCLUDED.updated_at >= d.updated_at THEN EXCLUDED.status ELSE d.status END,
           created_at = LEAST(d.created_at, EXCLUDED.created_at),
           updated_at = GREATEST(d.updated_at, EXCLUDED.updated_at),
           attempts = CASE WHEN jsonb_array_length(d.attempts) < $9 THEN EXCLUDED.attempts || d.attempts
             ELSE (SELECT jsonb_agg(e ORDER BY i) FROM jsonb_array_elements(EXCLUDED.attempts || d.attempts)
                   WITH ORDINALITY AS t(e, i) WHERE i <= $9) END
         RETURNING (xmax = 0) AS fresh`,
        [
          attempt.deliveryId,
          attempt.webhookId,
          attempt.eventId,
          attempt.tenant ?? null,
          attempt.eventType ?? null,
          status,
          at,
          JSON.stringify(attempt),
          maxAttempts,
        ],
      );
      if (rows[0]?.fresh) {
        const count = (sinceTrim.get(attempt.webhookId) ?? 0) + 1;
        if (count >= trimEvery) {
          sinceTrim.delete(attempt.webhookId);
          void trim(attempt.webhookId);
        } else {
          // Re-inserted to keep the map in least-recently-written order, bounded.
          sinceTrim.delete(attempt.webhookId);
          sinceTrim.set(attempt.webhookId, count);
          if (sinceTrim.size > 10_000) sinceTrim.delete(sinceTrim.keys().next().value as string);
        }
      }
    },

    async list(webhookId, query) {
      const q = normalizeDeliveryQuery(query);
      // Postgres cannot hold such an id, so nothing was recorded under it (it answered an encoding error).
      if (!isStorable(webhookId)) return { items: [] };
      const where = ['webhook_id = $1', 'updated_at >= $2'];
      const values: unknown[] = [webhookId, ageLimit()];
      if (q.status) where.push(`status = $${values.push(q.status)}`);
      if (Number.isFinite(q.sinceMs)) where.push(`created_at >= $${values.push(new Date(q.sinceMs))}`);
      if (Number.isFinite(q.untilMs)) where.push(`created_at < $${values.push(new Date(q.untilMs))}`);
      if (q.after) {
        const a = values.push(new Date(q.after.ms));
        const b = values.push(q.after.id);
        where.push(`(created_at, delivery_id) < ($${a}, $${b})`);
      }
      // Never more than the newest `perWebhook`, even before a trim has run.
      const { rows } = await pool.query<Row>(
        `SELECT * FROM (
           SELECT * FROM ${table} WHERE webhook_id = $1 ORDER BY created_at DESC, delivery_id DESC LIMIT ${perWebhook}
         ) newest WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, delivery_id DESC LIMIT ${q.limit + 1}`,
        values,
      );
      const items = rows.slice(0, q.limit).map(toRecord);
      const page: DeliveryPage = { items };
      const last = rows[q.limit - 1];
      if (rows.length > q.limit && last)
        page.nextCursor = encodeDeliveryCursor(last.created_at.getTime(), last.delivery_id);
      return page;
    },

    async get(deliveryId) {
      if (!isStorable(deliveryId)) return undefined;
      const { rows } = await pool.query<Row>(
        `SELECT * FROM ${table} WHERE delivery_id = $1 AND updated_at >= $2`,
        [deliveryId, ageLimit()],
      );
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    prune,

    close() {
      closed = true;
      clearInterval(timer);
      timer = undefined;
    },
  };
}

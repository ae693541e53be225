// A pure function (no class): a copy in this entry's bundle is harmless.
import { isStorable } from '../core/storable-text.js';
import {
  type DeliveryAttempt,
  type DeliveryRefPage,
  type DeliverySearch,
  type DeliveryStatsQuery,
  encodeDeliveryCursor,
  type FailedDeliveryQuery,
  type NormalizedDeliveryQuery,
  normalizeDeliveryAttempt,
  normalizeDeliveryQuery,
  numberOption,
  OptionsError,
} from '../extend.js';
import type {
  DeliveryLog,
  DeliveryPage,
  DeliveryQuery,
  DeliveryRecord,
  WebhookDeliveryStats,
} from '../index.js';
import { boundLogMethods } from '../log/bound-methods.js';
import {
  pageSql,
  type Row,
  recordSql,
  type StatsRow,
  statsSql,
  toRecord,
  toRef,
  toStats,
  trimSql,
} from './delivery-log-sql.js';
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
  /** The clock retention reads (what is older than `maxAgeMs` from now), in epoch ms. @default Date.now */
  now?: () => number;
}

export interface PostgresDeliveryLog extends Required<DeliveryLog> {
  record(attempt: DeliveryAttempt): Promise<void>;
  /** Runs the retention now: deletes what is older than `maxAgeMs`. Resolves with the number of rows deleted. */
  prune(): Promise<number>;
  /** Stops the retention timer. */
  close(): void;
}

interface Settings {
  pool: PoolLike;
  table: string;
  maxAgeMs: number;
  perWebhook: number;
  maxAttempts: number;
  pruneIntervalMs: number;
  maxBodyBytes: number | undefined;
  now: () => number;
  warn: (message: string, error: unknown) => void;
}

function resolveSettings(options: PostgresDeliveryLogOptions): Settings {
  assertPool('pool', options?.pool);
  const table = resolveNames({ schema: options.schema, deliveriesTable: options.deliveriesTable }).deliveries;
  const count = (field: string, value: unknown, fallback: number, max: number) =>
    numberOption(field, value, fallback, { positive: true, integer: true, max });
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') {
    throw new OptionsError('now', `Expected \`now\` to be a function, got ${typeof now}`);
  }
  return {
    pool: options.pool,
    table,
    maxAgeMs: numberOption('maxAgeMs', options.maxAgeMs, 604_800_000, {
      positive: true,
      max: 100 * 365 * 86_400_000,
    }),
    perWebhook: count('perWebhook', options.perWebhook, 100, 1_000_000),
    maxAttempts: count('maxAttemptsPerDelivery', options.maxAttemptsPerDelivery, 50, 10_000),
    pruneIntervalMs: numberOption('pruneIntervalMs', options.pruneIntervalMs, 60_000, { positive: true }),
    maxBodyBytes:
      options.maxBodyBytes === undefined
        ? undefined
        : count('maxBodyBytes', options.maxBodyBytes, 0, 64 * 1_048_576),
    now,
    warn: (message, error) => {
      try {
        options.logger?.warn?.call(options.logger, message, { table, error: errorMessage(error) });
      } catch {
        // ignore
      }
    },
  };
}

/** One row per delivery; see {@link postgresDeliveryLog}. */
class PostgresLog implements PostgresDeliveryLog {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Deliveries recorded per webhook since its last trim, in this process. */
  private readonly sinceTrim = new Map<string, number>();
  private readonly trimEvery: number;

  constructor(private readonly s: Settings) {
    this.trimEvery = Math.max(1, Math.min(100, Math.ceil(s.perWebhook / 10)));
  }

  async record(input: DeliveryAttempt): Promise<void> {
    // Whatever a caller passes, only the known fields are stored, bodies bounded by `maxBodyBytes`.
    const attempt = normalizeDeliveryAttempt(input, this.s.maxBodyBytes);
    this.startTimer();
    const startedAt = new Date(attempt.startedAt);
    const at = Number.isNaN(startedAt.getTime()) ? new Date(this.s.now()) : startedAt;
    const { rows } = await this.s.pool.query<{ fresh: boolean }>(recordSql(this.s.table), [
      attempt.deliveryId,
      attempt.webhookId,
      attempt.eventId,
      attempt.tenant ?? null,
      attempt.eventType ?? null,
      attempt.ok ? 'delivered' : 'failed',
      at,
      JSON.stringify(attempt),
      this.s.maxAttempts,
    ]);
    if (rows[0]?.fresh) await this.counted(attempt.webhookId);
  }

  async list(webhookId: string, query?: DeliveryQuery): Promise<DeliveryPage> {
    const q = normalizeDeliveryQuery(query);
    // Postgres cannot hold such an id, so nothing was recorded under it (it answered an encoding error).
    if (!isStorable(webhookId)) return { items: [] };
    q.webhookId = webhookId;
    return this.page(q, '*', toRecord);
  }

  async get(deliveryId: string): Promise<DeliveryRecord | undefined> {
    if (!isStorable(deliveryId)) return undefined;
    const { rows } = await this.s.pool.query<Row>(
      `SELECT * FROM ${this.s.table} WHERE delivery_id = $1 AND updated_at >= $2`,
      [deliveryId, this.ageLimit()],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async search(query?: DeliverySearch): Promise<DeliveryPage> {
    const q = normalizeDeliveryQuery(query);
    if (!storableIds(q)) return { items: [] };
    return this.page(q, '*', toRecord);
  }

  async findFailed(query: FailedDeliveryQuery): Promise<DeliveryRefPage> {
    const q = normalizeDeliveryQuery(query);
    q.status = 'failed';
    if (!storableIds(q)) return { items: [] };
    return this.page(q, 'delivery_id, webhook_id, tenant, created_at', toRef);
  }

  async webhookStats(webhookId: string, query?: DeliveryStatsQuery): Promise<WebhookDeliveryStats> {
    const { sinceMs } = normalizeDeliveryQuery(query as DeliveryQuery | undefined);
    if (!isStorable(webhookId)) return toStats(undefined);
    const since = Number.isFinite(sinceMs) ? new Date(sinceMs) : '-infinity';
    const { rows } = await this.s.pool.query<StatsRow>(statsSql(this.s.table, this.s.perWebhook), [
      webhookId,
      this.ageLimit(),
      since,
    ]);
    return toStats(rows[0]);
  }

  async prune(): Promise<number> {
    const { rowCount } = await this.s.pool.query(`DELETE FROM ${this.s.table} WHERE updated_at < $1`, [
      this.ageLimit(),
    ]);
    return rowCount ?? 0;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async page<T>(
    q: NormalizedDeliveryQuery,
    columns: string,
    view: (row: Row) => T,
  ): Promise<{ items: T[]; nextCursor?: string }> {
    const { text, values } = pageSql(this.s.table, q, this.ageLimit(), this.s.perWebhook, columns);
    const { rows } = await this.s.pool.query<Row>(text, values);
    const page: { items: T[]; nextCursor?: string } = { items: rows.slice(0, q.limit).map(view) };
    const last = rows[q.limit - 1];
    if (rows.length > q.limit && last)
      page.nextCursor = encodeDeliveryCursor(last.created_at.getTime(), last.delivery_id);
    return page;
  }

  private ageLimit(): Date {
    return new Date(this.s.now() - this.s.maxAgeMs);
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      this.prune().catch((error) =>
        this.s.warn('webhook-dispatcher/postgres: delivery log retention failed', error),
      );
    }, this.s.pruneIntervalMs);
    this.timer.unref?.();
  }

  /** Counts a new delivery of the webhook; every `trimEvery`, trims it to the newest `perWebhook`. */
  private async counted(webhookId: string): Promise<void> {
    const count = (this.sinceTrim.get(webhookId) ?? 0) + 1;
    // Re-inserted to keep the map in least-recently-written order, bounded.
    this.sinceTrim.delete(webhookId);
    if (count >= this.trimEvery) {
      await this.s.pool
        .query(trimSql(this.s.table), [webhookId, this.s.perWebhook])
        .catch((error) => this.s.warn('webhook-dispatcher/postgres: delivery log trim failed', error));
      return;
    }
    this.sinceTrim.set(webhookId, count);
    if (this.sinceTrim.size > 10_000) this.sinceTrim.delete(this.sinceTrim.keys().next().value as string);
  }
}

/** Postgres cannot hold a NUL or a lone surrogate, so nothing was recorded under such an id. */
const storableIds = (q: NormalizedDeliveryQuery) =>
  (q.tenant === undefined || isStorable(q.tenant)) && (q.webhookId === undefined || isStorable(q.webhookId));

/**
 * The delivery log on Postgres: one row per delivery (its attempts newest first, as `jsonb`), so a delivery can be
 * listed, inspected and sent again from any process. Retention by age runs every `pruneIntervalMs`; the count per
 * webhook is trimmed now and then as deliveries are recorded (and `list` never shows more than the newest).
 * `search` and `findFailed` read across webhooks through the indexes `migrate()` makes; `webhookStats` is one
 * statement (`percentile_cont`).
 *
 * @example
 * await migrate(pool);
 * const dispatcher = createWebhookDispatcher({ deliveryLog: postgresDeliveryLog({ pool }), ... });
 */
export function postgresDeliveryLog(options: PostgresDeliveryLogOptions): PostgresDeliveryLog {
  const log = new PostgresLog(resolveSettings(options));
  return { ...boundLogMethods(log), prune: () => log.prune(), close: () => log.close() };
}

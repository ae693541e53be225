// A pure function (no class): a copy in this entry's bundle is harmless.
import { isStorable } from '../core/storable-text.js';
import {
  type CircuitStore,
  numberOption,
  OptionsError,
  type RateLimitStore,
  type SharedCircuit,
} from '../extend.js';
import type { Webhook, WebhookStore } from '../index.js';
import { insertWithinTenantLimit, postgresRateLimits, webhookRow } from './limits.js';
import { ListenerHub } from './listener.js';
import { type MigrateFunction, migrate, type PostgresSchemaOptions, resolveNames } from './migrate.js';
import { assertPool, errorMessage, type PoolLike } from './sql.js';
import { Callbacks, explainFor, postgresCircuits, watchWebhooks } from './store-circuits.js';
import { withTenantReads } from './store-tenant.js';

/** Options of `postgresStore()`. */
export interface PostgresStoreOptions extends Pick<PostgresSchemaOptions, 'schema' | 'table'> {
  /** A `pg.Pool`. Not closed by the store. `watch()` holds one of its connections for LISTEN. */
  pool: PoolLike;
  /** Where LISTEN connection errors go (they are retried). Silent by default. */
  logger?: { warn?(message: string, meta?: Record<string, unknown>): void };
  /**
   * How often in ms `watch()` checks its LISTEN connection (a `SELECT 1` that must answer within half of it); one
   * that died silently is reported lost (`onStatus(false)`) within 1.5 × this, then reconnected. @default 5000
   */
  heartbeatMs?: number;
}

/** A query of `list()`: `tenant` undefined lists every webhook, `null` only those without a tenant. */
export interface PostgresStoreListQuery {
  tenant?: string | null;
}

/** A `WebhookStore` in one Postgres table, with `watch()` over LISTEN/NOTIFY. */
export interface PostgresWebhookStore extends WebhookStore {
  list(query?: PostgresStoreListQuery): Promise<Webhook[]>;
  /** One tenant's webhooks (`null`: those without a tenant), an indexed query: the dispatcher reads tenants on demand. */
  listTenant(tenant: string | null): Promise<Webhook[]>;
  /**
   * Calls `onChange(id)` after webhook `id` was created, changed or deleted by any process (this one included),
   * once the change is committed, and `onChange()` when anything may have changed: when LISTEN is first in place
   * and after each reconnection, just after `onStatus(true)`; `onStatus(false)` when the connection is lost (or
   * stops answering its heartbeat). Returns the stop function.
   */
  watch(onChange: (id?: string) => void, onStatus?: (live: boolean) => void): () => Promise<void>;
  /** Open circuits in `<table>_circuits`, followed over LISTEN/NOTIFY on the same connection as `watch`. */
  circuits: CircuitStore & {
    watch(onChange: (id?: string, circuit?: SharedCircuit) => void): () => Promise<void>;
  };
  /** `maxWebhooksPerTenant` for every process: counted and inserted under a per-tenant advisory lock. */
  createWithinTenantLimit(webhook: Webhook, maxPerTenant: number): Promise<boolean>;
  /** `rateLimit` for every worker: recent delivery starts in `<table>_rates`, one statement per start. */
  rateLimits: RateLimitStore;
}

/**
 * A `WebhookStore` on Postgres: one row per webhook (the record as `jsonb`, its tenant in a column), listed in
 * creation order. Every write fires a NOTIFY (a trigger, so writes made with plain SQL notify too), which
 * `watch()` turns into `onChange(id)` in every process.
 *
 * `jsonb` keeps keys in its own canonical order (by length, then bytes), not in the order they were written, so
 * compare records by value, not by `JSON.stringify`.
 *
 * @example
 * await migrate(pool); // creates the table once
 * const store = postgresStore({ pool });
 */
export function postgresStore(options: PostgresStoreOptions): PostgresWebhookStore {
  assertPool('pool', options?.pool);
  const pool = options.pool;
  const names = resolveNames({ schema: options.schema, table: options.table });
  const table = names.webhooks;
  if (options.logger !== undefined && (typeof options.logger !== 'object' || options.logger === null)) {
    throw new OptionsError('logger', `Expected \`logger\` to be an object, got ${typeof options.logger}`);
  }
  const heartbeatMs = numberOption('heartbeatMs', options.heartbeatMs, 5000, { positive: true });

  const explain = explainFor(table);
  const callbacks = new Callbacks(options.logger);
  // One LISTEN connection for `watch` and `circuits.watch`.
  const hub = new ListenerHub({
    pool,
    channels: [names.channel, names.circuitsChannel],
    heartbeatMs,
    onError: (error) =>
      callbacks.warn('webhook-dispatcher/postgres: LISTEN connection lost', {
        table,
        error: errorMessage(error),
      }),
  });
  const circuits = postgresCircuits(pool, names, hub, callbacks);

  const create = async (webhook: Webhook): Promise<void> => {
    const { rowCount } = await pool
      .query(
        `INSERT INTO ${table} (id, tenant, record, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
        webhookRow(webhook),
      )
      .catch(explain);
    if (rowCount === 0) throw alreadyExists(webhook.id);
  };

  const store: Omit<PostgresWebhookStore, 'listTenant'> = {
    async get(id) {
      // Postgres cannot hold such an id, so no webhook has it (it answered an encoding error, a 503 in the API).
      if (!isStorable(id)) return undefined;
      const { rows } = await pool
        .query<{ record: Webhook }>(`SELECT record FROM ${table} WHERE id = $1`, [id])
        .catch(explain);
      return rows[0]?.record;
    },

    list: (query = {}) => listWebhooks(pool, table, query.tenant).catch(explain),

    create,

    async createWithinTenantLimit(webhook, maxPerTenant) {
      const row = webhookRow(webhook);
      if (row[1] === null) {
        await create(webhook);
        return true;
      }
      const answer = await insertWithinTenantLimit(pool, table, row, maxPerTenant).catch(explain);
      if (answer === 'exists') throw alreadyExists(webhook.id);
      return answer === 'created';
    },

    async update(webhook) {
      // The tenant is fixed at create: an update cannot move a webhook to another tenant.
      const { rowCount } = await pool
        .query(`UPDATE ${table} SET record = $2 WHERE id = $1`, [webhook.id, JSON.stringify(webhook)])
        .catch(explain);
      if (rowCount === 0) throw new Error(`postgresStore.update: no webhook "${webhook.id}"`);
    },

    async delete(id) {
      if (!isStorable(id)) return false;
      const { rowCount } = await pool.query(`DELETE FROM ${table} WHERE id = $1`, [id]).catch(explain);
      return (rowCount ?? 0) > 0;
    },

    watch: (onChange, onStatus) => watchWebhooks(hub, names.channel, callbacks, onChange, onStatus),

    circuits,
    rateLimits: postgresRateLimits(pool, names.rates, explainFor(names.rates)),
  };
  return withTenantReads(store, (query) => store.list(query));
}

const alreadyExists = (id: string) => new Error(`postgresStore.create: webhook "${id}" already exists`);

/** `postgresStore.migrate(pool, { schema, table })`: the same as `migrate()`. */
postgresStore.migrate = migrate as MigrateFunction;

/** Every webhook (`tenant` undefined), those without a tenant (`null`) or one tenant's, in creation order. */
async function listWebhooks(
  pool: PoolLike,
  table: string,
  tenant: string | null | undefined,
): Promise<Webhook[]> {
  const { rows } =
    tenant === undefined
      ? await pool.query<{ record: Webhook }>(`SELECT record FROM ${table} ORDER BY created_at, id`)
      : tenant === null
        ? await pool.query<{ record: Webhook }>(
            `SELECT record FROM ${table} WHERE tenant IS NULL ORDER BY created_at, id`,
          )
        : await pool.query<{ record: Webhook }>(
            `SELECT record FROM ${table} WHERE tenant = $1 ORDER BY created_at, id`,
            [tenant],
          );
  return rows.map((row) => row.record);
}

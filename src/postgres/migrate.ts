import { identifierOption, type Queryable } from './sql.js';

/** Where the tables live. The same options must be given to `postgresStore()` and `postgresDeliveryLog()`. */
export interface PostgresSchemaOptions {
  /** The Postgres schema (created when missing). @default 'public' */
  schema?: string;
  /** The webhooks table of `postgresStore()`. @default 'webhooks' */
  table?: string;
  /** The delivery log table of `postgresDeliveryLog()`. @default 'webhook_deliveries' */
  deliveriesTable?: string;
}

export interface ResolvedNames {
  schema: string;
  /** `"schema"."table"` */
  webhooks: string;
  deliveries: string;
  /** The LISTEN/NOTIFY channel of the webhooks table (unquoted). */
  channel: string;
  /** `"schema"."<table>_circuits"`: open circuits shared between processes (`postgresStore().circuits`). */
  circuits: string;
  /** The channel of the circuits table (unquoted). */
  circuitsChannel: string;
  /** `"schema"."<table>_rates"`: recent delivery starts of rate-limited webhooks (`postgresStore().rateLimits`). */
  rates: string;
  /** Unquoted names, for index and function names. */
  raw: { schema: string; webhooks: string; deliveries: string };
}

export function resolveNames(options: PostgresSchemaOptions = {}): ResolvedNames {
  const schema = identifierOption('schema', options.schema, 'public');
  const webhooks = identifierOption('table', options.table, 'webhooks');
  const deliveries = identifierOption('deliveriesTable', options.deliveriesTable, 'webhook_deliveries');
  const raw = {
    schema: schema.slice(1, -1),
    webhooks: webhooks.slice(1, -1),
    deliveries: deliveries.slice(1, -1),
  };
  // A channel is an identifier too (63 bytes at most): the table names are, and so is this prefix.
  const channel = `wd_${raw.schema}_${raw.webhooks}`.slice(0, 63);
  const circuitsChannel = `wdc_${raw.schema}_${raw.webhooks}`.slice(0, 63);
  const circuits = `${schema}."${`${raw.webhooks}_circuits`.slice(0, 63)}"`;
  const rates = `${schema}."${`${raw.webhooks}_rates`.slice(0, 63)}"`;
  return {
    schema,
    webhooks: `${schema}.${webhooks}`,
    deliveries: `${schema}.${deliveries}`,
    channel,
    circuits,
    circuitsChannel,
    rates,
    raw,
  };
}

/**
 * The SQL that creates (idempotently) the webhooks table, its change-notification trigger, the shared circuits
 * and rate-limit tables and the delivery log table. `migrate(pool)` runs it; a project with its own migration tool can take it from here instead.
 */
export function migrationSql(options: PostgresSchemaOptions = {}): string {
  const n = resolveNames(options);
  const notify = `${n.schema}."${`${n.raw.webhooks}_notify`.slice(0, 63)}"`;
  const circuitsNotify = `${n.schema}."${`${n.raw.webhooks}_circuits_notify`.slice(0, 63)}"`;
  return `
CREATE SCHEMA IF NOT EXISTS ${n.schema};

CREATE TABLE IF NOT EXISTS ${n.webhooks} (
  id text PRIMARY KEY,
  tenant text,
  record jsonb NOT NULL,
  created_at text NOT NULL
);
CREATE INDEX IF NOT EXISTS "${`${n.raw.webhooks}_tenant_created`.slice(0, 63)}"
  ON ${n.webhooks} (tenant, created_at, id);

-- Every write notifies the other processes with the id (or '' when the id is too long for a payload:
-- "reload everything"), inside the writing transaction, so a notification means the change is committed.
CREATE OR REPLACE FUNCTION ${notify}() RETURNS trigger AS $$
DECLARE
  changed text := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
BEGIN
  PERFORM pg_notify(TG_ARGV[0], CASE WHEN octet_length(changed) < 7000 THEN changed ELSE '' END);
  IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
    PERFORM pg_notify(TG_ARGV[0], CASE WHEN octet_length(OLD.id) < 7000 THEN OLD.id ELSE '' END);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS "${`${n.raw.webhooks}_notify`.slice(0, 63)}" ON ${n.webhooks};
CREATE TRIGGER "${`${n.raw.webhooks}_notify`.slice(0, 63)}"
  AFTER INSERT OR UPDATE OR DELETE ON ${n.webhooks}
  FOR EACH ROW EXECUTE FUNCTION ${notify}('${n.channel}');

-- Open circuits (a receiver found down), shared so every process waits for the same probe. A row goes with its
-- webhook; each change notifies '{"id": ..., "circuit": ... or null}' ('' when the id is too long).
CREATE TABLE IF NOT EXISTS ${n.circuits} (
  webhook_id text PRIMARY KEY REFERENCES ${n.webhooks} (id) ON DELETE CASCADE,
  circuit jsonb NOT NULL
);
CREATE OR REPLACE FUNCTION ${circuitsNotify}() RETURNS trigger AS $$
DECLARE
  changed text := CASE WHEN TG_OP = 'DELETE' THEN OLD.webhook_id ELSE NEW.webhook_id END;
BEGIN
  PERFORM pg_notify(TG_ARGV[0], CASE WHEN octet_length(changed) < 7000
    THEN json_build_object('id', changed, 'circuit', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.circuit END)::text
    ELSE '' END);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS "${`${n.raw.webhooks}_circuits_notify`.slice(0, 63)}" ON ${n.circuits};
CREATE TRIGGER "${`${n.raw.webhooks}_circuits_notify`.slice(0, 63)}"
  AFTER INSERT OR UPDATE OR DELETE ON ${n.circuits}
  FOR EACH ROW EXECUTE FUNCTION ${circuitsNotify}('${n.circuitsChannel}');

-- When each rate-limited webhook's next delivery may start (epoch µs), shared by every worker so that together
-- they start at most rateLimit deliveries in any second. One small row per webhook.
CREATE TABLE IF NOT EXISTS ${n.rates} (
  webhook_id text PRIMARY KEY,
  next_at bigint NOT NULL,
  grant_id text NOT NULL
);

CREATE TABLE IF NOT EXISTS ${n.deliveries} (
  delivery_id text PRIMARY KEY,
  webhook_id text NOT NULL,
  event_id text NOT NULL,
  tenant text,
  event_type text,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  attempts jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS "${`${n.raw.deliveries}_webhook_created`.slice(0, 63)}"
  ON ${n.deliveries} (webhook_id, created_at DESC, delivery_id DESC);
CREATE INDEX IF NOT EXISTS "${`${n.raw.deliveries}_updated`.slice(0, 63)}"
  ON ${n.deliveries} (updated_at);

-- Reads across webhooks (search, findFailed): every delivery, one tenant's, the failed ones, newest first. Each
-- step is idempotent, so a table made by an older version gains them at the next migrate().
ALTER TABLE ${n.deliveries} ADD COLUMN IF NOT EXISTS tenant text;
CREATE INDEX IF NOT EXISTS "${`${n.raw.deliveries}_created`.slice(0, 63)}"
  ON ${n.deliveries} (created_at DESC, delivery_id DESC);
CREATE INDEX IF NOT EXISTS "${`${n.raw.deliveries}_tenant_created`.slice(0, 63)}"
  ON ${n.deliveries} (tenant, created_at DESC, delivery_id DESC);
CREATE INDEX IF NOT EXISTS "${`${n.raw.deliveries}_failed_created`.slice(0, 63)}"
  ON ${n.deliveries} (created_at DESC, delivery_id DESC) WHERE status = 'failed';
`;
}

/** What {@link migrate} takes: a pool (a client is taken from it for the transaction) or one client. */
export type MigrationTarget = Queryable & { connect?(): Promise<Queryable & { release(): void }> };

/**
 * The type of {@link migrate}, spelled out so that `postgresStore.migrate` has a declared type that does not refer
 * to itself (`typeof migrate` inside `namespace postgresStore` is TS2502 for consumers without `skipLibCheck`).
 */
export type MigrateFunction = (pool: MigrationTarget, options?: PostgresSchemaOptions) => Promise<void>;

/**
 * Creates the tables `postgresStore()` and `postgresDeliveryLog()` use, if they are missing. Safe to run at every
 * start and from several processes at once (it holds an advisory lock while it runs).
 *
 * @example
 * await migrate(pool); // once at start-up, before the dispatcher uses the store
 */
export async function migrate(pool: MigrationTarget, options: PostgresSchemaOptions = {}): Promise<void> {
  const sql = migrationSql(options);
  const client = typeof pool.connect === 'function' ? await pool.connect() : undefined;
  const db = client ?? pool;
  try {
    await db.query('BEGIN');
    // One migration at a time across processes (the key is arbitrary but fixed for this library).
    await db.query('SELECT pg_advisory_xact_lock(7215873490112)');
    await db.query(sql);
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client?.release();
  }
}

import type { Queryable } from './sql.js';

/**
 * The event bodies of fan-outs, stored once per emit in `<pg-boss schema>.webhook_event_bodies` (the serialized
 * JSON as `text`: the escapes of NUL and lone surrogates stay escapes, where `jsonb` would refuse `\u0000`). The
 * jobs of the emit refer to a row by its key (`eventBodyRef` in their data).
 */
export interface EventBodies {
  /** `CREATE TABLE IF NOT EXISTS`, run when the queue starts (after pg-boss's own install). */
  readonly createSql: string;
  /** Writes a body; a second write of the same key only marks it as written now (see `sweep`). */
  insert(db: Queryable, key: string, eventBody: string): Promise<unknown>;
  load(db: Queryable, key: string): Promise<string | undefined>;
  /**
   * Deletes the bodies written more than `BODY_GRACE` ago that no job of the schema still in pg-boss's job table
   * refers to (any state but `completed`: a job waiting, retrying, active, failed or cancelled may run again).
   * A body is written before its jobs, in the same transaction with `emit(event, { transaction })`, and a job's
   * retry is inserted with its completion: a body is never without a job that needs it for longer than one enqueue.
   */
  sweep(db: Queryable): Promise<number>;
}

/** How long an unreferenced body is kept: far longer than any enqueue (its jobs are written right after it). */
const BODY_GRACE = '1 hour';

export function eventBodies(schema: string): EventBodies {
  const table = `"${schema}"."webhook_event_bodies"`;
  return {
    createSql: `CREATE TABLE IF NOT EXISTS ${table} (
  key text PRIMARY KEY,
  body text NOT NULL,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`,
    insert: (db, key, eventBody) =>
      db.query(
        `INSERT INTO ${table} (key, body) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET written_at = clock_timestamp()`,
        [key, eventBody],
      ),
    async load(db, key) {
      const { rows } = await db.query<{ body: string }>(`SELECT body FROM ${table} WHERE key = $1`, [key]);
      return rows[0]?.body;
    },
    async sweep(db) {
      const { rowCount } = await db.query(
        `DELETE FROM ${table} WHERE written_at < clock_timestamp() - interval '${BODY_GRACE}'
           AND key NOT IN (SELECT data->>'eventBodyRef' FROM "${schema}".job
                           WHERE state <> 'completed' AND data->>'eventBodyRef' IS NOT NULL)`,
      );
      return rowCount ?? 0;
    },
  };
}

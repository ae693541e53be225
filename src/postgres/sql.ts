import { OptionsError } from '../extend.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Validates a schema or table name option and returns it double-quoted for SQL. */
export function identifierOption(field: string, value: unknown, fallback: string): string {
  const name = value === undefined ? fallback : value;
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be a SQL identifier (letters, digits and _, at most 63, not starting with a digit), got ${JSON.stringify(name)}`,
    );
  }
  return `"${name}"`;
}

/** The `pg` calls this entry makes: a `pg.Pool` has them (and so has a `pg.Client`, for `query`). */
export interface Queryable {
  query<R = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** A `pg.Pool`-like object: `query` plus `connect` for a dedicated client. */
export interface PoolLike extends Queryable {
  connect(): Promise<PoolClientLike>;
}

export interface PoolClientLike extends Queryable {
  release(error?: Error | boolean): void;
}

export function assertPool(field: string, pool: unknown): asserts pool is PoolLike {
  const p = pool as PoolLike | undefined;
  if (typeof p?.query !== 'function' || typeof p.connect !== 'function') {
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be a pg Pool (new pg.Pool({ connectionString })), got ${pool === undefined ? 'undefined' : typeof pool}`,
    );
  }
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Runs `work` in a transaction on a dedicated client: COMMIT when it resolves, ROLLBACK when it throws. A client
 * whose transaction failed is not given back to the pool as it is (`release(error)` discards it).
 */
export async function inTransaction<T>(
  pool: PoolLike,
  work: (client: PoolClientLike) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release(broken);
  }
}

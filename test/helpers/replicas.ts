import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { redisStore } from '../../src/bullmq/index.js';
import type { WebhookStore } from '../../src/index.js';
import { migrate, postgresStore } from '../../src/postgres/index.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { startRedis, type TestRedis } from './redis.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `test()` holds, failing with `what` after `timeoutMs`. */
export async function until(test: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A test file's Postgres and Redis, started once for the file (see `useReplicaDatabases`). */
export interface ReplicaDatabases {
  postgres: TestPostgres;
  redis: TestRedis;
  pool: pg.Pool;
  /** Run (last first) after each test. */
  cleanups: (() => Promise<unknown> | unknown)[];
}

/** Starts a real Postgres and Redis before the file's tests, runs `cleanups` after each, stops them after all. */
export function useReplicaDatabases(): ReplicaDatabases {
  const db = { cleanups: [] } as unknown as ReplicaDatabases;
  beforeAll(async () => {
    [db.postgres, db.redis] = await Promise.all([startPostgres(), startRedis()]);
    db.pool = new pg.Pool({ connectionString: db.postgres.url, max: 6 });
  }, 60_000);
  afterEach(async () => {
    for (const cleanup of db.cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await db.pool?.end();
    await Promise.all([db.postgres?.stop(), db.redis?.stop()]);
  });
  return db;
}

/**
 * Two stores on one database, what two processes (replicas, workers) would each open: two `postgresStore`s on fresh
 * tables through two pools, or two `redisStore`s on a fresh key through two clients. Dropped after the test.
 */
export function replicaStorePairs(db: ReplicaDatabases) {
  return {
    async postgres(): Promise<[WebhookStore, WebhookStore]> {
      const table = `replicas_${randomUUID().slice(0, 8)}`;
      const pool = db.pool;
      await migrate(pool, { table });
      const other = new pg.Pool({ connectionString: db.postgres.url, max: 3 });
      db.cleanups.push(async () => {
        await other.end();
        await pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}`);
      });
      return [postgresStore({ pool, table }), postgresStore({ pool: other, table })];
    },
    async redis(): Promise<[WebhookStore, WebhookStore]> {
      const key = `wd-test:${randomUUID().slice(0, 8)}`;
      const a = new Redis(db.redis.url);
      const b = new Redis(db.redis.url);
      db.cleanups.push(async () => {
        await a.del(key, `${key}:circuits`);
        a.disconnect();
        b.disconnect();
      });
      return [redisStore({ client: a, key }), redisStore({ client: b, key })];
    },
  };
}

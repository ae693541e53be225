import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll } from 'vitest';
import { redisDeliveryLog } from '../../src/bullmq/index.js';
import {
  createWebhookDispatcher,
  type DeliveryLog,
  memoryDeliveryLog,
  type Webhook,
  type WebhookDispatcher,
} from '../../src/index.js';
import { migrate, postgresDeliveryLog } from '../../src/postgres/index.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { type Receiver, startReceiver } from './receiver.js';
import { startRedis, type TestRedis } from './redis.js';
import { open } from './setup.js';

/** A delivery log to run the operator features over, closed after the test. */
export type OpsLogFactory = () => Promise<DeliveryLog>;

export const memoryLog: OpsLogFactory = async () => memoryDeliveryLog();

let postgres: TestPostgres | undefined;
let pool: pg.Pool | undefined;
let redis: TestRedis | undefined;
let client: Redis | undefined;
afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
  await client?.quit();
  await redis?.stop();
});

/** A `postgresDeliveryLog` over fresh tables of a real (throwaway, unless DATABASE_URL is set) Postgres. */
export const postgresLog: OpsLogFactory = async () => {
  postgres ??= await startPostgres();
  pool ??= new pg.Pool({ connectionString: postgres.url, max: 10 });
  const table = `ops_${randomUUID().slice(0, 8)}`;
  const deliveriesTable = `${table}_log`;
  await migrate(pool, { table, deliveriesTable });
  const log = postgresDeliveryLog({ pool, deliveriesTable });
  const used = pool;
  open.push({
    close: async () => {
      log.close();
      await used.query(
        `DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}, ${deliveriesTable}`,
      );
    },
  });
  return log;
};

/** A `redisDeliveryLog` under a fresh key prefix of a real (throwaway, unless REDIS_URL is set) Redis. */
export const redisLog: OpsLogFactory = async () => {
  redis ??= await startRedis();
  client ??= new Redis(redis.url);
  return redisDeliveryLog({ client, prefix: `ops:${randomUUID()}` });
};

/** Resolves once `check` answers true (polled every 25 ms), failing after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A fleet on one real receiver: webhooks `a1`, `a2` of tenant `acme`, `g1` of `globex`, `n1` of no tenant, each
 * at its own path. The receiver answers 500 until `up` is set, and `a2` answers after `slowMs`.
 */
export interface Fleet {
  dispatcher: WebhookDispatcher;
  receiver: Receiver;
  hooks: Record<'a1' | 'a2' | 'g1' | 'n1', Webhook>;
  setUp(up: boolean): void;
  /** Requests the receiver got for a webhook (by its path). */
  seen(name: keyof Fleet['hooks']): Receiver['requests'];
  slowMs: number;
}

/** The fleet's dispatcher: by default a fresh one over `log`; an API test passes the one behind its server. */
export async function startFleet(
  log: DeliveryLog,
  slowMs = 60,
  makeDispatcher?: (log: DeliveryLog) => Promise<WebhookDispatcher>,
): Promise<Fleet> {
  let up = false;
  const receiver = await startReceiver((request, _n, res) => {
    const status = up ? 200 : 500;
    if (!request.url.startsWith('/a2')) return status;
    setTimeout(() => {
      res.statusCode = status;
      res.end('ok');
    }, slowMs);
    return 'handled';
  });
  open.push(receiver);
  const dispatcher = makeDispatcher
    ? await makeDispatcher(log)
    : createWebhookDispatcher({ allowPrivateNetworks: true, retry: 0, health: false, deliveryLog: log });
  if (!makeDispatcher) open.push(dispatcher);
  const make = (name: string, tenant?: string) =>
    dispatcher.webhooks.create({
      url: `${receiver.url}/${name}`,
      events: ['*'],
      ...(tenant === undefined ? {} : { tenant }),
    });
  const hooks = {
    a1: await make('a1', 'acme'),
    a2: await make('a2', 'acme'),
    g1: await make('g1', 'globex'),
    n1: await make('n1'),
  };
  return {
    dispatcher,
    receiver,
    hooks,
    slowMs,
    setUp: (value) => {
      up = value;
    },
    seen: (name) => receiver.requests.filter((r) => r.url === `/${name}`),
  };
}

let seq = 0;
/** Emits `count` events to each tenant's webhooks (acme, globex, none) and waits for every outcome. */
export async function emitToAll(fleet: Fleet, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    for (const tenant of ['acme', 'globex', undefined]) {
      await fleet.dispatcher.emit(
        { id: `ops-${++seq}`, type: 'flag-updated' },
        tenant === undefined ? {} : { tenant },
      );
    }
  }
}

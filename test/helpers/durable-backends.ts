// The two durable backends as test/durable-queues.test.ts drives them: each builds a world (its own queue name and
// store, an emitting dispatcher, a loopback receiver), forks its worker fixture and shows its jobs in one shape.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  bullmqQueue,
  bullmqWebhooks,
  createWebhookWorker as bullmqWorker,
  redisStore,
} from '../../src/bullmq/index.js';
import type { DeliveryResult, WebhookStore } from '../../src/core/types.js';
import type { DurableBuilders, SharedDispatcherOptions } from '../../src/durable/durable-setup.js';
import type { DeliveryJob, DeliveryQueue } from '../../src/extend.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../src/index.js';
import {
  jobIdFor,
  migrate,
  pgBossQueue,
  createWebhookWorker as pgWorker,
  postgresStore,
  postgresWebhooks,
} from '../../src/postgres/index.js';
import type { WorkerFixtureConfig } from '../fixtures/bullmq-worker.js';
import type { PgWorkerFixtureConfig } from '../fixtures/pg-worker.js';
import { bundleFixture, spawnWorkerProcess, type WorkerProcess } from './durable.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { type Receiver, type Responder, startReceiver } from './receiver.js';
import { startRedis, type TestRedis } from './redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = `${ROOT}node_modules/.cache/webhook-dispatcher-tests`;

type Cleanups = (() => Promise<unknown> | unknown)[];

/** A queue's job, whatever the backend: `state` is `waiting` for a job not yet taken. */
export interface JobView {
  id: string;
  state: string;
  data: Record<string, unknown>;
}

export type WorkerQueue = DeliveryQueue & {
  ready(): Promise<void>;
  enqueueMany(jobs: DeliveryJob[]): Promise<DeliveryResult[]>;
};

export interface QueueWorld {
  queueName: string;
  store: WebhookStore;
  dispatcher: WebhookDispatcher;
  receiver: Receiver;
  /** Every job of this world's queue. */
  jobs(): Promise<JobView[]>;
  /** The stored event body under this key, or null. */
  storedBody(ref: string): Promise<string | null>;
  /** A new emitting process on the same queue and store (its store not loaded yet). */
  freshEmitter(): WebhookDispatcher;
  /** A queue on this world's queue name that takes jobs in this process. */
  workerQueue(): WorkerQueue;
  /** `createWebhookWorker` in this process on the world's queue and store, ready; outcomes go to `seen`. */
  inProcessWorker(seen: DeliveryResult[]): Promise<{ dispatcher: WebhookDispatcher; close(): Promise<void> }>;
  /**
   * `createWebhookWorker` in this process on the world's queue and store (`retry: 0`), not started: one whose job,
   * when interrupted, runs again at once (pg-boss: `retryDelay: 0`, polling every 200 ms; BullMQ: a 10 ms backoff).
   */
  quickWorker(onDelivery?: (result: DeliveryResult) => void): {
    dispatcher: WebhookDispatcher;
    ready(): Promise<void>;
    close(options?: { deadlineMs?: number }): Promise<void>;
  };
  /**
   * A worker fixture process on the world's queue and store: tuned for the tests (8 at once, quick recovery), or
   * with `defaults` the library's defaults (only the queue, the store and the transport given; 64 at once).
   */
  spawnWorker(name: string, options?: { defaults?: boolean }): Promise<WorkerProcess>;
  /**
   * Whether a worker that delivers nothing has put a job back to the queue, delayed (a retry or a lane deferral).
   * pg-boss completes the job it re-inserts (3 retries at most in the SIGKILL scenario, the rest deferrals);
   * BullMQ delays the job itself.
   */
  hasDeferred(): Promise<boolean>;
  /** The backend's durable setup (`postgresWebhooks`, `bullmqWebhooks`) on this world's queue, store and log. */
  setup(shared: SharedDispatcherOptions): Promise<DurableBuilders<object>>;
}

export interface DurableBackend {
  name: 'postgres' | 'bullmq';
  start(): Promise<void>;
  stop(): Promise<void>;
  world(cleanups: Cleanups, respond?: Responder): Promise<QueueWorld>;
  /** The job id of a delivery (the queue's own form of the `webhook-id`). */
  jobIdOf(deliveryId: string): string;
  /** The state of a retry's job until it is due (pg-boss: a new row, created; BullMQ: the same job, delayed). */
  retryState: string;
  /** The states of a job whose delivery a close with a deadline cut off: it waits to run again. */
  interruptedStates: string[];
  /** The peer packages the core entry must not import. */
  peers: RegExp;
}

const BOSS_SCHEMA = 'wd_test_durable';

export function postgresBackend(): DurableBackend {
  let postgres: TestPostgres;
  let pool: pg.Pool;
  const bundle = `${CACHE}/durable-pg-worker.mjs`;
  return {
    name: 'postgres',
    async start() {
      postgres = await startPostgres();
      pool = new pg.Pool({ connectionString: postgres.url, max: 10 });
      await bundleFixture(`${ROOT}test/fixtures/pg-worker.ts`, bundle);
    },
    async stop() {
      await pool?.end();
      await postgres?.stop();
    },
    async world(cleanups, respond) {
      const queueName = `q-${randomUUID().slice(0, 8)}`;
      const table = `webhooks_${randomUUID().slice(0, 8)}`;
      await migrate(pool, { table, deliveriesTable: `${table}_log` });
      const store = postgresStore({ pool, table });
      const queueOptions = { pool, schema: BOSS_SCHEMA, queueName };
      const queue = pgBossQueue(queueOptions);
      const dispatcher = createWebhookDispatcher({ store, queue, allowPrivateNetworks: true, retry: 0 });
      const receiver = await startReceiver(respond);
      cleanups.push(async () => {
        await dispatcher.close();
        await receiver.close();
        await pool.query(`DROP TABLE IF EXISTS ${table}_circuits, ${table}_rates, ${table}, ${table}_log`);
      });
      return {
        queueName,
        store,
        dispatcher,
        receiver,
        jobs: async () => {
          const result = await pool.query(
            `SELECT id, state, data FROM ${BOSS_SCHEMA}.job WHERE name = $1 UNION ALL SELECT id, state, data FROM ${BOSS_SCHEMA}.archive WHERE name = $1`,
            [queueName],
          );
          return result.rows.map((row) => ({
            ...row,
            state: row.state === 'created' ? 'waiting' : row.state,
          }));
        },
        async hasDeferred() {
          const sql = `SELECT count(*)::int AS n FROM ${BOSS_SCHEMA}.job WHERE name = $1 AND state = 'completed'`;
          return (await pool.query(sql, [queueName])).rows[0].n > 3;
        },
        async storedBody(ref) {
          const sql = `SELECT body FROM ${BOSS_SCHEMA}.webhook_event_bodies WHERE key = $1`;
          return (await pool.query(sql, [ref])).rows[0]?.body ?? null;
        },
        freshEmitter: () =>
          createWebhookDispatcher({
            store: postgresStore({ pool, table }),
            queue: pgBossQueue(queueOptions),
            allowPrivateNetworks: true,
          }),
        workerQueue: () => pgBossQueue({ ...queueOptions, worker: { pollingIntervalMs: 100 } }),
        quickWorker: (onDelivery) =>
          pgWorker({
            ...queueOptions,
            store,
            allowPrivateNetworks: true,
            retry: 0,
            pollingIntervalMs: 200,
            jobOptions: { retryDelay: 0 },
            onDelivery,
          }),
        async inProcessWorker(seen) {
          const worker = pgWorker({
            ...queueOptions,
            store,
            allowPrivateNetworks: true,
            onDelivery: (result) => seen.push(result),
          });
          cleanups.push(() => worker.close());
          await worker.ready();
          return worker;
        },
        spawnWorker: (name, options) => {
          const config: PgWorkerFixtureConfig = {
            name,
            databaseUrl: postgres.url,
            schema: BOSS_SCHEMA,
            queueName,
            table,
            ...(options?.defaults
              ? { concurrency: 64, expireInSeconds: 0, defaults: true }
              : { concurrency: 8, expireInSeconds: 300 }),
          };
          return spawnWorkerProcess(bundle, config, cleanups);
        },
        async setup(shared) {
          const webhooks = postgresWebhooks({
            pool,
            table,
            deliveriesTable: `${table}_log`,
            bossSchema: BOSS_SCHEMA,
            queueName,
            ...shared,
          });
          await webhooks.migrate();
          return webhooks;
        },
      };
    },
    jobIdOf: jobIdFor,
    retryState: 'waiting',
    interruptedStates: ['retry'],
    peers: /^(pg|pg-boss)(\/|$)/,
  };
}

const PREFIX = 'wd-test-durable';
const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;

export function bullmqBackend(): DurableBackend {
  let redis: TestRedis;
  let client: Redis;
  const bundle = `${CACHE}/durable-bullmq-worker.mjs`;
  return {
    name: 'bullmq',
    async start() {
      redis = await startRedis();
      client = new Redis(redis.url);
      await bundleFixture(`${ROOT}test/fixtures/bullmq-worker.ts`, bundle);
    },
    async stop() {
      client?.disconnect();
      await redis?.stop();
    },
    async world(cleanups, respond) {
      const queueName = `deliveries-${randomUUID()}`;
      const storeKey = `${PREFIX}:${queueName}:webhooks`;
      const store = redisStore({ client, key: storeKey });
      const queueOptions = { connection: { url: redis.url }, queueName, prefix: PREFIX };
      const queue = bullmqQueue(queueOptions);
      const dispatcher = createWebhookDispatcher({ store, queue, allowPrivateNetworks: true, retry: 0 });
      const receiver = await startReceiver(respond);
      const inspect = new Queue(queueName, { connection: { url: redis.url }, prefix: PREFIX });
      cleanups.push(async () => {
        await dispatcher.close();
        await receiver.close();
        await inspect.obliterate({ force: true });
        await inspect.close();
        await client.del(storeKey);
      });
      return {
        queueName,
        store,
        dispatcher,
        receiver,
        jobs: async () => {
          const byState = await Promise.all(
            STATES.map(async (state) =>
              (await inspect.getJobs([state])).map((job) => ({
                id: job.id as string,
                state,
                data: job.data,
              })),
            ),
          );
          return byState.flat();
        },
        hasDeferred: async () => (await inspect.getDelayedCount()) > 0,
        storedBody: (ref) => client.get(`${PREFIX}:${queueName}:wd:body:${ref}`),
        freshEmitter: () =>
          createWebhookDispatcher({
            store: redisStore({ client, key: storeKey }),
            queue: bullmqQueue(queueOptions),
            allowPrivateNetworks: true,
          }),
        workerQueue: () => bullmqQueue({ ...queueOptions, worker: true }),
        quickWorker: (onDelivery) =>
          bullmqWorker({
            ...queueOptions,
            store,
            allowPrivateNetworks: true,
            retry: 0,
            jobOptions: { backoff: 10 },
            onDelivery,
          }),
        async inProcessWorker(seen) {
          const worker = bullmqWorker({
            ...queueOptions,
            store,
            allowPrivateNetworks: true,
            onDelivery: (result) => seen.push(result),
          });
          cleanups.push(() => worker.close());
          await worker.ready();
          return worker;
        },
        spawnWorker: (name, options) => {
          const config: WorkerFixtureConfig = {
            name,
            redisUrl: redis.url,
            queueName,
            prefix: PREFIX,
            storeKey,
            ...(options?.defaults
              ? { concurrency: 64, lockDuration: 0, stalledInterval: 0, defaults: true }
              : // Short locks so a killed worker's jobs come back within about two seconds.
                { concurrency: 8, lockDuration: 1500, stalledInterval: 500 }),
          };
          return spawnWorkerProcess(bundle, config, cleanups);
        },
        setup: async (shared) =>
          bullmqWebhooks({
            ...queueOptions,
            client,
            storeKey,
            deliveryLogOptions: { prefix: `${PREFIX}:${queueName}:log` },
            ...shared,
          }),
      };
    },
    jobIdOf: (deliveryId) => deliveryId,
    retryState: 'delayed',
    interruptedStates: ['delayed', 'waiting'],
    peers: /^(bullmq|ioredis)(\/|$)/,
  };
}

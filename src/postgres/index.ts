// The `webhook-dispatcher/postgres` entry: webhooks, the delivery log and durable, transactional delivery on the
// host's own Postgres. It needs the optional peer dependencies `pg` and `pg-boss` (10.x); the core never imports them.

export type { ProcessOverrides } from '../durable/durable-setup.js';
export type { PostgresDeliveryLog, PostgresDeliveryLogOptions } from './delivery-log.js';
export { postgresDeliveryLog } from './delivery-log.js';
export type { PgDeliveryJobData } from './job.js';
export { jobIdFor } from './job-id.js';
export type { MigrateFunction, MigrationTarget, PostgresSchemaOptions } from './migrate.js';
export { migrate, migrationSql } from './migrate.js';
export type {
  PgBossDeliveryQueue,
  PgBossJobOptions,
  PgBossQueueOptions,
  PgBossWorkerOptions,
} from './queue.js';
export { DEFAULT_QUEUE_NAME, pgBossQueue } from './queue.js';
export type { TransactionalQueue } from './seam.js';
export type { PoolLike, Queryable } from './sql.js';
export type { PostgresStoreListQuery, PostgresStoreOptions, PostgresWebhookStore } from './store.js';
export { postgresStore } from './store.js';
export type {
  PostgresWebhooks,
  PostgresWebhooksOptions,
  PostgresWorkerOverrides,
} from './webhooks.js';
export { postgresWebhooks } from './webhooks.js';
export type { WebhookWorker, WebhookWorkerOptions } from './worker.js';
export { createWebhookWorker } from './worker.js';

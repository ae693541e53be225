// The `webhook-dispatcher/bullmq` entry: durable, distributed delivery on BullMQ (Redis). It needs the optional
// peer dependency `bullmq` (and a Redis driver for it, `ioredis`); the core entry never imports it.

export type { ProcessOverrides } from '../durable/durable-setup.js';
export type { RedisDeliveryLogClient, RedisDeliveryLogOptions } from './delivery-log.js';
export { redisDeliveryLog } from './delivery-log.js';
export type { DeliveryJobData } from './job.js';
export type {
  BullmqDeliveryQueue,
  BullmqJobOptions,
  BullmqQueueOptions,
  BullmqWorkerOptions,
} from './queue.js';
export { bullmqQueue, DEFAULT_QUEUE_NAME } from './queue.js';
export type { RedisStoreClient, RedisStoreOptions } from './redis-store.js';
export { redisStore } from './redis-store.js';
export type { BullmqWebhooks, BullmqWebhooksOptions, BullmqWorkerOverrides } from './webhooks.js';
export { bullmqWebhooks } from './webhooks.js';
export type { WebhookWorker, WebhookWorkerOptions } from './worker.js';
export { createWebhookWorker } from './worker.js';

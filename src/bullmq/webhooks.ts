import {
  type DurableBuilders,
  type DurablePieces,
  durableBuilders,
  type ProcessOverrides,
  type SharedDispatcherOptions,
} from '../durable/durable-setup.js';
import { splitKeys } from '../durable/options.js';
import { OptionsError } from '../extend.js';
import { type RedisDeliveryLogOptions, redisDeliveryLog } from './delivery-log.js';
import { type BullmqWorkerOptions, bullmqQueue } from './queue.js';
import { BULLMQ_QUEUE_KEYS, type BullmqQueueOptions } from './queue-options.js';
import { type RedisStoreClient, type RedisStoreOptions, redisStore } from './redis-store.js';

/**
 * Options of `bullmqWebhooks()`: one set for every emitter and worker. The BullMQ queue, the Redis client of the
 * store and the delivery log, how a dead worker's jobs are recovered, and every `createWebhookDispatcher` option but
 * the pieces it builds (`store`, `queue`, `deliveryLog`).
 */
export interface BullmqWebhooksOptions
  extends SharedDispatcherOptions,
    Omit<BullmqQueueOptions, 'worker' | 'logger'>,
    Pick<BullmqWorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'> {
  /**
   * A connected ioredis client for the webhooks hash and the delivery log (not closed by the setup; the store's
   * watch subscribes on `client.duplicate()`). BullMQ opens its own connections from `connection`.
   */
  client: RedisStoreClient;
  /** The Redis hash of the webhooks. @default 'webhook-dispatcher:webhooks' */
  storeKey?: string;
  /** How often `watch()` PINGs its subscriber connection, in ms. @default 5000 */
  heartbeatMs?: RedisStoreOptions['heartbeatMs'];
  /** Where the delivery log keeps its keys, and its retention. */
  deliveryLogOptions?: Omit<RedisDeliveryLogOptions, 'client'>;
}

/** How a dead worker's jobs are recovered: the same for every worker of the setup. */
const RECOVERY_KEYS = ['lockDuration', 'stalledInterval', 'maxStalledCount'] as const;

/** The options of the store and the delivery log the setup builds. */
const PIECE_KEYS = ['client', 'storeKey', 'heartbeatMs', 'deliveryLogOptions'] as const;

/** What one worker process may set for itself besides `ProcessOverrides`. */
export type BullmqWorkerOverrides = ProcessOverrides & Pick<BullmqWorkerOptions, 'concurrency'>;

/**
 * The emitters and workers of one durable setup on BullMQ. `dispatcher()` queues deliveries for the workers (give it
 * to `createWebhookApi` for the admin API); `worker()` delivers the queued jobs and records every attempt in the
 * shared delivery log.
 */
export type BullmqWebhooks = DurableBuilders<Pick<BullmqWorkerOptions, 'concurrency'>>;

/**
 * The durable path on BullMQ configured once: `dispatcher()` and `worker()` build, from ONE set of options, the store
 * (`redisStore`), the queue (`bullmqQueue`), the delivery log (`redisDeliveryLog`), the job options and the retry
 * policy, so every process agrees on them: a worker records to the same log the admin API reads.
 *
 * @example
 * const webhooks = bullmqWebhooks({ connection: { url: REDIS_URL }, client: new Redis(REDIS_URL), retry: 3 });
 * const dispatcher = webhooks.dispatcher();               // in the service
 * const worker = webhooks.worker({ concurrency: 32 });    // in each worker process
 */
export function bullmqWebhooks(options: BullmqWebhooksOptions): BullmqWebhooks {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError(
      'connection',
      'Expected `bullmqWebhooks()` options with `connection` and `client`, got nothing',
    );
  }
  const [queueOptions, rest] = splitKeys(options, BULLMQ_QUEUE_KEYS);
  const [recovery, withPieces] = splitKeys(rest, RECOVERY_KEYS);
  const [{ client, storeKey, heartbeatMs, deliveryLogOptions }, shared] = splitKeys(withPieces, PIECE_KEYS);
  // Validated now, not at the first dispatcher() or worker() call: the queue's options, the store's and the log's.
  bullmqQueue({ ...queueOptions, worker: recovery });
  const pieces = (): DurablePieces => ({
    store: redisStore({ client, key: storeKey, heartbeatMs, logger: shared.logger }),
    deliveryLog: redisDeliveryLog({ ...deliveryLogOptions, client }),
    release: () => {},
  });
  pieces();
  return durableBuilders<Pick<BullmqWorkerOptions, 'concurrency'>>(
    shared,
    pieces,
    (logger, worker) =>
      bullmqQueue({
        ...queueOptions,
        logger,
        worker: worker && { ...worker, ...recovery },
      }),
    ['concurrency'],
  );
}

import type { DeliveryJob, DeliveryQueue, EnqueueOptions } from '../extend.js';
import type { DeliveryResult } from '../index.js';

/** A `DeliveryQueue` that always has the batched form and writes inside the host's transaction. */
export interface TransactionalQueue extends DeliveryQueue {
  enqueueMany(jobs: DeliveryJob[], options?: EnqueueOptions): Promise<DeliveryResult[]>;
  readonly supportsTransactions: true;
}

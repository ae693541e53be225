import type { DeliveryLog } from './delivery-log.js';

/**
 * A log's methods as a plain object of functions bound to it. What every built-in log factory returns (with its own
 * extras beside them): a wrapper that spreads the log (`{ ...log, record }`) keeps them, which a class instance's
 * prototype methods would not survive.
 */
export function boundLogMethods<L extends Required<DeliveryLog>>(log: L): Pick<L, keyof DeliveryLog> {
  const bound: Required<DeliveryLog> = {
    record: (attempt) => log.record(attempt),
    list: (webhookId, query) => log.list(webhookId, query),
    get: (deliveryId) => log.get(deliveryId),
    search: (query) => log.search(query),
    findFailed: (query) => log.findFailed(query),
    webhookStats: (webhookId, query) => log.webhookStats(webhookId, query),
  };
  // Each function answers what the log's own method does: the log's narrower return types hold.
  return bound as Pick<L, keyof DeliveryLog>;
}

import { kindOf, OptionsError } from '../core/errors.js';
import type {
  DeliveryPage,
  DeliveryQuery,
  DeliverySearch,
  DeliveryStatsQuery,
  WebhookDeliveryStats,
} from '../log/delivery-log.js';
import type { DeliveryListQuery } from './dispatcher.js';
import type { LogReader } from './redelivery.js';

const NO_STATS: WebhookDeliveryStats = {
  delivered: 0,
  failed: 0,
  successRate: null,
  p50Ms: null,
  p95Ms: null,
  lastDeliveredAt: null,
  lastFailedAt: null,
};

/**
 * Splits a tenant scope into what the log filters (`tenant: 'acme'`) and what is filtered after the read
 * (`tenant: null`, the deliveries of webhooks without a tenant: the log has no filter for an absent tenant).
 */
export function tenantScope(
  method: string,
  tenant: unknown,
): { search: { tenant?: string }; keep: (item: { tenant?: string }) => boolean } {
  if (tenant === undefined) return { search: {}, keep: () => true };
  if (tenant === null) return { search: {}, keep: (item) => item.tenant === undefined };
  if (typeof tenant !== 'string') {
    throw new OptionsError(
      'tenant',
      `${method}: expected \`tenant\` to be a string or null, got ${kindOf(tenant)}`,
    );
  }
  return { search: { tenant }, keep: (item) => item.tenant === tenant };
}

/** `deliveries.list` and `deliveries.stats`: reads of the delivery log, each under the store's deadline. */
export class DeliveryReads {
  constructor(private readonly reader: LogReader) {}

  /** `list(webhookId, query)` (one webhook's, as the log's `list`) or `list(query)` (across webhooks: `search`). */
  async list(target?: string | DeliveryListQuery, query?: DeliveryQuery): Promise<DeliveryPage> {
    if (typeof target === 'string') {
      return this.reader.read('list', (log) => log.list(target, query), { items: [] });
    }
    if (target !== undefined && (typeof target !== 'object' || target === null)) {
      throw new OptionsError(
        'query',
        `deliveries.list: expected a webhook id or a query object, got ${kindOf(target)}`,
      );
    }
    const { tenant, ...rest } = target ?? {};
    const scope = tenantScope('deliveries.list', tenant);
    // One webhook's deliveries without a tenant filter: the log's own `list`, which every log has.
    if (tenant === undefined && typeof rest.webhookId === 'string' && !this.reader.has('search')) {
      const { webhookId, ...perWebhook } = rest;
      return this.list(webhookId, perWebhook);
    }
    const search: DeliverySearch = { ...rest, ...scope.search };
    return this.reader
      .optional('search', 'deliveries.list', (log) => log.search!(search), { items: [] })
      .then((page) => filtered(page, scope.keep));
  }

  /** A webhook's figures from the log's `webhookStats`. */
  async stats(webhookId: string, query?: DeliveryStatsQuery): Promise<WebhookDeliveryStats> {
    if (typeof webhookId !== 'string' || webhookId === '') {
      throw new OptionsError(
        'webhookId',
        `deliveries.stats: expected \`webhookId\` to be a non-empty string, got ${kindOf(webhookId)}`,
      );
    }
    return this.reader.optional(
      'webhookStats',
      'deliveries.stats',
      (log) => log.webhookStats!(webhookId, query),
      { ...NO_STATS },
    );
  }
}

/** A page with the items `keep` refuses left out: possibly short, its `nextCursor` still leads on. */
function filtered(page: DeliveryPage, keep: (item: { tenant?: string }) => boolean): DeliveryPage {
  const items = page.items.filter(keep);
  if (items.length === page.items.length) return page;
  return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
}

// The delivery log's public shapes. The pieces: query.ts (query validation, cursors), normalize-attempt.ts (what
// a log stores), redact.ts (what must never be stored), memory-delivery-log.ts (the default log), delivery-stats.ts.

import type { DeliveryError } from '../core/types.js';

/** One HTTP attempt of a delivery, as the delivery log keeps it. */
export interface DeliveryAttempt {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  tenant?: string;
  eventType?: string;
  /** 1-based. */
  attempt: number;
  /** ISO-8601 time the attempt started. */
  startedAt: string;
  durationMs: number;
  ok: boolean;
  status?: number;
  error?: DeliveryError;
  /**
   * What was sent: headers redacted, the body as signed (bounded by the log's or the dispatcher's `maxBodyBytes`;
   * `bodyTruncated` when it was cut, and then it cannot be sent again as it was). See `requestForLog()`.
   */
  request: { url: string; headers: Record<string, string>; body?: string; bodyTruncated?: boolean };
  /** Response headers and the start of the response body (capped by the transport). */
  response?: { headers?: Record<string, string | string[] | undefined>; body?: string };
  /** True when this attempt was made by `redeliver()` or `recover()`. */
  redelivery?: boolean;
  /**
   * Fields the log could not keep as they were (e.g. `['response.body']`). A field still present had its NUL and
   * lone surrogate characters (which Postgres cannot store) replaced with U+FFFD; a request body with a NUL is cut
   * there instead (`bodyTruncated`). A field absent (`'response'`, `'request.body'`) was dropped because the log
   * refused the full record.
   */
  altered?: string[];
}

export type DeliveryStatus = 'delivered' | 'failed';

/** A delivery (one event to one webhook) with every attempt kept of it. */
export interface DeliveryRecord {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  tenant?: string;
  eventType?: string;
  /** Of the latest attempt. */
  status: DeliveryStatus;
  /** The first recorded attempt's `startedAt`: what `since`/`until` and the order of `list` read. */
  createdAt: string;
  /** The latest attempt's `startedAt`. */
  updatedAt: string;
  /** Newest first. */
  attempts: DeliveryAttempt[];
}

export interface DeliveryQuery {
  /** Only deliveries whose latest attempt has this outcome. */
  status?: DeliveryStatus;
  /** Only deliveries created at or after this time (Date or epoch ms). */
  since?: Date | number;
  /** Only deliveries created before this time (exclusive). */
  until?: Date | number;
  /** Page size, 1 to 1000. @default 50 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Newest first by `createdAt` (ties by `deliveryId`); `nextCursor` is set when there are more. */
export interface DeliveryPage {
  items: DeliveryRecord[];
  nextCursor?: string;
}

/**
 * A query across webhooks: every webhook's deliveries, or one tenant's, or one webhook's. Newest first by
 * `createdAt` (ties by `deliveryId`), paged with the opaque `nextCursor` like `list`.
 */
export interface DeliverySearch extends DeliveryQuery {
  /** Only the deliveries of this tenant's webhooks (the tenant the attempt carried when it was recorded). */
  tenant?: string;
  /** Only this webhook's deliveries (then the same items as `list(webhookId, query)`). */
  webhookId?: string;
}

/** A delivery without its attempts: what `findFailed` answers, light enough to page through a long window. */
export interface DeliveryRef {
  deliveryId: string;
  webhookId: string;
  tenant?: string;
  /** The first recorded attempt's `startedAt`. */
  createdAt: string;
}

/** A page of `findFailed`: as a `DeliveryPage`, without the attempts. */
export interface DeliveryRefPage {
  items: DeliveryRef[];
  nextCursor?: string;
}

/** What `findFailed` takes: a window by `createdAt`, optionally one tenant's or one webhook's. */
export type FailedDeliveryQuery = Omit<DeliverySearch, 'status'>;

/** What `webhookStats` takes. */
export interface DeliveryStatsQuery {
  /** Only deliveries created at or after this time (Date or epoch ms). @default every delivery the log keeps */
  since?: Date | number;
}

/**
 * A webhook's delivery figures, from the deliveries its log keeps (created at or after `since`, the newest
 * 10,000 at most). A delivery counts once, by the outcome of its latest attempt; latency is that attempt's
 * `durationMs`.
 */
export interface WebhookDeliveryStats {
  /** Deliveries whose latest attempt succeeded. */
  delivered: number;
  /** Deliveries whose latest attempt failed (retries included: still failing). */
  failed: number;
  /** `delivered / (delivered + failed)`, from 0 to 1; `null` when there is no delivery. */
  successRate: number | null;
  /** Median latency in ms, interpolated as Postgres's `percentile_cont(0.5)`; `null` when there is no delivery. */
  p50Ms: number | null;
  /** 95th percentile latency in ms (`percentile_cont(0.95)`); `null` when there is no delivery. */
  p95Ms: number | null;
  /** ISO-8601 time of the latest attempt of the most recently delivered delivery, or `null`. */
  lastDeliveredAt: string | null;
  /** ISO-8601 time of the latest attempt of the most recently failed delivery, or `null`. */
  lastFailedAt: string | null;
}

/**
 * Where every attempt is recorded. Pluggable, so a database can keep the history.
 *
 * `record`, `list` and `get` are what the dispatcher needs to deliver, list and send again. `search`,
 * `findFailed` and `webhookStats` serve the operator features (`deliveries.list` without a webhook id,
 * `deliveries.recover` across webhooks, `deliveries.stats`); every built-in log has them. A custom log may leave
 * them out, so a caller checks first (`typeof log.search === 'function'`) and says which method is missing.
 */
export interface DeliveryLog {
  /** Adds an attempt to its delivery (created by its first attempt). Not awaited on the delivery path. */
  record(attempt: DeliveryAttempt): void | Promise<void>;
  /** The deliveries of a webhook, newest first, one page at a time. */
  list(webhookId: string, query?: DeliveryQuery): Promise<DeliveryPage>;
  /** One delivery with all its kept attempts (newest first), or undefined. */
  get(deliveryId: string): Promise<DeliveryRecord | undefined>;
  /**
   * Deliveries across webhooks (of one tenant when `tenant` is given), newest first, one page at a time. A read is
   * bounded: a log that had to skip many deliveries the filters leave out may answer a short (even empty) page
   * with a `nextCursor`; follow it until there is none.
   *
   * @example
   * const page = await log.search({ status: 'failed', tenant: 'acme', since: Date.now() - 86_400_000 });
   */
  search?(query?: DeliverySearch): Promise<DeliveryPage>;
  /**
   * The deliveries still failed (their latest attempt failed) created in the window, across webhooks, newest first,
   * as references without attempts: `recover` pages through them (at most `limit`, up to 1000, per call) and sends
   * each one again, so a window of millions is never loaded at once. Short pages as in `search`.
   *
   * @example
   * for (let cursor; ; ) {
   *   const page = await log.findFailed({ since, tenant: 'acme', limit: 1000, cursor });
   *   // queue page.items ...
   *   if (!(cursor = page.nextCursor)) break;
   * }
   */
  findFailed?(query: FailedDeliveryQuery): Promise<DeliveryRefPage>;
  /** A webhook's figures from the log (see {@link WebhookDeliveryStats}): one bounded read. */
  webhookStats?(webhookId: string, query?: DeliveryStatsQuery): Promise<WebhookDeliveryStats>;
}

/** What a log holds, for tests and metrics. `bytes` is an estimate of the memory (or storage) it takes. */
export interface DeliveryLogStats {
  deliveries: number;
  attempts: number;
  bytes: number;
  webhooks: number;
}

export interface MemoryDeliveryLog extends Required<DeliveryLog> {
  stats(): DeliveryLogStats;
}

export interface MemoryDeliveryLogOptions {
  /** Estimated bytes kept at most; the least recently written deliveries are dropped first. @default 32 MiB */
  maxBytes?: number;
  /** A delivery is dropped this long after its latest attempt was recorded. @default 7 days */
  maxAgeMs?: number;
  /** Deliveries kept per webhook (the newest by `createdAt`). @default 100 */
  perWebhook?: number;
  /** Attempts kept per delivery (the newest). @default 100 */
  perDelivery?: number;
  /** Webhooks with a history at most; the least recently written history is dropped first. @default 10_000 */
  maxWebhooks?: number;
  /** The clock retention reads, in epoch ms. @default Date.now */
  now?: () => number;
}

export { MAX_SCANNED, STATS_MAX_DELIVERIES } from './delivery-stats.js';
export { MAX_RETENTION_MS, memoryDeliveryLog } from './memory-delivery-log.js';
export { normalizeDeliveryAttempt, requestForLog, truncateUtf8 } from './normalize-attempt.js';
export type { NormalizedDeliveryQuery } from './query.js';
export {
  DEFAULT_LIST_LIMIT,
  decodeDeliveryCursor,
  encodeDeliveryCursor,
  MAX_LIST_LIMIT,
  normalizeDeliveryQuery,
} from './query.js';
export { redactBody, redactHeaders, redactResponseHeaders } from './redact.js';

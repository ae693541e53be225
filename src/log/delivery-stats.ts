// A leaf without error classes: the durable delivery logs use it without copying the core into their bundles.
import type { DeliveryStatus, WebhookDeliveryStats } from './delivery-log.js';
import { parseIsoTime } from './iso-time.js';

/** Deliveries read at most by one `webhookStats()` call (the newest), in every backend. */
export const STATS_MAX_DELIVERIES = 10_000;

/** Deliveries (or set members) one `search`/`list` call looks at at most, in memory and Redis. */
export const MAX_SCANNED = 10_000;

/** What the stats read of one delivery: its status, its latest attempt's duration and time. */
export interface StatsSample {
  status: DeliveryStatus;
  /** Of the latest attempt; not a finite number: left out of the percentiles. */
  durationMs: number;
  /** ISO-8601 time of the latest attempt. */
  updatedAt: string;
}

/**
 * The `p` quantile (0 to 1) of ascending `sorted` values, interpolated between the two nearest ranks the way
 * Postgres's `percentile_cont` does, so every backend answers the same figure. `null` when there are none.
 */
export function percentileCont(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const position = p * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  const low = sorted[lo] as number;
  return low + ((sorted[hi] as number) - low) * (position - lo);
}

/** The figures of `webhookStats()` from the deliveries read. */
export function deliveryStatsOf(samples: Iterable<StatsSample>): WebhookDeliveryStats {
  let delivered = 0;
  let failed = 0;
  const durations: number[] = [];
  let lastDelivered: { ms: number; at: string } | undefined;
  let lastFailed: { ms: number; at: string } | undefined;
  for (const sample of samples) {
    const ms = parseIsoTime(sample.updatedAt);
    const at = { ms: Number.isFinite(ms) ? ms : Number.NEGATIVE_INFINITY, at: sample.updatedAt };
    if (sample.status === 'delivered') {
      delivered++;
      if (!lastDelivered || at.ms > lastDelivered.ms) lastDelivered = at;
    } else {
      failed++;
      if (!lastFailed || at.ms > lastFailed.ms) lastFailed = at;
    }
    if (Number.isFinite(sample.durationMs)) durations.push(sample.durationMs);
  }
  durations.sort((a, b) => a - b);
  return {
    delivered,
    failed,
    successRate: delivered + failed === 0 ? null : delivered / (delivered + failed),
    p50Ms: percentileCont(durations, 0.5),
    p95Ms: percentileCont(durations, 0.95),
    lastDeliveredAt: lastDelivered?.at ?? null,
    lastFailedAt: lastFailed?.at ?? null,
  };
}

import { describe, OptionsError } from '../core/errors.js';
import { numberOption } from '../core/option-checks.js';
import { boundLogMethods } from './bound-methods.js';
import type {
  DeliveryAttempt,
  DeliveryPage,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryRefPage,
  DeliverySearch,
  DeliveryStatsQuery,
  FailedDeliveryQuery,
  MemoryDeliveryLog,
  MemoryDeliveryLogOptions,
  WebhookDeliveryStats,
} from './delivery-log.js';
import { deliveryStatsOf, MAX_SCANNED, STATS_MAX_DELIVERIES, type StatsSample } from './delivery-stats.js';
import { parseIsoTime } from './iso-time.js';
import {
  attemptBytes,
  DELIVERY_OVERHEAD,
  type Entry,
  INDEX_OVERHEAD,
  latestOf,
  statusOf,
  toRecord,
  toRef,
} from './memory-entry.js';
import { normalizeDeliveryAttempt } from './normalize-attempt.js';
import { encodeDeliveryCursor, type NormalizedDeliveryQuery, normalizeDeliveryQuery } from './query.js';
import { SortedEntries } from './sorted-entries.js';
import { WriteOrder } from './write-order.js';

const DAY_MS = 86_400_000;
/** Longest retention accepted (about 100 years): far beyond any timer, so not capped by MAX_TIMER_MS. */
export const MAX_RETENTION_MS = 36_500 * DAY_MS;

interface History {
  webhookId: string;
  entries: SortedEntries<Entry>;
  seq: number;
  live: boolean;
}

interface Limits {
  maxBytes: number;
  maxAgeMs: number;
  perWebhook: number;
  perDelivery: number;
  maxWebhooks: number;
  now: () => number;
}

function resolveLimits(options: MemoryDeliveryLogOptions): Limits {
  if (options === null || typeof options !== 'object') {
    throw new OptionsError('options', `Expected \`options\` to be an object, got ${describe(options)}`);
  }
  const count = (field: string, value: unknown, fallback: number) =>
    numberOption(field, value, fallback, { positive: true, integer: true, max: 10_000_000 });
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') {
    throw new OptionsError('now', `Expected \`now\` to be a function, got ${describe(now)}`);
  }
  return {
    maxBytes: numberOption('maxBytes', options.maxBytes, 32 * 1024 * 1024, {
      positive: true,
      max: Number.MAX_SAFE_INTEGER,
    }),
    maxAgeMs: numberOption('maxAgeMs', options.maxAgeMs, 7 * DAY_MS, {
      positive: true,
      max: MAX_RETENTION_MS,
    }),
    perWebhook: count('perWebhook', options.perWebhook, 100),
    perDelivery: count('perDelivery', options.perDelivery, 100),
    maxWebhooks: count('maxWebhooks', options.maxWebhooks, 10_000),
    now,
  };
}

/** A newest-first walk's outcome: the entries found, and where the next page starts when there is one. */
interface Walk {
  found: Entry[];
  next?: Entry;
}

/**
 * The memory log's state and its one owner: every delivery by id (`records`), by webhook (`histories`), by tenant
 * (`tenants`) and in all (`all`), each index in (createdAt, deliveryId) order, plus the write order retention
 * drops from.
 */
class MemoryLog implements MemoryDeliveryLog {
  private readonly records = new Map<string, Entry>();
  private readonly recordOrder = new WriteOrder<Entry>();
  private readonly histories = new Map<string, History>();
  private readonly historyOrder = new WriteOrder<History>();
  private readonly tenants = new Map<string, SortedEntries<Entry>>();
  private readonly all = new SortedEntries<Entry>();
  private bytes = 0;
  private attempts = 0;

  constructor(private readonly limits: Limits) {}

  record(input: DeliveryAttempt): void {
    const attempt = normalizeDeliveryAttempt(input);
    const t = this.clock();
    this.expire(t);
    const entry = this.records.get(attempt.deliveryId);
    if (entry) this.addAttempt(entry, attempt, t);
    else this.addDelivery(attempt, t);
    // The byte bound: the least recently written deliveries go first (a delivery bigger than maxBytes on its own
    // is not kept at all).
    for (
      let old = this.recordOrder.oldest();
      old && this.bytes > this.limits.maxBytes;
      old = this.recordOrder.oldest()
    )
      this.remove(old);
  }

  async list(webhookId: string, query?: DeliveryQuery): Promise<DeliveryPage> {
    const q = normalizeDeliveryQuery(query);
    const t = this.clock();
    this.expire(t);
    return this.page(this.walk(this.histories.get(webhookId)?.entries, q, t), toRecord);
  }

  async get(deliveryId: string): Promise<DeliveryRecord | undefined> {
    const entry = typeof deliveryId === 'string' ? this.records.get(deliveryId) : undefined;
    if (!entry) return undefined;
    if (this.expired(entry, this.clock())) {
      this.remove(entry);
      return undefined;
    }
    return toRecord(entry);
  }

  async search(query?: DeliverySearch): Promise<DeliveryPage> {
    return this.page(this.searchWalk(normalizeDeliveryQuery(query)), toRecord);
  }

  async findFailed(query: FailedDeliveryQuery): Promise<DeliveryRefPage> {
    const q = normalizeDeliveryQuery(query);
    q.status = 'failed';
    return this.page(this.searchWalk(q), toRef);
  }

  async webhookStats(webhookId: string, query?: DeliveryStatsQuery): Promise<WebhookDeliveryStats> {
    const { sinceMs } = normalizeDeliveryQuery(query as DeliveryQuery | undefined);
    const t = this.clock();
    this.expire(t);
    const entries = this.histories.get(webhookId)?.entries;
    const samples: StatsSample[] = [];
    if (entries) {
      const from = Number.isFinite(sinceMs) ? entries.lowerBound(sinceMs, '') : 0;
      for (let i = entries.size - 1; i >= from && samples.length < STATS_MAX_DELIVERIES; i--) {
        const entry = entries.items[i] as Entry;
        if (this.expired(entry, t)) continue;
        const latest = latestOf(entry);
        samples.push({ status: statusOf(entry), durationMs: latest.durationMs, updatedAt: latest.startedAt });
      }
    }
    return deliveryStatsOf(samples);
  }

  stats() {
    return {
      deliveries: this.records.size,
      attempts: this.attempts,
      bytes: this.bytes,
      webhooks: this.histories.size,
    };
  }

  private searchWalk(q: NormalizedDeliveryQuery): Walk {
    const t = this.clock();
    this.expire(t);
    const source =
      q.webhookId !== undefined
        ? this.histories.get(q.webhookId)?.entries
        : q.tenant !== undefined
          ? this.tenants.get(q.tenant)
          : this.all;
    return this.walk(source, q, t);
  }

  /** Walks `source` newest first from the query's position; looks at `MAX_SCANNED` entries at most. */
  private walk(source: SortedEntries<Entry> | undefined, q: NormalizedDeliveryQuery, t: number): Walk {
    const found: Entry[] = [];
    if (!source) return { found };
    const end = source.endBefore(q.untilMs, q.after);
    for (let i = end - 1, scanned = 0; i >= 0; i--, scanned++) {
      const entry = source.items[i] as Entry;
      if (entry.createdMs < q.sinceMs) break;
      if (scanned === MAX_SCANNED) return { found, next: source.items[i + 1] };
      if (this.expired(entry, t)) continue;
      if (q.status !== undefined && statusOf(entry) !== q.status) continue;
      if (q.tenant !== undefined && entry.tenant !== q.tenant) continue;
      if (found.length === q.limit) return { found, next: found[found.length - 1] };
      found.push(entry);
    }
    return { found };
  }

  private page<T>(walk: Walk, view: (entry: Entry) => T): { items: T[]; nextCursor?: string } {
    const page: { items: T[]; nextCursor?: string } = { items: walk.found.map(view) };
    if (walk.next) page.nextCursor = encodeDeliveryCursor(walk.next.createdMs, walk.next.deliveryId);
    return page;
  }

  private clock(): number {
    const t = this.limits.now();
    return typeof t === 'number' && Number.isFinite(t) ? t : Date.now();
  }

  private expired(entry: Entry, t: number): boolean {
    return entry.writtenAt <= t - this.limits.maxAgeMs;
  }

  /** Drops expired deliveries from the front (least recently written); a clock that went back is caught on read. */
  private expire(t: number): void {
    for (
      let entry = this.recordOrder.oldest();
      entry && this.expired(entry, t);
      entry = this.recordOrder.oldest()
    )
      this.remove(entry);
  }

  private addAttempt(entry: Entry, attempt: DeliveryAttempt, t: number): void {
    this.recordOrder.touch(entry, this.records.size);
    // Retries send the same body: keep (and count) it once per delivery.
    const first = entry.attempts[0]?.request.body;
    const shared = first !== undefined && attempt.request.body === first;
    if (shared) attempt.request.body = first;
    const size = attemptBytes(attempt, !shared);
    entry.attempts.push(attempt);
    entry.sizes.push(size);
    entry.bytes += size;
    entry.writtenAt = t;
    this.bytes += size;
    this.attempts++;
    while (entry.attempts.length > this.limits.perDelivery) this.dropOldestAttempt(entry);
    const history = this.histories.get(entry.webhookId);
    if (history) this.historyOrder.touch(history, this.histories.size);
  }

  /** The oldest attempt goes; when it held the shared body, the next one now counts it. */
  private dropOldestAttempt(entry: Entry): void {
    const dropped = entry.attempts.shift() as DeliveryAttempt;
    const droppedSize = entry.sizes.shift() as number;
    const next = entry.attempts[0] as DeliveryAttempt;
    let delta = -droppedSize;
    if (dropped.request.body !== undefined && next.request.body === dropped.request.body) {
      const before = entry.sizes[0] as number;
      entry.sizes[0] = attemptBytes(next, true);
      delta += (entry.sizes[0] as number) - before;
    }
    entry.bytes += delta;
    this.bytes += delta;
    this.attempts--;
  }

  private addDelivery(attempt: DeliveryAttempt, t: number): void {
    const parsed = parseIsoTime(attempt.startedAt);
    const size = attemptBytes(attempt, true);
    const entry: Entry = {
      seq: 0,
      live: true,
      deliveryId: attempt.deliveryId,
      webhookId: attempt.webhookId,
      eventId: attempt.eventId,
      createdAt: Number.isFinite(parsed) ? attempt.startedAt : new Date(t).toISOString(),
      createdMs: Number.isFinite(parsed) ? parsed : t,
      attempts: [attempt],
      sizes: [size],
      bytes: DELIVERY_OVERHEAD + size,
      writtenAt: t,
    };
    if (attempt.tenant !== undefined) entry.tenant = attempt.tenant;
    if (attempt.eventType !== undefined) entry.eventType = attempt.eventType;
    const history = this.historyOf(attempt.webhookId);
    history.entries.insert(entry);
    this.all.insert(entry);
    if (entry.tenant !== undefined) this.tenantIndex(entry.tenant).insert(entry);
    this.records.set(entry.deliveryId, entry);
    this.recordOrder.touch(entry, this.records.size);
    this.bytes += entry.bytes;
    this.attempts++;
    while (history.entries.size > this.limits.perWebhook) this.remove(history.entries.items[0] as Entry);
  }

  /** The webhook's history, made (dropping the least recently written one beyond `maxWebhooks`) when missing. */
  private historyOf(webhookId: string): History {
    let history = this.histories.get(webhookId);
    if (!history) {
      for (let old = this.historyOrder.oldest(); old && this.histories.size >= this.limits.maxWebhooks; ) {
        for (const e of old.entries.items.slice()) this.remove(e);
        old = this.historyOrder.oldest();
      }
      history = { webhookId, entries: new SortedEntries<Entry>(), seq: 0, live: true };
      this.histories.set(webhookId, history);
      this.bytes += INDEX_OVERHEAD + 2 * webhookId.length;
    }
    this.historyOrder.touch(history, this.histories.size);
    return history;
  }

  private tenantIndex(tenant: string): SortedEntries<Entry> {
    let index = this.tenants.get(tenant);
    if (!index) {
      index = new SortedEntries<Entry>();
      this.tenants.set(tenant, index);
      this.bytes += INDEX_OVERHEAD + 2 * tenant.length;
    }
    return index;
  }

  private remove(entry: Entry): void {
    this.records.delete(entry.deliveryId);
    entry.live = false;
    this.bytes -= entry.bytes;
    this.attempts -= entry.attempts.length;
    this.all.remove(entry);
    if (entry.tenant !== undefined) {
      const index = this.tenants.get(entry.tenant);
      index?.remove(entry);
      if (index?.size === 0) {
        this.tenants.delete(entry.tenant);
        this.bytes -= INDEX_OVERHEAD + 2 * entry.tenant.length;
      }
    }
    const history = this.histories.get(entry.webhookId);
    if (!history) return;
    history.entries.remove(entry);
    if (history.entries.size === 0) {
      this.histories.delete(entry.webhookId);
      history.live = false;
      this.bytes -= INDEX_OVERHEAD + 2 * entry.webhookId.length;
    }
  }
}

/**
 * The default delivery log, in memory, bounded in estimated bytes (`maxBytes`), by age (`maxAgeMs` after the
 * latest attempt), per webhook (`perWebhook` deliveries), per delivery (`perDelivery` attempts) and in webhooks
 * (`maxWebhooks`). `record` and `get` are O(log n) at most; `list` and `search` read only the page (plus the
 * deliveries the filters skip, `MAX_SCANNED` at most). Retention is applied on every write and read; no timer runs.
 */
export function memoryDeliveryLog(options: MemoryDeliveryLogOptions = {}): MemoryDeliveryLog {
  const log = new MemoryLog(resolveLimits(options));
  return { ...boundLogMethods(log), stats: () => log.stats() };
}

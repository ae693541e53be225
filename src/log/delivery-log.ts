import { describe, OptionsError } from '../core/errors.js';
import { numberOption } from '../core/option-checks.js';
import { isStorable } from '../core/storable-text.js';
import type { DeliveryError } from '../core/types.js';
import { isSensitiveHeader } from '../rendering/sensitive-headers.js';
import { parseIsoTime } from './iso-time.js';
import { replaceUnstorableIn } from './storable-attempt.js';

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

/** Where every attempt is recorded. Pluggable, so a database can keep the history. */
export interface DeliveryLog {
  /** Adds an attempt to its delivery (created by its first attempt). Not awaited on the delivery path. */
  record(attempt: DeliveryAttempt): void | Promise<void>;
  /** The deliveries of a webhook, newest first, one page at a time. */
  list(webhookId: string, query?: DeliveryQuery): Promise<DeliveryPage>;
  /** One delivery with all its kept attempts (newest first), or undefined. */
  get(deliveryId: string): Promise<DeliveryRecord | undefined>;
}

/** What a log holds, for tests and metrics. `bytes` is an estimate of the memory (or storage) it takes. */
export interface DeliveryLogStats {
  deliveries: number;
  attempts: number;
  bytes: number;
  webhooks: number;
}

export interface MemoryDeliveryLog extends DeliveryLog {
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

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 1000;
const DAY_MS = 86_400_000;
/** Longest retention accepted (about 100 years): far beyond any timer, so not capped by MAX_TIMER_MS. */
export const MAX_RETENTION_MS = 36_500 * DAY_MS;
/** Longest error message kept, in characters. */
const MAX_ERROR_MESSAGE = 4096;

// Estimated bytes of the objects around the strings (V8 objects, numbers, Map and array slots). Strings are
// counted as two bytes per UTF-16 unit, which over-counts one-byte strings: the estimate errs on the safe side.
const ATTEMPT_OVERHEAD = 400;
const DELIVERY_OVERHEAD = 500;
const HEADER_OVERHEAD = 64;
const WEBHOOK_OVERHEAD = 300;

/** A query, validated: every bound explicit. */
export interface NormalizedDeliveryQuery {
  status?: DeliveryStatus;
  /** Inclusive. */
  sinceMs: number;
  /** Exclusive. */
  untilMs: number;
  limit: number;
  /** Exclusive: items strictly older than this position. */
  after?: { ms: number; id: string };
}

/** Validates a `DeliveryQuery` with the options message pattern (throws `OptionsError`). */
export function normalizeDeliveryQuery(query: DeliveryQuery | undefined): NormalizedDeliveryQuery {
  if (query === undefined || query === null) {
    return {
      sinceMs: Number.NEGATIVE_INFINITY,
      untilMs: Number.POSITIVE_INFINITY,
      limit: DEFAULT_LIST_LIMIT,
    };
  }
  if (typeof query !== 'object') {
    throw new OptionsError('query', `Expected \`query\` to be an object, got ${describe(query)}`);
  }
  const { status, since, until, cursor } = query;
  if (status !== undefined && status !== 'delivered' && status !== 'failed') {
    throw new OptionsError(
      'status',
      `Expected \`status\` to be 'delivered' or 'failed', got ${describe(status)}`,
    );
  }
  const limit = numberOption('limit', query.limit, DEFAULT_LIST_LIMIT, {
    positive: true,
    integer: true,
    max: MAX_LIST_LIMIT,
  });
  const normalized: NormalizedDeliveryQuery = {
    sinceMs: since === undefined ? Number.NEGATIVE_INFINITY : timeOption('since', since),
    untilMs: until === undefined ? Number.POSITIVE_INFINITY : timeOption('until', until),
    limit,
  };
  if (status !== undefined) normalized.status = status;
  if (cursor !== undefined) normalized.after = decodeDeliveryCursor(cursor);
  return normalized;
}

function timeOption(field: string, value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    const got = value instanceof Date ? 'an invalid Date' : describe(value);
    throw new OptionsError(field, `Expected \`${field}\` to be a Date or epoch ms, got ${got}`);
  }
  return ms;
}

/** An opaque cursor: base64url of the position (createdAt in epoch ms, deliveryId) of the page's last item. */
export function encodeDeliveryCursor(ms: number, deliveryId: string): string {
  return Buffer.from(JSON.stringify([ms, deliveryId])).toString('base64url');
}

export function decodeDeliveryCursor(cursor: unknown): { ms: number; id: string } {
  if (typeof cursor === 'string' && cursor.length <= 4096) {
    try {
      const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
      if (
        Array.isArray(value) &&
        value.length === 2 &&
        typeof value[0] === 'number' &&
        Number.isFinite(value[0]) &&
        typeof value[1] === 'string' &&
        // No log wrote it: Postgres cannot even compare one.
        isStorable(value[1])
      ) {
        return { ms: value[0], id: value[1] };
      }
    } catch {
      // Reported below.
    }
  }
  throw new OptionsError(
    'cursor',
    `Expected \`cursor\` to be the nextCursor of a previous page, got ${describe(typeof cursor === 'string' ? `${cursor.slice(0, 40)}` : cursor)}`,
  );
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most strings are known to fit without encoding them.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return { text, truncated: false };
  const { read } = new TextEncoder().encodeInto(text, new Uint8Array(maxBytes));
  return { text: text.slice(0, read), truncated: true };
}

/**
 * The request of an attempt as the log keeps it: credential headers masked (`redactHeaders`), the body as it was
 * signed with the secret and credential header values masked anyway (`redactBody`: a body holds no secret by
 * construction, unless a template put one there), cut to `maxBodyBytes` (then `bodyTruncated: true`).
 */
export function requestForLog(
  request: { url: string; headers: Record<string, string>; body?: string },
  options: { secret?: string; maxBodyBytes?: number } = {},
): DeliveryAttempt['request'] {
  const logged: DeliveryAttempt['request'] = { url: request.url, headers: redactHeaders(request.headers) };
  if (typeof request.body === 'string') {
    const safe = redactBody(request.body, request.headers, options.secret) ?? '';
    if (options.maxBodyBytes === undefined) logged.body = safe;
    else {
      const { text, truncated } = truncateUtf8(safe, options.maxBodyBytes);
      logged.body = text;
      if (truncated) logged.bodyTruncated = true;
    }
  }
  return logged;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function copyHeaders<T extends string | string[] | undefined>(
  headers: unknown,
): Record<string, T> | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const source = headers as Record<string, unknown>;
  const copy: Record<string, T> = {};
  for (const name in source) {
    if (!Object.hasOwn(source, name)) continue;
    const value = source[name];
    let kept: T | undefined;
    if (typeof value === 'string') kept = value as T;
    else if (Array.isArray(value)) kept = value.map((v) => String(v)) as T;
    else kept = text(value) as T | undefined;
    if (kept === undefined) continue;
    // A header named __proto__ stays a header.
    if (name === '__proto__')
      Object.defineProperty(copy, name, { value: kept, enumerable: true, writable: true });
    else copy[name] = kept;
  }
  return copy;
}

/**
 * A copy of an attempt with only its known fields, strings where strings belong, `maxBodyBytes` applied to the
 * request and response bodies, and NUL and lone surrogates replaced (listed in `altered`, see
 * `replaceUnstorableIn()`): what a log stores, whatever it was given (a custom caller of `record` may pass
 * anything), the same on every backend. Throws when the ids are missing.
 */
export function normalizeDeliveryAttempt(input: DeliveryAttempt, maxBodyBytes?: number): DeliveryAttempt {
  if (input === null || typeof input !== 'object') {
    throw new OptionsError('attempt', `Expected \`attempt\` to be an object, got ${describe(input)}`);
  }
  for (const field of ['deliveryId', 'webhookId'] as const) {
    if (typeof input[field] !== 'string' || input[field] === '') {
      throw new OptionsError(
        `attempt.${field}`,
        `Expected \`attempt.${field}\` to be a non-empty string, got ${describe(input[field])}`,
      );
    }
  }
  const cut = (body: string | undefined) =>
    body === undefined || maxBodyBytes === undefined
      ? { text: body, truncated: false }
      : truncateUtf8(body, maxBodyBytes);
  const request = (input.request ?? {}) as Partial<DeliveryAttempt['request']>;
  const requestBody = cut(text(request.body));
  const attempt: DeliveryAttempt = {
    deliveryId: input.deliveryId,
    webhookId: input.webhookId,
    eventId: text(input.eventId) ?? '',
    attempt: typeof input.attempt === 'number' ? input.attempt : 0,
    startedAt: text(input.startedAt) ?? '',
    durationMs: typeof input.durationMs === 'number' ? input.durationMs : 0,
    ok: input.ok === true,
    request: {
      url: text(request.url) ?? '',
      headers: copyHeaders<string>(request.headers) ?? {},
    },
  };
  const tenant = text(input.tenant);
  if (tenant !== undefined) attempt.tenant = tenant;
  const eventType = text(input.eventType);
  if (eventType !== undefined) attempt.eventType = eventType;
  if (typeof input.status === 'number') attempt.status = input.status;
  if (input.error && typeof input.error === 'object') {
    attempt.error = {
      code: (text(input.error.code) ?? 'UNKNOWN') as DeliveryError['code'],
      message: (text(input.error.message) ?? '').slice(0, MAX_ERROR_MESSAGE),
    };
  }
  if (requestBody.text !== undefined) attempt.request.body = requestBody.text;
  if (request.bodyTruncated === true || requestBody.truncated) attempt.request.bodyTruncated = true;
  if (input.response && typeof input.response === 'object') {
    const response: NonNullable<DeliveryAttempt['response']> = {};
    const headers = copyHeaders<string | string[] | undefined>(input.response.headers);
    if (headers) response.headers = headers;
    const body = cut(text(input.response.body)).text;
    if (body !== undefined) response.body = body;
    attempt.response = response;
  }
  if (input.redelivery === true) attempt.redelivery = true;
  if (Array.isArray(input.altered)) attempt.altered = input.altered.filter((f) => typeof f === 'string');
  replaceUnstorableIn(attempt);
  return attempt;
}

function headerChars(headers: Record<string, string | string[] | undefined> | undefined): number {
  if (!headers) return 0;
  let chars = 0;
  for (const name in headers) {
    const value = headers[name];
    chars += name.length + HEADER_OVERHEAD / 2;
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value)) for (const v of value) chars += v.length + HEADER_OVERHEAD / 2;
  }
  return chars;
}

/** Estimated bytes an attempt takes in memory, its request body left out (counted once per delivery). */
function attemptBytes(a: DeliveryAttempt, countBody: boolean): number {
  let chars =
    a.deliveryId.length +
    a.webhookId.length +
    a.eventId.length +
    a.startedAt.length +
    (a.tenant?.length ?? 0) +
    (a.eventType?.length ?? 0) +
    a.request.url.length +
    headerChars(a.request.headers);
  if (countBody) chars += a.request.body?.length ?? 0;
  if (a.error) chars += a.error.code.length + a.error.message.length;
  if (a.response) chars += headerChars(a.response.headers) + (a.response.body?.length ?? 0);
  return ATTEMPT_OVERHEAD + 2 * chars;
}

/** Orders deliveries by (createdAt, deliveryId). */
function compareKey(ms: number, id: string, otherMs: number, otherId: string): number {
  if (ms !== otherMs) return ms < otherMs ? -1 : 1;
  return id === otherId ? 0 : id < otherId ? -1 : 1;
}

/**
 * Items in the order they were last written: `touch` and `oldest` in O(1) amortized. A queue with lazy deletion,
 * not a Map re-inserted on every write: that leaves holes that every walk from the front steps over again.
 */
class WriteOrder<T extends { seq: number; live: boolean }> {
  private items: (T | undefined)[] = [];
  private seqs: number[] = [];
  private head = 0;
  private counter = 0;

  /** Marks `item` as the most recently written; `live` is how many items are live in all. */
  touch(item: T, live: number): void {
    item.seq = ++this.counter;
    this.items.push(item);
    this.seqs.push(item.seq);
    if (this.items.length - this.head > 2 * live + 1024) this.compact();
  }

  oldest(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      if (item?.live && item.seq === this.seqs[this.head]) return item;
      this.items[this.head] = undefined;
      this.head++;
    }
    return undefined;
  }

  private compact(): void {
    const items: T[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      if (item?.live && item.seq === this.seqs[i]) {
        items.push(item);
        seqs.push(item.seq);
      }
    }
    this.items = items;
    this.seqs = seqs;
    this.head = 0;
  }
}

interface History {
  webhookId: string;
  /** In (createdAt, deliveryId) order. */
  entries: Entry[];
  seq: number;
  live: boolean;
}

interface Entry {
  seq: number;
  live: boolean;
  deliveryId: string;
  webhookId: string;
  eventId: string;
  tenant?: string;
  eventType?: string;
  createdAt: string;
  createdMs: number;
  /** Oldest first. */
  attempts: DeliveryAttempt[];
  /** Estimated bytes of each attempt, parallel to `attempts`. */
  sizes: number[];
  bytes: number;
  /** The log's clock when the latest attempt was recorded. */
  writtenAt: number;
}

/**
 * The default delivery log, in memory, bounded in estimated bytes (`maxBytes`), by age (`maxAgeMs` after the
 * latest attempt), per webhook (`perWebhook` deliveries), per delivery (`perDelivery` attempts) and in webhooks
 * (`maxWebhooks`). `record` and `get` are O(log n) at most; `list` reads only the page (plus the deliveries the
 * status filter skips). Retention is applied on every write and read; no timer runs.
 */
export function memoryDeliveryLog(options: MemoryDeliveryLogOptions = {}): MemoryDeliveryLog {
  if (options === null || typeof options !== 'object') {
    throw new OptionsError('options', `Expected \`options\` to be an object, got ${describe(options)}`);
  }
  const maxBytes = numberOption('maxBytes', options.maxBytes, 32 * 1024 * 1024, {
    positive: true,
    max: Number.MAX_SAFE_INTEGER,
  });
  const maxAgeMs = numberOption('maxAgeMs', options.maxAgeMs, 7 * DAY_MS, {
    positive: true,
    max: MAX_RETENTION_MS,
  });
  const count = (field: string, value: unknown, fallback: number) =>
    numberOption(field, value, fallback, { positive: true, integer: true, max: 10_000_000 });
  const perWebhook = count('perWebhook', options.perWebhook, 100);
  const perDelivery = count('perDelivery', options.perDelivery, 100);
  const maxWebhooks = count('maxWebhooks', options.maxWebhooks, 10_000);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') {
    throw new OptionsError('now', `Expected \`now\` to be a function, got ${describe(now)}`);
  }

  /** Every delivery by id. */
  const records = new Map<string, Entry>();
  const recordOrder = new WriteOrder<Entry>();
  /** Each webhook's deliveries. */
  const histories = new Map<string, History>();
  const historyOrder = new WriteOrder<History>();
  let bytes = 0;
  let attempts = 0;

  const clock = (): number => {
    const t = now();
    return typeof t === 'number' && Number.isFinite(t) ? t : Date.now();
  };

  /** Index of the first entry at or after (ms, id). */
  const lowerBound = (history: Entry[], ms: number, id: string): number => {
    let lo = 0;
    let hi = history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = history[mid] as Entry;
      if (compareKey(e.createdMs, e.deliveryId, ms, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const remove = (entry: Entry) => {
    records.delete(entry.deliveryId);
    entry.live = false;
    bytes -= entry.bytes;
    attempts -= entry.attempts.length;
    const history = histories.get(entry.webhookId);
    if (!history) return;
    // The oldest goes most often: shift() is much cheaper than splice(0, 1).
    if (history.entries[0] === entry) history.entries.shift();
    else {
      const i = lowerBound(history.entries, entry.createdMs, entry.deliveryId);
      if (history.entries[i] === entry) history.entries.splice(i, 1);
    }
    if (history.entries.length === 0) {
      histories.delete(entry.webhookId);
      history.live = false;
      bytes -= WEBHOOK_OVERHEAD + 2 * entry.webhookId.length;
    }
  };

  const expired = (entry: Entry, t: number) => entry.writtenAt <= t - maxAgeMs;

  /** Drops expired deliveries from the front (least recently written); a clock that went back is caught on read. */
  const expire = (t: number) => {
    for (let entry = recordOrder.oldest(); entry && expired(entry, t); entry = recordOrder.oldest())
      remove(entry);
  };

  const statusOf = (entry: Entry): DeliveryStatus =>
    (entry.attempts[entry.attempts.length - 1] as DeliveryAttempt).ok ? 'delivered' : 'failed';

  const toRecord = (entry: Entry): DeliveryRecord => {
    const latest = entry.attempts[entry.attempts.length - 1] as DeliveryAttempt;
    const record: DeliveryRecord = {
      deliveryId: entry.deliveryId,
      webhookId: entry.webhookId,
      eventId: entry.eventId,
      status: latest.ok ? 'delivered' : 'failed',
      createdAt: entry.createdAt,
      updatedAt: latest.startedAt,
      attempts: entry.attempts.map(cloneAttempt).reverse(),
    };
    if (entry.tenant !== undefined) record.tenant = entry.tenant;
    if (entry.eventType !== undefined) record.eventType = entry.eventType;
    return record;
  };

  return {
    record(input) {
      const attempt = normalizeDeliveryAttempt(input);
      const t = clock();
      expire(t);
      let entry = records.get(attempt.deliveryId);
      if (entry) {
        recordOrder.touch(entry, records.size);
        // Retries send the same body: keep (and count) it once per delivery.
        const first = entry.attempts[0]?.request.body;
        const shared = first !== undefined && attempt.request.body === first;
        if (shared) attempt.request.body = first;
        const size = attemptBytes(attempt, !shared);
        entry.attempts.push(attempt);
        entry.sizes.push(size);
        entry.bytes += size;
        entry.writtenAt = t;
        bytes += size;
        attempts++;
        while (entry.attempts.length > perDelivery) {
          // The oldest attempt goes; when it held the shared body, the next one now counts it.
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
          bytes += delta;
          attempts--;
        }
        const history = histories.get(entry.webhookId);
        if (history) historyOrder.touch(history, histories.size);
      } else {
        const parsed = parseIsoTime(attempt.startedAt);
        const createdMs = Number.isFinite(parsed) ? parsed : t;
        const size = attemptBytes(attempt, true);
        entry = {
          seq: 0,
          live: true,
          deliveryId: attempt.deliveryId,
          webhookId: attempt.webhookId,
          eventId: attempt.eventId,
          createdAt: Number.isFinite(parsed) ? attempt.startedAt : new Date(t).toISOString(),
          createdMs,
          attempts: [attempt],
          sizes: [size],
          bytes: DELIVERY_OVERHEAD + size,
          writtenAt: t,
        };
        if (attempt.tenant !== undefined) entry.tenant = attempt.tenant;
        if (attempt.eventType !== undefined) entry.eventType = attempt.eventType;
        let history = histories.get(attempt.webhookId);
        if (!history) {
          for (let oldest = historyOrder.oldest(); oldest && histories.size >= maxWebhooks; ) {
            for (const e of oldest.entries.slice()) remove(e);
            oldest = historyOrder.oldest();
          }
          history = { webhookId: attempt.webhookId, entries: [], seq: 0, live: true };
          histories.set(attempt.webhookId, history);
          bytes += WEBHOOK_OVERHEAD + 2 * attempt.webhookId.length;
        }
        historyOrder.touch(history, histories.size);
        // Mostly an append: deliveries are recorded about in the order they were created.
        const i = lowerBound(history.entries, createdMs, entry.deliveryId);
        if (i === history.entries.length) history.entries.push(entry);
        else history.entries.splice(i, 0, entry);
        records.set(entry.deliveryId, entry);
        recordOrder.touch(entry, records.size);
        bytes += entry.bytes;
        attempts++;
        while (history.entries.length > perWebhook) remove(history.entries[0] as Entry);
      }
      // The byte bound: the least recently written deliveries go first (a delivery bigger than maxBytes on its
      // own is not kept at all).
      for (let oldest = recordOrder.oldest(); oldest && bytes > maxBytes; oldest = recordOrder.oldest()) {
        remove(oldest);
      }
    },

    async list(webhookId, query) {
      const q = normalizeDeliveryQuery(query);
      const t = clock();
      expire(t);
      const history = histories.get(webhookId)?.entries;
      if (!history) return { items: [] };
      let end = q.untilMs === Number.POSITIVE_INFINITY ? history.length : lowerBound(history, q.untilMs, '');
      if (q.after) end = Math.min(end, lowerBound(history, q.after.ms, q.after.id));
      const items: DeliveryRecord[] = [];
      let last: Entry | undefined;
      let more = false;
      for (let i = end - 1; i >= 0; i--) {
        const entry = history[i] as Entry;
        if (entry.createdMs < q.sinceMs) break;
        if (expired(entry, t)) continue;
        if (q.status !== undefined && statusOf(entry) !== q.status) continue;
        if (items.length === q.limit) {
          more = true;
          break;
        }
        items.push(toRecord(entry));
        last = entry;
      }
      const page: DeliveryPage = { items };
      if (more && last) page.nextCursor = encodeDeliveryCursor(last.createdMs, last.deliveryId);
      return page;
    },

    async get(deliveryId) {
      const entry = typeof deliveryId === 'string' ? records.get(deliveryId) : undefined;
      if (!entry) return undefined;
      if (expired(entry, clock())) {
        remove(entry);
        return undefined;
      }
      return toRecord(entry);
    },

    stats() {
      return { deliveries: records.size, attempts, bytes, webhooks: histories.size };
    },
  };
}

/** A copy a caller may change without changing the log. */
function cloneAttempt(a: DeliveryAttempt): DeliveryAttempt {
  const copy: DeliveryAttempt = { ...a, request: { ...a.request, headers: { ...a.request.headers } } };
  if (a.error) copy.error = { ...a.error };
  if (a.altered) copy.altered = [...a.altered];
  if (a.response) {
    copy.response = { ...a.response };
    if (a.response.headers) copy.response.headers = { ...a.response.headers };
  }
  return copy;
}

/** A copy of request headers safe to keep: credentials and signatures are masked. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const safe: Record<string, string> = {};
  for (const name in headers) {
    safe[name] = isSensitiveHeader(name) ? '[redacted]' : (headers[name] as string);
  }
  return safe;
}

/** A challenge, not a credential: it says how to authenticate, and is worth keeping to debug a 401. */
const CHALLENGE_HEADERS = new Set(['www-authenticate', 'proxy-authenticate']);

/**
 * Response headers safe to keep: receivers that echo the request back may do it in headers too. Credential-like
 * names (`authorization`, `x-api-key`, `set-cookie`, ...) are masked as in requests, and in every other value the
 * request's credentials and `secret` are masked as in a response body ({@link redactBody}).
 */
export function redactResponseHeaders(
  headers: Record<string, string | string[] | undefined> | undefined,
  requestHeaders: Record<string, string>,
  secret: string | undefined,
): Record<string, string | string[] | undefined> | undefined {
  if (headers === undefined || headers === null) return headers;
  const safe: Record<string, string | string[] | undefined> = {};
  const mask = (value: string | undefined) => redactBody(value, requestHeaders, secret);
  for (const name in headers) {
    const value = headers[name];
    if (isSensitiveHeader(name) && !CHALLENGE_HEADERS.has(name.toLowerCase())) safe[name] = '[redacted]';
    else safe[name] = Array.isArray(value) ? value.map((item) => mask(item) ?? '') : mask(value);
  }
  return safe;
}

// Shorter strings are too likely to be ordinary words ("Bearer", "Basic") to be masked everywhere.
const MIN_MASKED_LENGTH = 8;

/**
 * A response body safe to keep: receivers that echo the request back (debug endpoints, error pages) would
 * otherwise put the request's credentials, or the webhook's secret, into the log. Masks the values of sensitive
 * request headers, each of their space-separated parts (the token of `Bearer <token>`) and `secret`.
 */
export function redactBody(
  body: string | undefined,
  headers: Record<string, string>,
  secret: string | undefined,
): string | undefined {
  if (!body) return body;
  let safe = body;
  const mask = (needle: string) => {
    if (needle.length >= MIN_MASKED_LENGTH && safe.includes(needle))
      safe = safe.replaceAll(needle, '[redacted]');
  };
  if (secret !== undefined) mask(secret);
  for (const name in headers) {
    if (!isSensitiveHeader(name)) continue;
    const value = headers[name] as string;
    mask(value);
    for (const part of value.split(' ')) mask(part);
  }
  return safe;
}

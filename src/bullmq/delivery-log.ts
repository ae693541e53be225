// A pure function (no class): a copy in this entry's bundle is harmless.

import {
  type DeliveryAttempt,
  type DeliveryRefPage,
  type DeliverySearch,
  type DeliveryStatsQuery,
  type DeliveryStatus,
  encodeDeliveryCursor,
  type FailedDeliveryQuery,
  type NormalizedDeliveryQuery,
  normalizeDeliveryAttempt,
  normalizeDeliveryQuery,
  OptionsError,
} from '../extend.js';
import type {
  DeliveryLog,
  DeliveryPage,
  DeliveryQuery,
  DeliveryRecord,
  WebhookDeliveryStats,
} from '../index.js';
import { boundLogMethods } from '../log/bound-methods.js';
import {
  deliveryStatsOf,
  MAX_SCANNED,
  STATS_MAX_DELIVERIES,
  type StatsSample,
} from '../log/delivery-stats.js';
import { parseIsoTime } from '../log/iso-time.js';
import { scoreOf, toRecord, toRef } from './delivery-log-records.js';
import { GET, PAGE, RECORD, STATS } from './delivery-log-scripts.js';

/** Longest retention accepted (about 100 years). */
const MAX_RETENTION_MS = 36_500 * 86_400_000;

/** A positive integer option of at most `max`, with the options message pattern. */
function integerOption(
  field: string,
  value: unknown,
  fallback: number,
  max: number,
  positive = true,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    (positive ? value <= 0 : value < 0) ||
    value > max
  ) {
    const kind = positive ? 'positive' : 'non-negative';
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be a ${kind} integer of at most ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The Redis command `redisDeliveryLog` uses, as an ioredis client (`new Redis(url)`) has it: every read and write
 * is one Lua script. Any client with this promise-returning method works.
 */
export interface RedisDeliveryLogClient {
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

export interface RedisDeliveryLogOptions {
  /** A connected Redis client, e.g. `new Redis(process.env.REDIS_URL)` from ioredis. Not closed by the log. */
  client: RedisDeliveryLogClient;
  /**
   * Prefix of every key. With Redis Cluster, put a hash tag in it (`'{wd}:log'`) so that all keys share a slot.
   * @default 'webhook-dispatcher:log'
   */
  prefix?: string;
  /** A delivery expires this long after its latest attempt was recorded (Redis `PEXPIRE`). @default 7 days */
  maxAgeMs?: number;
  /** Deliveries kept per webhook (the newest by `createdAt`). @default 1000 */
  perWebhook?: number;
  /** Attempts kept per delivery (the newest). @default 100 */
  perDelivery?: number;
  /**
   * Longest request or response body stored, in UTF-8 bytes; a longer one is cut (`request.bodyTruncated`) and can
   * no longer be sent again as it was. The dispatcher's own `maxBodyBytes` default is the same. @default 1 MiB
   */
  maxBodyBytes?: number;
}

interface Settings {
  client: RedisDeliveryLogClient;
  prefix: string;
  maxAgeMs: number;
  perWebhook: number;
  perDelivery: number;
  maxBodyBytes: number;
}

function resolveSettings(options: RedisDeliveryLogOptions): Settings {
  const client = options?.client;
  if (typeof client?.eval !== 'function') {
    throw new OptionsError(
      'client',
      'Expected `client` to be a Redis client with eval (an ioredis instance)',
    );
  }
  const prefix = options.prefix ?? 'webhook-dispatcher:log';
  if (typeof prefix !== 'string' || prefix === '') {
    throw new OptionsError(
      'prefix',
      `Expected \`prefix\` to be a non-empty string, got ${JSON.stringify(prefix)}`,
    );
  }
  return {
    client,
    prefix,
    maxAgeMs: integerOption('maxAgeMs', options.maxAgeMs, 7 * 86_400_000, MAX_RETENTION_MS),
    perWebhook: integerOption('perWebhook', options.perWebhook, 1000, 10_000_000),
    perDelivery: integerOption('perDelivery', options.perDelivery, 100, 10_000_000),
    maxBodyBytes: integerOption('maxBodyBytes', options.maxBodyBytes, 1_048_576, 512 * 1024 * 1024, false),
  };
}

const finite = (ms: number) => (Number.isFinite(ms) ? scoreOf(ms) : '');

/** The Redis log's calls, each one script; see {@link redisDeliveryLog}. */
class RedisLog implements Required<DeliveryLog> {
  constructor(private readonly s: Settings) {}

  async record(input: DeliveryAttempt): Promise<void> {
    const { client, prefix } = this.s;
    const attempt = normalizeDeliveryAttempt(input, this.s.maxBodyBytes);
    const parsed = parseIsoTime(attempt.startedAt);
    const createdMs = Number.isFinite(parsed) ? parsed : Date.now();
    const createdAt = Number.isFinite(parsed) ? attempt.startedAt : new Date(createdMs).toISOString();
    const body = attempt.request.body;
    delete attempt.request.body;
    const status: DeliveryStatus = attempt.ok ? 'delivered' : 'failed';
    await client.eval(
      RECORD,
      3,
      ...this.keys(attempt.deliveryId),
      `${prefix}:w:${attempt.webhookId}`,
      attempt.deliveryId,
      attempt.webhookId,
      attempt.eventId,
      // A leading '=' tells a present empty string from an absent value.
      attempt.tenant === undefined ? '' : `=${attempt.tenant}`,
      attempt.eventType === undefined ? '' : `=${attempt.eventType}`,
      createdAt,
      scoreOf(createdMs),
      status,
      JSON.stringify(attempt),
      body === undefined ? '0' : '1',
      body ?? '',
      String(this.s.maxAgeMs),
      String(this.s.perWebhook),
      String(this.s.perDelivery),
      prefix,
      String(attempt.durationMs),
    );
  }

  async list(webhookId: string, query?: DeliveryQuery): Promise<DeliveryPage> {
    const q = normalizeDeliveryQuery(query);
    q.webhookId = webhookId;
    return this.page(q, false);
  }

  async get(deliveryId: string): Promise<DeliveryRecord | undefined> {
    if (typeof deliveryId !== 'string' || deliveryId === '') return undefined;
    const reply = await this.s.client.eval(GET, 2, ...this.keys(deliveryId));
    if (!Array.isArray(reply)) return undefined;
    return toRecord(deliveryId, reply[0], reply[1]);
  }

  async search(query?: DeliverySearch): Promise<DeliveryPage> {
    return this.page(normalizeDeliveryQuery(query), false);
  }

  async findFailed(query: FailedDeliveryQuery): Promise<DeliveryRefPage> {
    const q = normalizeDeliveryQuery(query);
    q.status = 'failed';
    return this.page(q, true);
  }

  async webhookStats(webhookId: string, query?: DeliveryStatsQuery): Promise<WebhookDeliveryStats> {
    const { sinceMs } = normalizeDeliveryQuery(query as DeliveryQuery | undefined);
    const reply = await this.s.client.eval(
      STATS,
      1,
      `${this.s.prefix}:w:${webhookId}`,
      this.s.prefix,
      Number.isFinite(sinceMs) ? scoreOf(sinceMs) : '-inf',
      String(STATS_MAX_DELIVERIES),
    );
    const samples: StatsSample[] = [];
    if (Array.isArray(reply)) {
      for (let i = 0; i + 2 < reply.length; i += 3) {
        const ms = String(reply[i + 2]);
        samples.push({
          status: reply[i] === 'delivered' ? 'delivered' : 'failed',
          updatedAt: String(reply[i + 1]),
          durationMs: ms === '' ? Number.NaN : Number(ms),
        });
      }
    }
    return deliveryStatsOf(samples);
  }

  private keys(deliveryId: string): [string, string] {
    return [`${this.s.prefix}:d:${deliveryId}`, `${this.s.prefix}:a:${deliveryId}`];
  }

  /** The set a query walks: its webhook's, its tenant's, or every delivery's. */
  private setOf(q: NormalizedDeliveryQuery): string {
    const { prefix } = this.s;
    if (q.webhookId !== undefined) return `${prefix}:w:${q.webhookId}`;
    if (q.tenant !== undefined) return `${prefix}:t:${q.tenant}`;
    return `${prefix}:all`;
  }

  private async page(q: NormalizedDeliveryQuery, refs: true): Promise<DeliveryRefPage>;
  private async page(q: NormalizedDeliveryQuery, refs: false): Promise<DeliveryPage>;
  private async page(q: NormalizedDeliveryQuery, refs: boolean): Promise<DeliveryPage | DeliveryRefPage> {
    const reply = await this.s.client.eval(
      PAGE,
      1,
      this.setOf(q),
      this.s.prefix,
      finite(q.sinceMs),
      finite(q.untilMs),
      q.after ? scoreOf(q.after.ms) : '',
      q.after ? q.after.id : '',
      q.status ?? '',
      String(q.limit),
      q.tenant === undefined || q.webhookId === undefined ? '' : `=${q.tenant}`,
      String(MAX_SCANNED),
      refs ? '1' : '0',
    );
    if (!Array.isArray(reply)) return { items: [] };
    const step = refs ? 2 : 3;
    const items = [];
    for (let i = 3; i + step - 1 < reply.length; i += step) {
      const id = String(reply[i]);
      const item = refs ? toRef(id, reply[i + 1]) : toRecord(id, reply[i + 1], reply[i + 2]);
      if (item) items.push(item);
    }
    const page = { items } as DeliveryPage | DeliveryRefPage;
    if (Number(reply[0]) === 1 && reply[1] !== '')
      page.nextCursor = encodeDeliveryCursor(Number(reply[2]), String(reply[1]));
    return page;
  }
}

/**
 * A `DeliveryLog` in Redis, for BullMQ users: every worker and emitter reads the same history. A delivery is a hash
 * plus a list of its attempts (the request body stored once per delivery), both expiring `maxAgeMs` after the
 * latest attempt; each webhook has a sorted set of its deliveries by `createdAt`, trimmed to the newest
 * `perWebhook`, and so have each tenant and the whole log (for `search` and `findFailed`). Every call is one Lua
 * script, atomic; a read looks at `MAX_SCANNED` (10,000) set members at most.
 *
 * @example
 * const deliveryLog = redisDeliveryLog({ client: new Redis(process.env.REDIS_URL) });
 */
export function redisDeliveryLog(options: RedisDeliveryLogOptions): Required<DeliveryLog> {
  const log = new RedisLog(resolveSettings(options));
  return boundLogMethods(log);
}

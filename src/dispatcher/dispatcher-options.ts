import { OptionsError } from '../core/errors.js';
import { assertKnownKeys, numberOption } from '../core/option-checks.js';
import type {
  Logger,
  OnDelivery,
  Statement,
  StatementInput,
  Transport,
  WebhookStore,
} from '../core/types.js';
import { createHealthPolicy, type HealthOptions } from '../delivery/health.js';
import type { Instrumentation } from '../delivery/instrumentation.js';
import { type DeliveryQueue, memoryQueue } from '../delivery/queue.js';
import { createRetryPolicy, type RetryOptions, type RetryPolicy } from '../delivery/retry.js';
import { type EventCatalog, isEventCatalog } from '../events/event-catalog.js';
import type { DeliveryLog } from '../log/delivery-log.js';
import { memoryDeliveryLog } from '../log/delivery-log.js';
import { DEFAULT_STATEMENTS } from '../routing/policy/defaults.js';
import { memoryStore } from '../webhooks/memory-store.js';

/** Options of `createWebhookDispatcher()`. Every field is optional; unknown fields are refused. */
export interface WebhookDispatcherOptions {
  /** Where webhooks are kept. @default memoryStore() */
  store?: WebhookStore;
  /** How requests are sent. @default httpTransport({ allowPrivateNetworks, allowedHosts }) */
  transport?: Transport;
  /**
   * Where deliveries go between `emit` and sending: absent, they are delivered in this process; a durable queue
   * (`bullmqQueue()`, `pgBossQueue()`) persists them for workers.
   */
  queue?: DeliveryQueue;
  /**
   * Retries after a failed attempt: a count, or the full policy.
   * @default 1 (one retry, two attempts in all, after any failure: LaunchDarkly's rule)
   * @example retry: { retries: 3, delayMs: 500, retryOn: 'server-errors' }
   */
  retry?: number | RetryOptions;
  /** Time budget of one attempt in ms, connection to last body byte. @default 10_000 */
  timeoutMs?: number;
  /** Deliveries in flight at once, over all webhooks. @default 64 */
  concurrency?: number;
  /**
   * Deliveries in flight to one webhook at most (its lane). A receiver that hangs holds at most this many slots,
   * and never more than its fair share of `concurrency` while other webhooks have work. @default 8
   */
  perWebhookConcurrency?: number;
  /** Deliveries waiting (for a slot or a retry) at most; beyond it they fail with `QUEUE_FULL`. @default 100_000 */
  maxQueued?: number;
  /**
   * Bytes of payloads held by waiting deliveries at most (each emit's event JSON counted once, plus rendered
   * bodies); beyond it new deliveries fail with `QUEUE_FULL`. @default 67_108_864 (64 MiB)
   */
  maxQueuedBytes?: number;
  /**
   * Endpoint health: circuit breaking, auto-disable after sustained failure, switch-off on `410 Gone`. `false` turns
   * all three off. @default {} (the defaults of HealthOptions)
   */
  health?: HealthOptions | false;
  /** Allow webhook URLs on loopback, private, link-local and other non-public addresses. @default false */
  allowPrivateNetworks?: boolean;
  /** Hosts (exact names) and CIDR ranges allowed even though private, e.g. `['10.1.2.0/24', 'hooks.internal']`. */
  allowedHosts?: string[];
  /**
   * Policy of webhooks that set neither `statements` nor `events`, for events with resources (accesses); an event
   * without any reaches such webhooks whatever this says. @default DEFAULT_STATEMENTS
   */
  defaultStatements?: readonly StatementInput[];
  /**
   * Called once per final outcome (delivered, failed, skipped, queued). It is not awaited: what it throws or
   * rejects with is logged, never rethrown.
   */
  onDelivery?: OnDelivery;
  /** Silent by default. Console-style `(message, meta)` loggers. @example logger: console */
  logger?: Partial<Logger>;
  /** Where every attempt is recorded; `false` records nothing. @default memoryDeliveryLog() */
  deliveryLog?: DeliveryLog | false;
  /** A rendered body larger than this is not sent (failure `BODY_TOO_LARGE`). @default 1_048_576 */
  maxBodyBytes?: number;
  /**
   * After a webhook's secret is changed, the old one keeps signing for this long (Standard Webhooks scheme, whose
   * `webhook-signature` can carry several signatures), so receivers can switch secrets without a gap. 0 disables.
   * @default 86_400_000 (24 hours)
   */
  secretRotationMs?: number;
  /** Every call to the store must answer within this many ms, or it fails with `ERR_STORE_TIMEOUT`. @default 10_000 */
  storeTimeoutMs?: number;
  /**
   * For stores without `watch`: re-read every webhook this often, so changes made by other processes are
   * honoured. Absent: only `webhooks.refresh()` re-reads.
   */
  refreshIntervalMs?: number;
  /** Webhooks one tenant may have at most (`ERR_TENANT_LIMIT` beyond). Absent: no limit. */
  maxWebhooksPerTenant?: number;
  /**
   * Bytes of webhook index kept in memory, for stores with `listTenant` (Postgres, Redis, memory): only the tenants
   * emitted for recently stay indexed, least recently used dropped first, and a tenant beyond it is read again
   * (one `listTenant` call) on its next emit. Webhooks without a tenant always stay. Stores without `listTenant`
   * index every webhook whatever this is. @default 67_108_864 (64 MiB)
   */
  maxIndexBytes?: number;
  /**
   * The event types webhooks may subscribe to, e.g. `UNLEASH_EVENT_TYPES`: with a catalog, `events` entries (and
   * globs) that match no type, and template fields its schemas do not have, are refused at save with a
   * "did you mean"; `test()` sends a sample built from it.
   */
  eventTypes?: EventCatalog;
  /** Tracing and metrics hooks, e.g. `openTelemetry()` from `webhook-dispatcher/otel`. */
  instrumentation?: Instrumentation;
  /** The clock, in epoch ms (timestamps, auto-disable; waits run on the wall clock). @default Date.now */
  now?: () => number;
}

const RETRY_KEYS = [
  'retries',
  'delayMs',
  'maxDelayMs',
  'jitter',
  'retryOn',
  'respectRetryAfter',
  'maxRetryAfterMs',
  'schedule',
] as const;

const BIG = { max: Number.MAX_SAFE_INTEGER };
const SLOTS = { positive: true, integer: true, max: 100_000 };

/** How one option's value (absent or given) becomes the resolved one: its default and its check. */
type OptionTable = {
  [K in keyof WebhookDispatcherOptions]-?: (
    value: WebhookDispatcherOptions[K],
    options: WebhookDispatcherOptions,
  ) => unknown;
};

/**
 * Every option, once, with its default and its check: the known keys, `ResolvedOptions` and `resolveOptions`
 * derive from it, so adding an option is one entry here (and its documented field above). Options are resolved,
 * and refused, in this order.
 */
const OPTIONS = {
  store: (value) => value ?? memoryStore(),
  transport: (value) => value,
  queue: (value) => value ?? memoryQueue(),
  retry: retryOption,
  timeoutMs: (value) => numberOption('timeoutMs', value, 10_000, { positive: true }),
  concurrency: concurrencyOption,
  perWebhookConcurrency: (value, options) =>
    numberOption('perWebhookConcurrency', value, Math.min(8, concurrencyOption(options.concurrency)), SLOTS),
  maxQueued: (value) => numberOption('maxQueued', value, 100_000, { positive: true, integer: true, ...BIG }),
  maxQueuedBytes: (value) =>
    numberOption('maxQueuedBytes', value, 64 * 1024 * 1024, { positive: true, ...BIG }),
  health: (value) => createHealthPolicy(value),
  allowPrivateNetworks: (value) => value === true,
  allowedHosts: (value) => value,
  defaultStatements: defaultStatementsOption,
  onDelivery: (value) => functionOption('onDelivery', value),
  logger: (value) => value,
  deliveryLog: (value) => (value === false ? undefined : (value ?? memoryDeliveryLog())),
  maxBodyBytes: (value) => numberOption('maxBodyBytes', value, 1_048_576, { positive: true, ...BIG }),
  secretRotationMs: (value) => numberOption('secretRotationMs', value, 86_400_000, BIG),
  storeTimeoutMs: (value) => numberOption('storeTimeoutMs', value, 10_000, { positive: true }),
  refreshIntervalMs: (value) => optionalNumber('refreshIntervalMs', value, { positive: true }),
  maxWebhooksPerTenant: (value) =>
    optionalNumber('maxWebhooksPerTenant', value, { positive: true, integer: true, ...BIG }),
  maxIndexBytes: (value) =>
    numberOption('maxIndexBytes', value, 64 * 1024 * 1024, { positive: true, ...BIG }),
  instrumentation: (value) => value,
  eventTypes: eventCatalogOption,
  now: (value) => functionOption('now', value) ?? Date.now,
} satisfies OptionTable;

const OPTION_KEYS = Object.keys(OPTIONS) as (keyof WebhookDispatcherOptions)[];

/** Every option with its default filled in, validated once. */
export type ResolvedOptions = { [K in keyof typeof OPTIONS]: ReturnType<(typeof OPTIONS)[K]> };

function retryOption(value: number | RetryOptions | undefined): RetryPolicy {
  if (typeof value === 'object' && value !== null) assertKnownKeys(value, RETRY_KEYS, 'retry');
  return createRetryPolicy(value);
}

function concurrencyOption(value: number | undefined): number {
  return numberOption('concurrency', value, 64, SLOTS);
}

function optionalNumber(field: string, value: number | undefined, rule: Parameters<typeof numberOption>[3]) {
  return value === undefined ? undefined : numberOption(field, value, 0, rule);
}

function functionOption<T>(field: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new OptionsError(field, `Expected \`${field}\` to be a function, got ${typeof value}`);
  }
  return value;
}

function defaultStatementsOption(value: readonly StatementInput[] | undefined): Statement[] {
  if (value !== undefined && !Array.isArray(value)) {
    throw new OptionsError(
      'defaultStatements',
      'Expected `defaultStatements` to be an array of policy statements',
    );
  }
  return [...(value ?? DEFAULT_STATEMENTS)] as Statement[];
}

function eventCatalogOption(value: unknown): EventCatalog | undefined {
  if (value === undefined) return undefined;
  if (!isEventCatalog(value)) {
    throw new OptionsError(
      'eventTypes',
      'Expected `eventTypes` to be a catalog from defineEventCatalog() (e.g. UNLEASH_EVENT_TYPES)',
    );
  }
  return value;
}

/** The one defaults block: each option through its entry of `OPTIONS`, unknown keys refused first. */
export function resolveOptions(options: WebhookDispatcherOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError(
      'options',
      `Expected the options to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  assertKnownKeys(options, OPTION_KEYS, 'createWebhookDispatcher()');
  const resolve = (key: keyof WebhookDispatcherOptions) =>
    (OPTIONS[key] as (value: unknown, options: WebhookDispatcherOptions) => unknown)(options[key], options);
  return Object.fromEntries(OPTION_KEYS.map((key) => [key, resolve(key)])) as ResolvedOptions;
}

import { OptionsError } from '../core/errors.js';
import { assertKnownKeys, numberOption } from '../core/option-checks.js';
import type {
  DeliveryResult,
  Logger,
  OnDelivery,
  Statement,
  StatementInput,
  Transport,
  WebhookStore,
} from '../core/types.js';
import { createHealthPolicy, type HealthOptions, type HealthPolicy } from '../delivery/health.js';
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

const OPTION_KEYS = [
  'store',
  'transport',
  'queue',
  'retry',
  'timeoutMs',
  'concurrency',
  'perWebhookConcurrency',
  'maxQueued',
  'maxQueuedBytes',
  'health',
  'allowPrivateNetworks',
  'allowedHosts',
  'defaultStatements',
  'onDelivery',
  'logger',
  'deliveryLog',
  'maxBodyBytes',
  'secretRotationMs',
  'storeTimeoutMs',
  'refreshIntervalMs',
  'maxWebhooksPerTenant',
  'instrumentation',
  'eventTypes',
  'now',
] as const;

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

/** Every option with its default filled in, validated once. */
export interface ResolvedOptions {
  store: WebhookStore;
  transport: Transport | undefined;
  queue: DeliveryQueue;
  retry: RetryPolicy;
  timeoutMs: number;
  concurrency: number;
  perWebhookConcurrency: number;
  maxQueued: number;
  maxQueuedBytes: number;
  health: HealthPolicy | undefined;
  allowPrivateNetworks: boolean;
  allowedHosts: string[] | undefined;
  defaultStatements: Statement[];
  onDelivery: ((result: DeliveryResult) => void) | undefined;
  logger: Partial<Logger> | undefined;
  log: DeliveryLog | undefined;
  maxBodyBytes: number;
  secretRotationMs: number;
  storeTimeoutMs: number;
  refreshIntervalMs: number | undefined;
  maxWebhooksPerTenant: number | undefined;
  instrumentation: Instrumentation | undefined;
  eventTypes: EventCatalog | undefined;
  now: () => number;
}

const BIG = { max: Number.MAX_SAFE_INTEGER };

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

/** The one defaults block. */
export function resolveOptions(options: WebhookDispatcherOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError(
      'options',
      `Expected the options to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  assertKnownKeys(options, OPTION_KEYS, 'createWebhookDispatcher()');
  if (typeof options.retry === 'object' && options.retry !== null)
    assertKnownKeys(options.retry, RETRY_KEYS, 'retry');
  if (options.defaultStatements !== undefined && !Array.isArray(options.defaultStatements)) {
    throw new OptionsError(
      'defaultStatements',
      'Expected `defaultStatements` to be an array of policy statements',
    );
  }
  for (const name of ['onDelivery', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new OptionsError(name, `Expected \`${name}\` to be a function, got ${typeof options[name]}`);
    }
  }
  const concurrency = numberOption('concurrency', options.concurrency, 64, {
    positive: true,
    integer: true,
    max: 100_000,
  });
  return {
    store: options.store ?? memoryStore(),
    transport: options.transport,
    queue: options.queue ?? memoryQueue(),
    retry: createRetryPolicy(options.retry),
    timeoutMs: numberOption('timeoutMs', options.timeoutMs, 10_000, { positive: true }),
    concurrency,
    perWebhookConcurrency: numberOption(
      'perWebhookConcurrency',
      options.perWebhookConcurrency,
      Math.min(8, concurrency),
      {
        positive: true,
        integer: true,
        max: 100_000,
      },
    ),
    maxQueued: numberOption('maxQueued', options.maxQueued, 100_000, {
      positive: true,
      integer: true,
      ...BIG,
    }),
    maxQueuedBytes: numberOption('maxQueuedBytes', options.maxQueuedBytes, 64 * 1024 * 1024, {
      positive: true,
      ...BIG,
    }),
    health: createHealthPolicy(options.health),
    allowPrivateNetworks: options.allowPrivateNetworks === true,
    allowedHosts: options.allowedHosts,
    defaultStatements: [...(options.defaultStatements ?? DEFAULT_STATEMENTS)] as Statement[],
    onDelivery: options.onDelivery,
    logger: options.logger,
    log: options.deliveryLog === false ? undefined : (options.deliveryLog ?? memoryDeliveryLog()),
    maxBodyBytes: numberOption('maxBodyBytes', options.maxBodyBytes, 1_048_576, { positive: true, ...BIG }),
    secretRotationMs: numberOption('secretRotationMs', options.secretRotationMs, 86_400_000, BIG),
    storeTimeoutMs: numberOption('storeTimeoutMs', options.storeTimeoutMs, 10_000, { positive: true }),
    refreshIntervalMs:
      options.refreshIntervalMs === undefined
        ? undefined
        : numberOption('refreshIntervalMs', options.refreshIntervalMs, 0, { positive: true }),
    maxWebhooksPerTenant:
      options.maxWebhooksPerTenant === undefined
        ? undefined
        : numberOption('maxWebhooksPerTenant', options.maxWebhooksPerTenant, 0, {
            positive: true,
            integer: true,
            ...BIG,
          }),
    instrumentation: options.instrumentation,
    eventTypes: eventCatalogOption(options.eventTypes),
    now: options.now ?? Date.now,
  };
}

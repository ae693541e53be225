import { errorText, WebhookError, WebhookNotFoundError } from '../core/errors.js';
import type {
  DeliveryRequest,
  DeliveryResult,
  Webhook,
  WebhookEvent,
  WebhookInput,
  WebhookPatch,
} from '../core/types.js';
import type { EventCatalog } from '../events/event-catalog.js';
import type {
  DeliveryPage,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryStatsQuery,
  WebhookDeliveryStats,
} from '../log/delivery-log.js';
import type { Explanation } from '../routing/matching.js';
import type { IndexStats, ListOptions } from '../webhooks/webhook-registry.js';
import { composeDispatcher, type DispatcherParts } from './compose.js';
import { DeliveryReads } from './delivery-reads.js';
import type { DispatcherEventName, DispatcherListener } from './dispatcher-events.js';
import { resolveOptions, type WebhookDispatcherOptions } from './dispatcher-options.js';

export { deliveryIdFor } from '../delivery/delivery-id.js';
export type { WebhookDispatcherOptions } from './dispatcher-options.js';

/** A request as it would be sent, from `preview()`. */
export type PreviewRequest = DeliveryRequest;

/** Options of one `emit`. */
export interface EmitOptions {
  /** Only this tenant's webhooks get the event; without it, only webhooks without a tenant. */
  tenant?: string;
  /**
   * A database client inside `BEGIN` (e.g. a `pg` client): the deliveries are written in that transaction, so
   * they commit or roll back with the host's change. Only queues with `supportsTransactions` accept it.
   */
  transaction?: unknown;
}

export interface RedeliverOptions {
  /** Send even though the webhook is switched off. @default false */
  force?: boolean;
}

export interface RecoverOptions {
  /** Deliveries emitted at or after this time (Date or epoch ms). */
  since: Date | number;
  /** ...and before this time. @default now */
  until?: Date | number;
}

/**
 * What `deliveries.list(query)` takes: the deliveries of every webhook, newest first, filtered and paged like a
 * webhook's (`status`, `since`, `until`, `limit`, `cursor`).
 */
export interface DeliveryListQuery extends DeliveryQuery {
  /**
   * Only the deliveries of this tenant's webhooks; `null`: only those of webhooks without a tenant (read through the
   * log's tenant-less search and filtered, so a page may be short: follow `nextCursor`). An admin API passes the
   * request's own tenant, always. @default every tenant's
   */
  tenant?: string | null;
  /** Only this webhook's deliveries. */
  webhookId?: string;
}

/** What `deliveries.recover(query)` takes: a window, across webhooks, optionally one tenant's or one webhook's. */
export interface RecoverQuery extends RecoverOptions {
  /** Only the deliveries of this tenant's webhooks; `null`: of webhooks without a tenant. @default every tenant's */
  tenant?: string | null;
  /** Only this webhook's deliveries. */
  webhookId?: string;
}

export interface WebhookDispatcher {
  readonly webhooks: {
    /** Validates, saves and returns a webhook. Throws a `WebhookValidationError` naming the bad field. */
    create(input: WebhookInput): Promise<Webhook>;
    get(id: string): Promise<Webhook | undefined>;
    /**
     * Every webhook, oldest first (by `createdAt`, then `id`); `{ tenant }` only that tenant's (`null`: those without
     * one). One shape, no paging: the store is read whole either way, so a page would save nothing here; the admin
     * API's `GET /webhooks` pages over this list for its callers.
     */
    list(options?: ListOptions): Promise<Webhook[]>;
    /** Partial update, validated like create; `null` clears an optional field. `{ on: true }` clears `disabled`. */
    update(id: string, patch: WebhookPatch): Promise<Webhook>;
    /** Replaces the secret with a new random one (the old one keeps signing for `secretRotationMs`, Standard Webhooks). */
    rotateSecret(id: string): Promise<Webhook>;
    /** Resolves true when a webhook was deleted. */
    delete(id: string): Promise<boolean>;
    /** Re-reads every webhook from the store (after another process changed it). */
    refresh(): Promise<void>;
    /** What this process holds in memory now (see `maxIndexBytes`): read-only, for metrics and tests. */
    indexStats(): IndexStats;
  };
  readonly deliveries: {
    /**
     * Recorded deliveries across webhooks (of one tenant with `tenant`, of one webhook with `webhookId`), newest
     * first, filtered and paged: the log's `search`. A log without `search` is refused with `ERR_UNSUPPORTED`
     * (`{ webhookId }` alone falls back to its `list`); without a log (`deliveryLog: false`), an empty page.
     *
     * @example
     * const page = await dispatcher.deliveries.list({ status: 'failed', tenant: 'acme', since: Date.now() - 86_400_000 });
     */
    list(query?: DeliveryListQuery): Promise<DeliveryPage>;
    /** Recorded deliveries of one webhook, newest first, filtered and paged. */
    list(webhookId: string, query?: DeliveryQuery): Promise<DeliveryPage>;
    /** One delivery with all its attempts, newest first. */
    get(deliveryId: string): Promise<DeliveryRecord | undefined>;
    /**
     * Sends one logged delivery again: its body as it was first sent, to the webhook as it is now (current URL,
     * headers and secret, a fresh signature, the same `webhook-id`), recorded as a new attempt.
     */
    redeliver(deliveryId: string, options?: RedeliverOptions): Promise<DeliveryResult>;
    /**
     * Queues again every delivery of a webhook emitted in the window whose latest outcome is still a failure, and
     * resolves with how many at once: the re-sends go on through the webhook's lane, their outcomes recorded in
     * the delivery log (and reported to `onDelivery`) as usual.
     */
    recover(webhookId: string, options: RecoverOptions): Promise<number>;
    /**
     * Queues again every delivery still failed in the window across webhooks (of one tenant with `tenant`, of one
     * webhook with `webhookId`), through each webhook's lane, and resolves with how many. It pages through the
     * log's `findFailed` (1000 at a time, so a long window is never loaded at once; a log without it is refused
     * with `ERR_UNSUPPORTED`). Deliveries of a webhook deleted, switched off, or now of another tenant are skipped
     * and not counted, as are those whose body the log did not keep whole. What waits is bounded by `maxQueued`:
     * beyond it a re-send ends `QUEUE_FULL` and stays failed in the log, for a later `recover`.
     *
     * @example
     * const queued = await dispatcher.deliveries.recover({ since: Date.now() - 86_400_000, tenant: 'acme' });
     */
    recover(query: RecoverQuery): Promise<number>;
    /**
     * A webhook's delivery figures from the log's `webhookStats` (created at or after `since`; the newest 10,000
     * deliveries at most): counts by latest outcome, `successRate`, `p50Ms`/`p95Ms` latency of the latest attempt,
     * `lastDeliveredAt`/`lastFailedAt`. A log without `webhookStats` is refused with `ERR_UNSUPPORTED`.
     */
    stats(webhookId: string, query?: DeliveryStatsQuery): Promise<WebhookDeliveryStats>;
  };
  /** The event catalog in use (`eventTypes` option), if any. */
  readonly eventTypes: EventCatalog | undefined;
  /** Subscribes to health events; returns the unsubscribe function. */
  on<E extends DispatcherEventName>(name: E, listener: DispatcherListener<E>): () => void;
  /**
   * Delivers an event to every matching webhook; resolves with one result per matched webhook once each has its
   * final outcome. Rejects only for an invalid event or options, a closed dispatcher, or a store that cannot be
   * read; use `emitAndForget` where nothing awaits it.
   */
  emit(event: WebhookEvent, options?: EmitOptions): Promise<DeliveryResult[]>;
  /** `emit` for callers that do not wait: never rejects, never throws; what would have rejected is logged. */
  emitAndForget(event: WebhookEvent, options?: EmitOptions): void;
  /** Sends a realistic sample event that the webhook's filters accept, and returns its result. */
  test(id: string): Promise<DeliveryResult>;
  /**
   * The exact request (url, method, headers with signature, body) that `emit(event)` would send to a webhook: a
   * saved one by id, or an unsaved `WebhookInput` (validated like `create`, nothing saved: a form's live preview).
   * Without `event`, the sample `test()` would send.
   */
  preview(webhook: string | WebhookInput, event?: WebhookEvent): Promise<PreviewRequest>;
  /** Why this webhook would or would not get this event: each check `emit` makes, with its reason. */
  explain(id: string, event: WebhookEvent, options?: { tenant?: string }): Promise<Explanation>;
  /**
   * Stops accepting events (later calls reject with `ERR_DISPATCHER_CLOSED`) and resolves once every `emit` called
   * before it has its outcome (a durable queue: its jobs are queued) and the deliveries in flight are finished.
   * With `deadlineMs`, what is still running then ends with an `ABORTED` failure naming the deadline, an `emit`
   * still waiting for the store's first load rejects with `ERR_STORE_TIMEOUT`, and `close` returns at once (after
   * at most 2.5 s more for a durable queue's own close).
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
}

/**
 * Creates a dispatcher: webhooks CRUD, `emit` to the matching webhooks with signed, retried delivery through
 * per-webhook lanes.
 *
 * @example
 * const dispatcher = createWebhookDispatcher();
 * await dispatcher.webhooks.create({ url: 'https://example.com/hooks', secret: 'shh' });
 * const results = await dispatcher.emit(changeHistoryEntry);
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions = {}): WebhookDispatcher {
  return facade(composeDispatcher(resolveOptions(options)));
}

/** The public object: each method forwards to the collaborator that owns it (see `composeDispatcher`). */
function facade(parts: DispatcherParts): WebhookDispatcher {
  const { registry, connection, gate, emission, redelivery, logReader, logger } = parts;
  const reads = new DeliveryReads(logReader);
  return {
    webhooks: {
      create: (input) => connection.open('webhooks.create').then(() => registry.create(input)),
      get: async (id) => {
        const webhook = await registry.read(id);
        return webhook && structuredClone(webhook);
      },
      list: (listOptions) => registry.list(listOptions),
      update: (id, patch) => connection.open('webhooks.update').then(() => registry.update(id, patch)),
      rotateSecret: (id) => connection.open('webhooks.rotateSecret').then(() => rotateSecret(parts, id)),
      delete: (id) => registry.delete(id),
      refresh: () => registry.refresh(),
      indexStats: () => registry.stats,
    },
    deliveries: {
      list: (target?: string | DeliveryListQuery, query?: DeliveryQuery) => reads.list(target, query),
      get: (deliveryId) => logReader.read('get', (log) => log.get(deliveryId), undefined),
      // Like emits, a redelivery or recovery called before close() is finished before it returns.
      redeliver: (deliveryId, redeliverOptions) =>
        gate.accept('deliveries.redeliver', () => redelivery.redeliver(deliveryId, redeliverOptions)),
      recover: (target: string | RecoverQuery, recoverOptions?: RecoverOptions) =>
        gate.accept('deliveries.recover', () => redelivery.recover(target, recoverOptions)),
      stats: (webhookId, query) => reads.stats(webhookId, query),
    },
    eventTypes: parts.options.eventTypes,
    on: (name, listener) => parts.events.on(name, listener),
    emit: (event, emitOptions) => gate.accept('emit', () => emission.emit(event, emitOptions)),
    emitAndForget: (event, emitOptions) => {
      let pending: Promise<unknown>;
      try {
        pending = gate.accept('emit', () => emission.emit(event, emitOptions));
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(undefined, (error: unknown) =>
        logger.error('webhook-dispatcher: emitAndForget failed; the event was not delivered', {
          code: error instanceof WebhookError ? error.code : undefined,
          error: errorText(error),
        }),
      );
    },
    test: (id) => gate.accept('test', () => emission.test(id)),
    preview: (webhook, event) => emission.preview(webhook, event),
    explain: (id, event, explainOptions) => emission.explain(id, event, explainOptions?.tenant),
    close: (closeOptions = {}) => parts.shutdown.close(closeOptions.deadlineMs),
  };
}

async function rotateSecret({ registry }: DispatcherParts, id: string): Promise<Webhook> {
  const existing = await registry.read(id);
  if (!existing) throw new WebhookNotFoundError('webhooks.rotateSecret', id);
  // `secret: null, sign: true` generates a fresh secret for the webhook's scheme; rotation keeps the old one.
  return registry.update(id, { secret: null, sign: true });
}

import Mustache from 'mustache';
import { within } from '../core/deadline.js';
import {
  DispatcherClosedError,
  errorText,
  InvalidEventError,
  kindOf,
  WebhookError,
  WebhookNotFoundError,
} from '../core/errors.js';
import { toLogger } from '../core/logger.js';
import type {
  DeliveryRequest,
  DeliveryResult,
  Logger,
  Transport,
  Webhook,
  WebhookEvent,
  WebhookInput,
  WebhookPatch,
} from '../core/types.js';
import { watchStop } from '../core/watch-stop.js';
import { deliveryIdFor } from '../delivery/delivery-id.js';
import { DeliveryEngine } from '../delivery/engine.js';
import type { HealthTransition } from '../delivery/health.js';
import { type SafeInstrumentation, safeInstrumentation } from '../delivery/instrumentation.js';
import type { DeliveryJob } from '../delivery/queue.js';
import { buildRequest, renderBody } from '../delivery/request.js';
import { SharedCircuits } from '../delivery/shared-circuits.js';
import { SharedRateLimit } from '../delivery/shared-rate-limit.js';
import {
  type EventCatalog,
  sampleEventFrom,
  validateEventTypes,
  validateTemplateFields,
} from '../events/event-catalog.js';
import { sampleEventFor } from '../events/sample-event.js';
import type { DeliveryLog, DeliveryPage, DeliveryQuery, DeliveryRecord } from '../log/delivery-log.js';
import { accessesOf, assertEvent, eventIdOf, serializeEvent } from '../routing/event.js';
import { type Explanation, explainMatch, selectWebhooks } from '../routing/matching.js';
import { withDispatcherPolicy } from '../transport/address-policy.js';
import { dispatcherHttpTransport } from '../transport/http.js';
import { createAddressPolicy } from '../transport/ssrf.js';
import { type CompiledWebhook, compileDefaultPolicy, validateTenant } from '../webhooks/webhook.js';
import {
  type IndexStats,
  type ListOptions,
  type WebhookPage,
  WebhookRegistry,
} from '../webhooks/webhook-registry.js';
import { DispatcherEmitter, type DispatcherEventName, type DispatcherListener } from './dispatcher-events.js';
import { type ResolvedOptions, resolveOptions, type WebhookDispatcherOptions } from './dispatcher-options.js';

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

export interface WebhookDispatcher {
  readonly webhooks: {
    /** Validates, saves and returns a webhook. Throws a `WebhookValidationError` naming the bad field. */
    create(input: WebhookInput): Promise<Webhook>;
    get(id: string): Promise<Webhook | undefined>;
    /** Webhooks oldest first; `{ tenant }` only that tenant's (`null`: those without one), `{ limit, cursor }` one page. */
    list(options?: ListOptions): Promise<Webhook[]>;
    /** One page of webhooks with the cursor of the next. @default limit 50 */
    page(options?: ListOptions): Promise<WebhookPage>;
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
  return new Dispatcher(resolveOptions(options)).facade();
}

/** The parts, wired: registry (which webhooks), matching (which of them an event reaches), engine (delivery). */
class Dispatcher {
  private readonly logger: Logger;
  private readonly events: DispatcherEmitter;
  private readonly instrumentation: SafeInstrumentation;
  private readonly registry: WebhookRegistry;
  private readonly engine: DeliveryEngine;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** The `emit`, `test`, `redeliver` and `recover` calls made before `close()` and not yet settled: it finishes them first. */
  private readonly accepted = new Set<Promise<unknown>>();
  /** Rejects when `close()`'s deadline passes: what still waits for the store's first load gives up then. */
  private readonly deadlinePassed: Promise<never>;
  private passDeadline!: (error: WebhookError) => void;
  private stopWatching: (() => unknown) | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Circuits shared through the store, when it keeps them (`store.circuits`) and health is on. */
  private readonly circuits: SharedCircuits | undefined;

  constructor(private readonly o: ResolvedOptions) {
    this.deadlinePassed = new Promise<never>((_resolve, reject) => {
      this.passDeadline = reject;
    });
    this.deadlinePassed.catch(() => {});
    this.logger = toLogger(o.logger);
    const onError = (message: string, meta: Record<string, unknown>) => this.logger.error(message, meta);
    this.events = new DispatcherEmitter(onError);
    this.instrumentation = safeInstrumentation(o.instrumentation, (error, hook) =>
      this.logger.error(`webhook-dispatcher: instrumentation.${hook} failed`, { error: errorText(error) }),
    );
    const policy = { allowPrivateNetworks: o.allowPrivateNetworks, allowedHosts: o.allowedHosts };
    const addressPolicy = createAddressPolicy({
      allowPrivateNetworks: o.allowPrivateNetworks,
      allow: o.allowedHosts,
      source: 'createWebhookDispatcher()',
    });
    const sending =
      o.transport === undefined
        ? { transport: dispatcherHttpTransport(policy), owned: true }
        : withDispatcherPolicy(o.transport, policy);
    this.transport = sending.transport;
    this.ownsTransport = sending.owned;
    this.registry = new WebhookRegistry({
      store: o.store,
      addressPolicy,
      defaultPolicy: compileDefaultPolicy(o.defaultStatements),
      secretRotationMs: o.secretRotationMs,
      storeTimeoutMs: o.storeTimeoutMs,
      maxWebhooksPerTenant: o.maxWebhooksPerTenant,
      maxIndexBytes: o.maxIndexBytes,
      now: o.now,
      checkSave: o.eventTypes
        ? (webhook) => checkAgainstCatalog(webhook, o.eventTypes as EventCatalog)
        : undefined,
      onRemoved: (id) => this.engine.flush(id),
      onError,
    });
    this.engine = new DeliveryEngine({
      transport: this.transport,
      retry: o.retry,
      timeoutMs: o.timeoutMs,
      maxBodyBytes: o.maxBodyBytes,
      concurrency: o.concurrency,
      perWebhookConcurrency: o.perWebhookConcurrency,
      maxQueued: o.maxQueued,
      maxQueuedBytes: o.maxQueuedBytes,
      health: o.health,
      rates: sharedRateLimit(o, onError),
      log: o.deliveryLog,
      instrumentation: this.instrumentation,
      now: o.now,
      lookup: o.queue.readsStoreAtSendTime
        ? (id) => {
            // A worker that never emits follows the store too, so that it can trust its watched index.
            if (!this.registry.ready && o.store.watch !== undefined) this.open('deliver').catch(() => {});
            // Until the circuits other processes opened are known, a delivery could not be held by them.
            const circuits = this.circuits;
            if (circuits !== undefined && !circuits.listed) {
              return circuits.firstListing.then(() => this.registry.lookupAtSendTime(id));
            }
            return this.registry.lookupAtSendTime(id);
          }
        : (id) => this.registry.lookupQueued(id),
      onHealth: (id, change) => this.healthChanged(id, change),
      onCircuit: (id, circuit) => this.circuits?.save(id, circuit),
      onError,
    });
    const engine = this.engine;
    const circuitStore = o.store.circuits;
    if (o.health !== undefined && typeof circuitStore === 'object' && circuitStore !== null) {
      this.circuits = new SharedCircuits({
        circuits: circuitStore,
        adopt: (id, circuit) => engine.adoptCircuit(id, circuit),
        intervalMs: o.refreshIntervalMs ?? 5_000,
        timeoutMs: o.storeTimeoutMs,
        onError,
      });
      // A worker reads its webhooks from the store at send time and never "opens": it follows circuits at once.
      if (o.queue.readsStoreAtSendTime) this.followCircuits();
    }
    o.queue.start(
      (job) => engine.deliver(job),
      (result) => this.report(result),
      {
        deliver: (job) => engine.deliver(job),
        attempt: (job, options) => engine.attempt(job, options),
      },
    );
  }

  facade(): WebhookDispatcher {
    const registry = this.registry;
    return {
      webhooks: {
        create: (input) => this.open('webhooks.create').then(() => registry.create(input)),
        get: async (id) => {
          const webhook = await registry.read(id);
          return webhook && structuredClone(webhook);
        },
        list: async (listOptions) => (await registry.page(listOptions, Number.MAX_SAFE_INTEGER)).items,
        page: (listOptions) => registry.page(listOptions),
        update: (id, patch) => this.open('webhooks.update').then(() => registry.update(id, patch)),
        rotateSecret: (id) => this.open('webhooks.rotateSecret').then(() => this.rotateSecret(id)),
        delete: (id) => registry.delete(id),
        refresh: () => registry.refresh(),
        indexStats: () => registry.stats,
      },
      deliveries: {
        list: (webhookId, query) => this.readLog('list', (log) => log.list(webhookId, query), { items: [] }),
        get: (deliveryId) => this.readLog('get', (log) => log.get(deliveryId), undefined),
        // Like emits, a redelivery or recovery called before close() is finished before it returns.
        redeliver: (deliveryId, redeliverOptions) =>
          this.accept('deliveries.redeliver', () => this.redeliver(deliveryId, redeliverOptions)),
        recover: (webhookId, recoverOptions) =>
          this.accept('deliveries.recover', () => this.recover(webhookId, recoverOptions)),
      },
      eventTypes: this.o.eventTypes,
      on: (name, listener) => this.events.on(name, listener),
      emit: (event, emitOptions) => this.accept('emit', () => this.emit(event, emitOptions)),
      emitAndForget: (event, emitOptions) => {
        let pending: Promise<unknown>;
        try {
          pending = this.accept('emit', () => this.emit(event, emitOptions));
        } catch (error) {
          pending = Promise.reject(error);
        }
        pending.then(undefined, (error: unknown) =>
          this.logger.error('webhook-dispatcher: emitAndForget failed; the event was not delivered', {
            code: error instanceof WebhookError ? error.code : undefined,
            error: errorText(error),
          }),
        );
      },
      test: (id) => this.accept('test', () => this.test(id)),
      preview: (webhook, event) => this.preview(webhook, event),
      explain: (id, event, explainOptions) => this.explain(id, event, explainOptions?.tenant),
      close: (closeOptions = {}) => {
        this.closing ??= this.shutdown(closeOptions.deadlineMs);
        return this.closing;
      },
    };
  }

  /**
   * Rejects once closed; loads the store on first use and starts following its changes. A call `close()` waits for
   * (`accepted`) is not refused by a close that comes while the store loads.
   */
  private async open(method: string, accepted = false): Promise<void> {
    if (this.closed && !accepted) throw new DispatcherClosedError(method);
    if (!this.registry.ready) {
      await Promise.race([this.registry.ensureLoaded(), this.deadlinePassed]);
      this.follow();
    }
    if (this.closed && !accepted) throw new DispatcherClosedError(method);
  }

  /**
   * An `emit`, `test`, `redeliver` or `recover` called before `close()`: it gets its real outcome, and `close()`
   * waits for it (it reaches the queue before the queue closes). One called after rejects with
   * `ERR_DISPATCHER_CLOSED`.
   */
  private accept<T>(method: string, run: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DispatcherClosedError(method));
    const work = run();
    this.accepted.add(work);
    const forget = () => this.accepted.delete(work);
    work.then(forget, forget);
    return work;
  }

  private circuitsFollowed = false;

  private followCircuits(): void {
    if (this.circuits === undefined || this.circuitsFollowed || this.closed) return;
    this.circuitsFollowed = true;
    this.circuits.start();
  }

  /** Changes made by other processes: the store's `watch` if it has one, else `refreshIntervalMs`. */
  private follow(): void {
    this.followCircuits();
    if (this.stopWatching !== undefined || this.refreshTimer !== undefined || this.closed) return;
    const store = this.o.store;
    const logFailure = (error: unknown) =>
      this.logger.error('webhook-dispatcher: could not apply a change from the store', {
        error: errorText(error),
      });
    if (typeof store.watch === 'function') {
      try {
        const returned = store.watch(
          (id) => {
            if (!this.closed) this.registry.invalidate(id).catch(logFailure);
          },
          (live) => this.registry.watchStatus(live),
        );
        this.stopWatching = watchStop(returned, (error) =>
          this.logger.error(
            'webhook-dispatcher: store.watch() failed; changes made elsewhere are not followed',
            {
              error: errorText(error),
            },
          ),
        );
      } catch (error) {
        logFailure(error);
      }
      if (this.stopWatching !== undefined) return;
    }
    if (this.o.refreshIntervalMs !== undefined) {
      this.refreshTimer = setInterval(
        () => this.registry.refresh().catch(logFailure),
        this.o.refreshIntervalMs,
      );
      this.refreshTimer.unref();
    }
  }

  private async emit(event: WebhookEvent, emitOptions: EmitOptions = {}): Promise<DeliveryResult[]> {
    assertEvent(event, 'emit');
    assertEventId(event);
    const tenant = emitTenant(emitOptions);
    if (emitOptions.transaction !== undefined && !this.o.queue.supportsTransactions) {
      throw new WebhookError(
        'ERR_TRANSACTION_UNSUPPORTED',
        'emit: `transaction` needs a queue that writes inside the host transaction (pgBossQueue); this queue cannot',
      );
    }
    await this.open('emit', true);
    if (!this.registry.tenantReady(tenant)) await this.registry.loadTenant(tenant as string);
    const type = typeof event.type === 'string' ? event.type : undefined;
    const accesses = accessesOf(event);
    const matched = selectWebhooks(this.registry.candidates(tenant, type, accesses), type, accesses);
    if (matched.length === 0) {
      this.logger.debug('webhook-dispatcher: the event reached no webhook', {
        eventType: type,
        tenant,
        accesses: accesses.length,
        hint: 'dispatcher.explain(webhookId, event) tells why a webhook does not match',
      });
      return [];
    }
    const eventId = eventIdOf(event);
    const eventBody = serializeEvent(event, 'emit');
    const emitContext = this.instrumentation.onEmit({
      eventId,
      eventType: type,
      tenant,
      webhooks: matched.length,
    });
    const jobs = matched.map((compiled): DeliveryJob => {
      const job: DeliveryJob = {
        deliveryId: deliveryIdFor(eventId, compiled.webhook.id),
        webhookId: compiled.webhook.id,
        eventId,
        event,
        eventBody,
      };
      if (tenant !== undefined) job.tenant = tenant;
      if (type !== undefined) job.eventType = type;
      if (emitContext !== undefined) job.emitContext = emitContext;
      return job;
    });
    const queue = this.o.queue;
    const enqueueOptions =
      emitOptions.transaction === undefined ? undefined : { transaction: emitOptions.transaction };
    if (queue.enqueueMany !== undefined && jobs.length > 1) return queue.enqueueMany(jobs, enqueueOptions);
    return Promise.all(jobs.map((job) => queue.enqueue(job, enqueueOptions)));
  }

  private async test(id: string): Promise<DeliveryResult> {
    await this.open('test', true);
    await this.registry.warm(id);
    const compiled = this.compiled('test', id);
    const event = this.sampleFor(compiled);
    const eventId = eventIdOf(event);
    const job: DeliveryJob = {
      deliveryId: deliveryIdFor(eventId, id),
      webhookId: id,
      eventId,
      event,
      eventBody: serializeEvent(event, 'test'),
      test: true,
    };
    if (compiled.webhook.tenant !== undefined) job.tenant = compiled.webhook.tenant;
    if (typeof event.type === 'string') job.eventType = event.type;
    job.emitContext = this.instrumentation.onEmit({
      eventId,
      eventType: job.eventType,
      tenant: job.tenant,
      webhooks: 1,
    });
    return this.o.queue.enqueue(job);
  }

  /**
   * The sample `test()` sends: from the catalog when there is one (a type the webhook subscribes to, shaped like the
   * catalog's events), unless the webhook's policy would refuse it; else one built from its own filters.
   */
  private sampleFor(compiled: CompiledWebhook): WebhookEvent {
    const now = this.o.now();
    const catalog = this.o.eventTypes;
    if (catalog !== undefined && catalog.names.length > 0) {
      const events = compiled.webhook.events;
      const types =
        events.length === 0 ? catalog.names : [...new Set(events.flatMap((entry) => catalog.select(entry)))];
      const policy = compiled.policy;
      // The first subscribed type whose sample the webhook's policy lets through (the default policy wants a
      // production flag change), among the first 200.
      for (const type of types.slice(0, 200)) {
        const event = sampleEventFrom(catalog, type, { now });
        if (policy === undefined || accessesOf(event).some((access) => policy.allows(access))) return event;
      }
    }
    return sampleEventFor(compiled, now);
  }

  private async preview(webhook: string | WebhookInput, given?: WebhookEvent): Promise<PreviewRequest> {
    if (given !== undefined) assertEvent(given, 'preview');
    await this.registry.ensureLoaded();
    if (typeof webhook === 'string') await this.registry.warm(webhook);
    const compiled =
      typeof webhook === 'string' ? this.compiled('preview', webhook) : this.registry.compileUnsaved(webhook);
    const event = given ?? this.sampleFor(compiled);
    const eventBody = serializeEvent(event, 'preview');
    const body = renderBody(compiled, { event, eventBody }, this.o.maxBodyBytes);
    const deliveryId = deliveryIdFor(eventIdOf(event), compiled.webhook.id);
    return buildRequest(compiled, deliveryId, body, Math.floor(this.o.now() / 1000));
  }

  private async explain(id: string, event: WebhookEvent, tenant: string | undefined): Promise<Explanation> {
    assertEvent(event, 'explain');
    if (tenant !== undefined) validateTenant(tenant);
    await this.open('explain');
    await this.registry.warm(id);
    const compiled = this.compiled('explain', id);
    return explainMatch(compiled, event, tenant, this.engine.health(id), this.o.defaultStatements);
  }

  private async rotateSecret(id: string): Promise<Webhook> {
    const existing = await this.registry.read(id);
    if (!existing) throw new WebhookNotFoundError('webhooks.rotateSecret', id);
    // `secret: null, sign: true` generates a fresh secret for the webhook's scheme; rotation keeps the old one.
    return this.registry.update(id, { secret: null, sign: true });
  }

  private async redeliver(
    deliveryId: string,
    redeliverOptions: { force?: boolean } = {},
  ): Promise<DeliveryResult> {
    await this.open('deliveries.redeliver', true);
    const record = await this.readLog('get', (log) => log.get(deliveryId), undefined);
    if (record === undefined) {
      throw new WebhookError(
        'ERR_DELIVERY_NOT_FOUND',
        `deliveries.redeliver: no delivery "${deliveryId}" in the delivery log`,
      );
    }
    await this.registry.warm(record.webhookId);
    return this.resend(this.redeliveryJob('deliveries.redeliver', record, redeliverOptions.force === true));
  }

  /**
   * Queues again, through the webhook's lane, every delivery of the window whose latest outcome is still a
   * failure, oldest first, and answers how many: the re-sends go on (their outcomes are logged and reported as
   * usual), so a receiver that is still down cannot hold the call. A delivery the log kept no complete body of is
   * left out.
   */
  private async recover(webhookId: string, window: RecoverOptions): Promise<number> {
    await this.open('deliveries.recover', true);
    if (window === null || typeof window !== 'object' || window.since === undefined) {
      throw new WebhookError('ERR_INVALID_OPTIONS', 'deliveries.recover: expected `{ since, until? }`');
    }
    await this.registry.warm(webhookId);
    const compiled = this.compiled('deliveries.recover', webhookId);
    if (!compiled.webhook.on) throw webhookDisabled('deliveries.recover', webhookId);
    const records = await this.failedRecords(webhookId, window);
    let queued = 0;
    for (const record of records.reverse()) {
      if (sentBody(record) === undefined) continue;
      this.resend(this.redeliveryJob('deliveries.recover', record, false)).catch((error: unknown) =>
        this.logger.error('webhook-dispatcher: a recovered delivery failed', { error: errorText(error) }),
      );
      queued++;
    }
    return queued;
  }

  /** The failed deliveries of one webhook in a window, newest first, each page read under the deadline. */
  private async failedRecords(webhookId: string, window: RecoverOptions): Promise<DeliveryRecord[]> {
    const records: DeliveryRecord[] = [];
    let cursor: string | undefined;
    do {
      const query = {
        status: 'failed' as const,
        since: window.since,
        until: window.until,
        limit: 1000,
        cursor,
      };
      const page = await this.readLog('list', (log) => log.list(webhookId, query), { items: [] });
      records.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return records;
  }

  /** The job sending a logged delivery again: its body as first sent, to the webhook as it is now. */
  private redeliveryJob(method: string, record: DeliveryRecord, force: boolean): DeliveryJob {
    const compiled = this.registry.get(record.webhookId);
    if (compiled === undefined) throw new WebhookNotFoundError(method, record.webhookId);
    if (!compiled.webhook.on && !force) throw webhookDisabled(method, record.webhookId);
    const body = sentBody(record);
    if (body === undefined) {
      throw new WebhookError(
        'ERR_DELIVERY_NOT_FOUND',
        `${method}: the delivery log has no complete body for "${record.deliveryId}"; it cannot be sent again`,
      );
    }
    const made = Math.max(...record.attempts.map((attempt) => attempt.attempt));
    const job: DeliveryJob = {
      deliveryId: record.deliveryId,
      webhookId: record.webhookId,
      eventId: record.eventId,
      event: {},
      eventBody: body,
      body,
      attempt: made,
      retryBase: made,
      redelivery: true,
    };
    if (compiled.webhook.tenant !== undefined) job.tenant = compiled.webhook.tenant;
    if (record.eventType !== undefined) job.eventType = record.eventType;
    if (force) job.force = true;
    // A redelivery is traced under the operator's request that asked for it.
    job.emitContext = this.instrumentation.onEmit({
      eventId: job.eventId,
      eventType: job.eventType,
      tenant: job.tenant,
      webhooks: 1,
    });
    return job;
  }

  private async resend(job: DeliveryJob): Promise<DeliveryResult> {
    const result = await this.engine.deliver(job);
    this.report(result);
    return result;
  }

  /**
   * A read of the delivery log under the store's deadline (`storeTimeoutMs`): a log that does not answer (a
   * black-holed database) ends the call with `ERR_STORE_TIMEOUT` instead of holding it.
   */
  private readLog<T>(method: string, read: (log: DeliveryLog) => Promise<T>, absent: T): Promise<T> {
    const log = this.o.deliveryLog;
    if (log === undefined) return Promise.resolve(absent);
    const ms = this.o.storeTimeoutMs;
    const timeout = () =>
      new WebhookError('ERR_STORE_TIMEOUT', `delivery log: ${method}() did not answer within ${ms} ms`);
    return within(() => read(log), ms, timeout);
  }

  private compiled(method: string, id: string): CompiledWebhook {
    const compiled = this.registry.get(id);
    if (!compiled) throw new WebhookNotFoundError(method, id);
    return compiled;
  }

  private healthChanged(webhookId: string, change: HealthTransition): void {
    const at = new Date(this.o.now()).toISOString();
    const current = this.registry.get(webhookId)?.webhook;
    if (change.kind === 'failing' || change.kind === 'recovered') {
      if (current === undefined) return;
      const reason = change.kind === 'failing' ? change.reason : 'a probe succeeded';
      this.logger.warn(`webhook-dispatcher: webhook ${change.kind}`, { webhookId, reason });
      this.events.emit(`webhook.${change.kind}`, {
        webhook: structuredClone(current) as Webhook,
        reason,
        at,
      });
      return;
    }
    // A switched-off webhook needs no shared circuit; switched on again, it starts with a closed one.
    this.circuits?.save(webhookId, undefined);
    this.registry.disable(webhookId, { at, reason: change.reason, detail: change.detail }).then(
      (webhook) => {
        if (webhook === undefined) return;
        this.logger.warn('webhook-dispatcher: webhook switched off', {
          webhookId,
          reason: change.reason,
          detail: change.detail,
        });
        this.events.emit('webhook.disabled', { webhook, reason: change.reason, at });
      },
      (error: unknown) =>
        this.logger.error('webhook-dispatcher: could not switch off a webhook', {
          webhookId,
          error: errorText(error),
        }),
    );
  }

  private report(result: DeliveryResult): void {
    // Flat fields, so structured loggers (pino) index them: webhookId, code, status.
    const fields = {
      webhookId: result.webhookId,
      deliveryId: result.deliveryId,
      eventId: result.eventId,
      tenant: result.tenant,
      outcome: result.outcome,
      attempts: result.attempts,
      status: result.status,
      code: result.error?.code,
      error: result.error?.message,
      reason: result.reason,
      durationMs: result.durationMs,
    };
    if (result.ok || result.outcome === 'queued') this.logger.debug(`webhook ${result.outcome}`, fields);
    else this.logger.warn(`webhook delivery ${result.outcome}`, fields);
    this.instrumentation.onResult(result);
    if (this.o.onDelivery) this.engine.hook('onDelivery', () => this.o.onDelivery?.(result));
  }

  /**
   * Finishes what was accepted, then closes the queue and waits for the engine. With a deadline, what is still
   * running when it passes ends `ABORTED` (an emit still waiting for the store's first load rejects), and close
   * returns at most `CLOSE_GRACE_MS` later whatever the store, the log, the transport or the queue does.
   */
  private async shutdown(deadlineMs: number | undefined): Promise<void> {
    this.closed = true;
    this.stopFollowing();
    const endsAt = deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
    const finished = this.finishAccepted(endsAt).catch((error: unknown) =>
      this.logger.error('webhook-dispatcher: close() failed', { error: errorText(error) }),
    );
    if (deadlineMs === undefined) {
      await finished;
      if (this.ownsTransport) await this.transport.close?.();
      return;
    }
    if (!(await settlesWithin(finished, deadlineMs))) {
      const reason = `dispatcher closed: deadline of ${deadlineMs} ms reached`;
      this.passDeadline(
        new WebhookError(
          'ERR_STORE_TIMEOUT',
          `the webhook store had not answered when the ${reason}; not sent`,
        ),
      );
      this.engine.abortAll(reason);
      if (!(await settlesWithin(finished, CLOSE_GRACE_MS))) {
        this.logger.error('webhook-dispatcher: close() returned with the queue still closing', {
          deadlineMs,
        });
      }
    }
    if (this.ownsTransport) {
      await settlesWithin(
        (this.transport.destroy ?? this.transport.close)?.call(this.transport),
        CLOSE_GRACE_MS,
      );
    }
  }

  /**
   * Every `emit`/`test` called before `close()` first reaches the queue (in process: its outcome), or the deadline
   * passes; then the queue closes.
   */
  private async finishAccepted(endsAt: number | undefined): Promise<void> {
    await Promise.race([Promise.allSettled(this.accepted), this.deadlinePassed.catch(() => {})]);
    const left = endsAt === undefined ? undefined : { deadlineMs: Math.max(0, endsAt - Date.now()) };
    await this.o.queue.close(left);
    await this.engine.drained();
  }

  private stopFollowing(): void {
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    const stop = this.stopWatching;
    this.stopWatching = undefined;
    if (stop !== undefined) this.engine.hook('store.watch() stop', stop);
    void this.circuits?.stop();
  }
}

/** The longest a delivery waits for the shared rate limiter's answer before this process counts on its own. */
const MAX_RATE_WAIT_MS = 2_000;

/** The store's shared `rateLimit` counter, when it has one; without it each process limits rates on its own. */
function sharedRateLimit(
  o: ResolvedOptions,
  onError: (message: string, meta: Record<string, unknown>) => void,
): SharedRateLimit | undefined {
  const limits = o.store.rateLimits;
  if (typeof limits?.take !== 'function') return undefined;
  return new SharedRateLimit({ limits, timeoutMs: Math.min(o.storeTimeoutMs, MAX_RATE_WAIT_MS), onError });
}

/**
 * What `close()` waits at most after its deadline for the queue's own close (a durable queue ends its connections
 * by force within `deadlineMs` + 2 s) and for the transport it created. In process, everything ends at the deadline.
 */
const CLOSE_GRACE_MS = 2_500;

/** True when `work` settles within `ms`. */
function settlesWithin(work: unknown, ms: number): Promise<boolean> {
  return within(() => work, ms, 'deadline').then(
    () => true,
    () => false,
  );
}

/** With a catalog: `events` must name its types, and template fields must be fields of their schemas. */
function checkAgainstCatalog(webhook: Webhook, catalog: EventCatalog): void {
  validateEventTypes(webhook.events, catalog);
  if (webhook.bodyTemplate !== undefined) {
    let tokens: unknown[] | undefined;
    try {
      tokens = Mustache.parse(webhook.bodyTemplate);
    } catch {
      // The template compiler reports a template that does not parse, with its position.
    }
    if (tokens !== undefined) validateTemplateFields(tokens, webhook.events, catalog);
  }
}

/** The body a logged delivery was first sent with, when the log kept all of it. */
function sentBody(record: DeliveryRecord): string | undefined {
  const sent = record.attempts.find(
    (attempt) => typeof attempt.request?.body === 'string' && !attempt.request.bodyTruncated,
  );
  return sent?.request.body as string | undefined;
}

function webhookDisabled(method: string, webhookId: string): WebhookError {
  return new WebhookError(
    'ERR_WEBHOOK_DISABLED',
    `${method}: webhook "${webhookId}" is switched off; pass { force: true } to send anyway`,
  );
}

/** An id that is not a string or a number would collapse into `[object Object]`: every event one delivery id. */
function assertEventId(event: WebhookEvent): void {
  for (const field of ['id', '_id'] as const) {
    const id = event[field];
    if (
      id === undefined ||
      id === null ||
      typeof id === 'string' ||
      (typeof id === 'number' && Number.isFinite(id))
    )
      continue;
    throw new InvalidEventError(
      `emit: expected \`event.${field}\` to be a string or a finite number, got ${kindOf(id)}`,
    );
  }
}

function emitTenant(options: EmitOptions): string | undefined {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidEventError(`emit: expected the options to be an object, got ${kindOf(options)}`);
  }
  return options.tenant === undefined ? undefined : validateTenant(options.tenant, 'tenant');
}

import { hash, randomBytes } from 'node:crypto';
import { buildRequest, createDeliverer, renderBody } from './deliver.js';
import { type DeliveryAttempt, type DeliveryLog, memoryDeliveryLog } from './delivery-log.js';
import { DispatcherClosedError, OptionsError, WebhookNotFoundError } from './errors.js';
import { accessesOf, assertEvent, eventIdOf, serializeEvent } from './event.js';
import { memoryStore } from './memory-store.js';
import { numberOption } from './options.js';
import { DEFAULT_STATEMENTS } from './policy/defaults.js';
import { type DeliveryJob, type DeliveryQueue, memoryQueue } from './queue.js';
import { WebhookIndex } from './registry.js';
import { createRetryPolicy, type RetryOptions } from './retry.js';
import { sampleEventFor } from './sample-event.js';
import { createAddressPolicy } from './ssrf.js';
import { httpTransport } from './transport/http.js';
import type {
  DeliveryRequest,
  DeliveryResult,
  Logger,
  PolicyAccess,
  Statement,
  Transport,
  Webhook,
  WebhookEvent,
  WebhookInput,
  WebhookPatch,
  WebhookStore,
} from './types.js';
import {
  buildWebhook,
  type CompileContext,
  type CompiledWebhook,
  compilePolicy,
  compileWebhook,
} from './webhook.js';

/** Options of `createWebhookDispatcher()`. Every field is optional. */
export interface WebhookDispatcherOptions {
  /** Where webhooks are kept. @default memoryStore() */
  store?: WebhookStore;
  /** How requests are sent. @default httpTransport({ allowPrivateNetworks, allowedHosts }) */
  transport?: Transport;
  /**
   * Where deliveries wait for a free slot. @default memoryQueue({ concurrency, maxQueued })
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
  /** Deliveries in flight at once (for the default queue). @default 64 */
  concurrency?: number;
  /** Deliveries waiting at most (for the default queue); beyond it they fail with `QUEUE_FULL`. @default 100_000 */
  maxQueued?: number;
  /** Allow webhook URLs on loopback, private, link-local and other non-public addresses. @default false */
  allowPrivateNetworks?: boolean;
  /** Hosts (exact names) and CIDR ranges allowed even though private, e.g. `['10.1.2.0/24', 'hooks.internal']`. */
  allowedHosts?: string[];
  /** Policy of webhooks that set neither `statements` nor `events`. @default DEFAULT_STATEMENTS */
  defaultStatements?: Statement[];
  /** Called once per final outcome (delivered, failed, skipped). Errors it throws are logged, not rethrown. */
  onDelivery?: (result: DeliveryResult) => void;
  /** Silent by default. @example logger: console */
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
  /** The clock, in epoch ms (for tests). @default Date.now */
  now?: () => number;
}

/** A request as it would be sent, from `preview()`. */
export type PreviewRequest = DeliveryRequest;

export interface WebhookDispatcher {
  readonly webhooks: {
    /** Validates, saves and returns a webhook. Throws a `WebhookValidationError` naming the bad field. */
    create(input: WebhookInput): Promise<Webhook>;
    get(id: string): Promise<Webhook | undefined>;
    list(): Promise<Webhook[]>;
    /** Partial update, validated like create; `null` clears an optional field. */
    update(id: string, patch: WebhookPatch): Promise<Webhook>;
    /** Resolves true when a webhook was deleted. */
    delete(id: string): Promise<boolean>;
    /** Re-reads every webhook from the store (after another process changed it). */
    refresh(): Promise<void>;
  };
  readonly deliveries: {
    /** Recorded attempts of one webhook, newest first. */
    list(webhookId: string, options?: { limit?: number }): Promise<DeliveryAttempt[]>;
  };
  /** Delivers an event to every matching webhook; resolves with one result per matched webhook. */
  emit(event: WebhookEvent): Promise<DeliveryResult[]>;
  /** Sends a realistic sample event that the webhook's filters accept, and returns its result. */
  test(id: string): Promise<DeliveryResult>;
  /** The exact request (url, method, headers with signature, body) that `emit(event)` would send to a webhook. */
  preview(id: string, event: WebhookEvent): Promise<PreviewRequest>;
  /**
   * Stops accepting events and resolves when the deliveries in flight are finished. With `deadlineMs`, what is
   * still running then ends with an `ABORTED` failure.
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
}

const noop = () => {};
const inArray = <T>(value: T): T[] => [value];

const PLAIN_WEBHOOK_ID = /^[A-Za-z0-9-]{1,64}$/;
const PLAIN_EVENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The deterministic `webhook-id` of a delivery: the same event sent to the same webhook keeps its id, so
 * receivers (and the BullMQ queue) can de-duplicate. Plain ids read as they are, `msg_<webhookId>_<eventId>`
 * (the webhook id has no `_`, so the pair is recoverable); anything else, which may not be header-safe, is
 * hashed into `msg_h.<24 base64url characters>` (the `.` keeps the two forms apart).
 */
export function deliveryIdFor(eventId: string, webhookId: string): string {
  if (PLAIN_WEBHOOK_ID.test(webhookId) && PLAIN_EVENT_ID.test(eventId)) return `msg_${webhookId}_${eventId}`;
  // One-shot `hash` (no Hash object).
  return `msg_h.${hash('sha256', `${eventId}\n${webhookId}`, 'base64url').slice(0, 24)}`;
}

/**
 * Creates a dispatcher: webhooks CRUD, `emit` to the matching webhooks with signed, retried delivery.
 *
 * @example
 * const dispatcher = createWebhookDispatcher();
 * await dispatcher.webhooks.create({ url: 'https://example.com/hooks', secret: 'shh' });
 * const results = await dispatcher.emit(changeHistoryEntry);
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions = {}): WebhookDispatcher {
  const store = options.store ?? memoryStore();
  const timeoutMs = numberOption('timeoutMs', options.timeoutMs, 10_000, { positive: true });
  const maxBodyBytes = numberOption('maxBodyBytes', options.maxBodyBytes, 1_048_576, {
    positive: true,
    max: Number.MAX_SAFE_INTEGER,
  });
  const now = options.now ?? Date.now;
  const secretRotationMs = numberOption('secretRotationMs', options.secretRotationMs, 86_400_000, {
    max: Number.MAX_SAFE_INTEGER,
  });
  const logger: Logger = {
    debug: options.logger?.debug?.bind(options.logger) ?? noop,
    info: options.logger?.info?.bind(options.logger) ?? noop,
    warn: options.logger?.warn?.bind(options.logger) ?? noop,
    error: options.logger?.error?.bind(options.logger) ?? noop,
  };
  const addressPolicy = createAddressPolicy({
    allowPrivateNetworks: options.allowPrivateNetworks,
    allow: options.allowedHosts,
  });
  const transport =
    options.transport ??
    httpTransport({ allowPrivateNetworks: options.allowPrivateNetworks, allowedHosts: options.allowedHosts });
  const ownsTransport = options.transport === undefined;
  const queue =
    options.queue ?? memoryQueue({ concurrency: options.concurrency, maxQueued: options.maxQueued });
  const log = options.deliveryLog === false ? undefined : (options.deliveryLog ?? memoryDeliveryLog());
  if (options.defaultStatements !== undefined && !Array.isArray(options.defaultStatements)) {
    throw new OptionsError(
      'defaultStatements',
      'Expected `defaultStatements` to be an array of policy statements',
    );
  }
  const compileContext: CompileContext = {
    defaultPolicy: compilePolicy([...(options.defaultStatements ?? DEFAULT_STATEMENTS)], 'defaultStatements'),
    addressPolicy,
    policies: new Map(),
  };
  const retry = createRetryPolicy(options.retry);

  const index = new WebhookIndex();
  // Webhooks with the same statements share one compiled policy, evaluated once per emit: its decision is kept
  // with the number of the emit that made it, in an entry made once per policy (not a map filled per emit).
  const policyMemos = new WeakMap<object, { stamp: number; allowed: boolean }>();
  let emitStamp = 0;
  let seq = 0;
  let loaded: Promise<void> | undefined;
  let closed = false;

  const ensureLoaded = (): Promise<void> => {
    if (loaded === undefined) {
      loaded = reload();
      // A store that failed once (a database restarting) is asked again next time, not held against us forever.
      loaded.catch(() => {
        loaded = undefined;
      });
    }
    return loaded;
  };
  let ready = false;
  async function reload(): Promise<void> {
    const webhooks = await store.list();
    index.clear();
    for (const webhook of webhooks) {
      try {
        index.set(compileWebhook(webhook, seq++, compileContext));
      } catch (error) {
        invalidStored(webhook.id, error);
      }
    }
    ready = true;
  }

  /** A record written around the dispatcher may be invalid: it cannot match, and it is said so loudly. */
  function invalidStored(webhookId: string, error: unknown): void {
    say('error', 'webhook-dispatcher: stored webhook is invalid and will not receive events', {
      webhookId,
      error: (error as Error).message,
    });
  }

  /** Send-time lookup of durable queues: the store is the truth, the index only caches compiled webhooks. */
  async function lookupInStore(id: string): Promise<CompiledWebhook | undefined> {
    const webhook = await store.get(id);
    const cached = index.get(id);
    if (!webhook) {
      index.delete(id);
      return undefined;
    }
    if (cached && JSON.stringify(cached.webhook) === JSON.stringify(webhook)) return cached;
    try {
      const compiled = compileWebhook(webhook, cached?.seq ?? seq++, compileContext);
      index.set(compiled);
      return compiled;
    } catch (error) {
      invalidStored(id, error);
      return undefined;
    }
  }

  const deliverer = createDeliverer({
    transport,
    retry,
    timeoutMs,
    maxBodyBytes,
    log,
    now,
    lookup: queue.readsStoreAtSendTime ? lookupInStore : (id) => index.get(id),
    onLogError: (error) => say('error', 'webhook-dispatcher: delivery log failed', { error: String(error) }),
  });
  // The queue reports every final outcome, including those it decides itself (QUEUE_FULL, ABORTED after close).
  queue.start(deliverer.deliver, report);

  /** A logger that throws must not turn a delivered outcome into a failed one. */
  function say(level: keyof Logger, message: string, meta: Record<string, unknown>): void {
    try {
      logger[level](message, meta);
    } catch {
      // Nothing sensible is left to tell it to.
    }
  }

  function report(outcome: DeliveryResult): void {
    if (options.logger) {
      if (outcome.ok) say('debug', 'webhook delivered', { ...outcome });
      else say('warn', 'webhook delivery failed', { ...outcome });
    }
    if (!options.onDelivery) return;
    try {
      options.onDelivery(outcome);
    } catch (error) {
      say('error', 'webhook-dispatcher: onDelivery threw', { error: String(error) });
    }
  }

  let closing: Promise<void> | undefined;
  async function shutdown(deadlineMs: number | undefined): Promise<void> {
    closed = true;
    const drained = queue.close();
    let timer: NodeJS.Timeout | undefined;
    const deadline =
      deadlineMs === undefined
        ? undefined
        : new Promise<'deadline'>((resolve) => {
            timer = setTimeout(() => resolve('deadline'), deadlineMs);
          });
    const first = await (deadline ? Promise.race([drained, deadline]) : drained);
    clearTimeout(timer);
    if (first === 'deadline') {
      deliverer.abortAll(`dispatcher closed: deadline of ${deadlineMs} ms reached`);
      await drained;
      if (ownsTransport) await (transport.destroy ?? transport.close)?.call(transport);
    } else if (ownsTransport) {
      await transport.close?.();
    }
  }

  const assertOpen = (method: string) => {
    if (closed) throw new DispatcherClosedError(method);
  };

  async function compiledOrThrow(method: string, id: string): Promise<CompiledWebhook> {
    await ensureLoaded();
    const compiled = index.get(id);
    if (!compiled) throw new WebhookNotFoundError(method, id);
    return compiled;
  }

  function matches(
    compiled: CompiledWebhook,
    type: string | undefined,
    accesses: readonly PolicyAccess[],
    stamp: number,
  ): boolean {
    if (!compiled.webhook.on || !compiled.types.matches(type)) return false;
    const policy = compiled.policy;
    if (!policy) return true;
    let memo = policyMemos.get(policy);
    if (memo === undefined) {
      memo = { stamp: 0, allowed: false };
      policyMemos.set(policy, memo);
    } else if (memo.stamp === stamp) {
      return memo.allowed;
    }
    let allowed = false;
    for (const access of accesses) {
      if (policy.allows(access)) {
        allowed = true;
        break;
      }
    }
    memo.stamp = stamp;
    memo.allowed = allowed;
    return allowed;
  }

  function dispatch(event: WebhookEvent): Promise<DeliveryResult[]> {
    const type = typeof event.type === 'string' ? event.type : undefined;
    const accesses = accessesOf(event);
    const candidates = index.candidates(type, accesses);
    const stamp = ++emitStamp;
    let eventId: string | undefined;
    let eventBody: string | undefined;
    const deliveries: Promise<DeliveryResult>[] = [];
    for (const compiled of candidates) {
      if (!matches(compiled, type, accesses, stamp)) continue;
      eventId ??= eventIdOf(event);
      eventBody ??= serializeEvent(event, 'emit');
      const webhookId = compiled.webhook.id;
      const job: DeliveryJob = {
        deliveryId: deliveryIdFor(eventId, webhookId),
        webhookId,
        eventId,
        event,
        eventBody,
      };
      deliveries.push(queue.enqueue(job));
    }
    if (deliveries.length === 0) return Promise.resolve([]);
    return deliveries.length === 1
      ? (deliveries[0] as Promise<DeliveryResult>).then(inArray)
      : Promise.all(deliveries);
  }

  return {
    webhooks: {
      async create(input) {
        assertOpen('webhooks.create');
        await ensureLoaded();
        const webhook = buildWebhook(input, {
          id: randomBytes(12).toString('hex'),
          now: new Date(now()).toISOString(),
          addressPolicy,
        });
        const compiled = compileWebhook(webhook, seq++, compileContext);
        await store.create(webhook);
        index.set(compiled);
        return structuredClone(webhook);
      },
      get: (id) => store.get(id),
      list: () => store.list(),
      async update(id, patch) {
        assertOpen('webhooks.update');
        await ensureLoaded();
        const existing = await store.get(id);
        if (!existing) throw new WebhookNotFoundError('webhooks.update', id);
        const webhook = buildWebhook(patch, {
          id,
          now: new Date(now()).toISOString(),
          existing,
          addressPolicy,
          secretRotationMs,
        });
        const compiled = compileWebhook(webhook, index.get(id)?.seq ?? seq++, compileContext);
        await store.update(webhook);
        index.set(compiled);
        return structuredClone(webhook);
      },
      async delete(id) {
        await ensureLoaded();
        const deleted = await store.delete(id);
        index.delete(id);
        return deleted;
      },
      async refresh() {
        loaded = reload();
        await loaded;
      },
    },
    deliveries: {
      async list(webhookId, listOptions) {
        return log ? log.list(webhookId, listOptions) : [];
      },
    },
    emit(event) {
      try {
        assertOpen('emit');
        assertEvent(event, 'emit');
      } catch (error) {
        return Promise.reject(error);
      }
      if (ready) {
        try {
          return dispatch(event);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return ensureLoaded().then(() => {
        // close() may have been called while the store was being read.
        assertOpen('emit');
        return dispatch(event);
      });
    },
    async test(id) {
      assertOpen('test');
      const compiled = await compiledOrThrow('test', id);
      assertOpen('test');
      const event = sampleEventFor(compiled, now());
      const eventId = eventIdOf(event);
      return queue.enqueue({
        deliveryId: deliveryIdFor(eventId, id),
        webhookId: id,
        eventId,
        event,
        eventBody: serializeEvent(event, 'test'),
        test: true,
      });
    },
    async preview(id, event) {
      assertEvent(event, 'preview');
      const compiled = await compiledOrThrow('preview', id);
      const eventBody = serializeEvent(event, 'preview');
      const body = renderBody(compiled, { event, eventBody });
      return buildRequest(compiled, deliveryIdFor(eventIdOf(event), id), body, Math.floor(now() / 1000));
    },
    close(closeOptions = {}) {
      closing ??= shutdown(closeOptions.deadlineMs);
      return closing;
    },
  };
}

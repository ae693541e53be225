import { errorText } from '../core/errors.js';
import { toLogger } from '../core/logger.js';
import type { Logger, Transport } from '../core/types.js';
import { InProcessEngine } from '../delivery/engine.js';
import { HostHooks } from '../delivery/host-hooks.js';
import { safeInstrumentation } from '../delivery/instrumentation.js';
import { Scheduler } from '../delivery/scheduler.js';
import { SharedCircuits } from '../delivery/shared-circuits.js';
import { SharedRateLimit } from '../delivery/shared-rate-limit.js';
import { TimerQueue } from '../delivery/timers.js';
import type { EventCatalog } from '../events/event-catalog.js';
import { withDispatcherPolicy } from '../transport/address-policy.js';
import { dispatcherHttpTransport } from '../transport/http.js';
import { createAddressPolicy } from '../transport/ssrf.js';
import { compileDefaultPolicy } from '../webhooks/webhook.js';
import { WebhookRegistry } from '../webhooks/webhook-registry.js';
import { CloseGate } from './close-gate.js';
import { DispatcherEmitter } from './dispatcher-events.js';
import type { ResolvedOptions } from './dispatcher-options.js';
import { Emission } from './emission.js';
import { checkAgainstCatalog } from './event-checks.js';
import { LogReader, Redelivery } from './redelivery.js';
import { HealthReporter, ResultReporter } from './reporters.js';
import { Shutdown } from './shutdown.js';
import { StoreConnection } from './store-connection.js';
import { IndexSource, SendTimeSource } from './webhook-sources.js';

/** The dispatcher's collaborators, built once from its options; the facade only forwards to them. */
export interface DispatcherParts {
  options: ResolvedOptions;
  logger: Logger;
  events: DispatcherEmitter;
  gate: CloseGate;
  registry: WebhookRegistry;
  connection: StoreConnection;
  emission: Emission;
  redelivery: Redelivery;
  logReader: LogReader;
  shutdown: Shutdown;
}

/** The longest a delivery waits for the shared rate limiter's answer before this process counts on its own. */
const MAX_RATE_WAIT_MS = 2_000;

/**
 * Builds the stages and passes each its collaborators: the registry (which webhooks), the scheduler and engine
 * (delivery), the reporters (health, outcomes), the store connection, and the emission and redelivery services.
 */
export function composeDispatcher(o: ResolvedOptions): DispatcherParts {
  const logger = toLogger(o.logger);
  const hooks = new HostHooks(logger);
  const events = new DispatcherEmitter(logger);
  const instrumentation = safeInstrumentation(o.instrumentation, (error, hook) =>
    logger.error(`webhook-dispatcher: instrumentation.${hook} failed`, { error: errorText(error) }),
  );
  const gate = new CloseGate();
  const timers = new TimerQueue();
  const scheduler = new Scheduler({
    concurrency: o.concurrency,
    perWebhookConcurrency: o.perWebhookConcurrency,
    health: o.health,
    timers,
    rates: sharedRateLimit(o, logger),
  });
  const registry = webhookRegistry(o, scheduler, logger);
  const circuits = sharedCircuits(o, scheduler, logger);
  const connection = new StoreConnection({
    registry,
    store: o.store,
    circuits,
    refreshIntervalMs: o.refreshIntervalMs,
    gate,
    hooks,
    logger,
  });
  const { transport, owned } = sendingTransport(o);
  const engine = new InProcessEngine({
    transport,
    retry: o.retry,
    timeoutMs: o.timeoutMs,
    maxBodyBytes: o.maxBodyBytes,
    maxQueued: o.maxQueued,
    maxQueuedBytes: o.maxQueuedBytes,
    health: o.health,
    scheduler,
    timers,
    log: o.deliveryLog,
    instrumentation,
    now: o.now,
    webhooks: o.queue.readsStoreAtSendTime
      ? new SendTimeSource(registry, o.store, connection, circuits)
      : new IndexSource(registry),
    healthListener: new HealthReporter(registry, circuits, events, logger, o.now),
    hooks,
    logger,
  });
  // A worker reads its webhooks from the store at send time and never "opens": it follows circuits at once.
  if (o.queue.readsStoreAtSendTime) connection.followCircuits();
  const reporter = new ResultReporter(logger, instrumentation, hooks, o.onDelivery);
  o.queue.start(
    (job) => engine.deliver(job),
    (result) => reporter.report(result),
    { deliver: (job) => engine.deliver(job), attempt: (job, options) => engine.attempt(job, options) },
  );
  const logReader = new LogReader(o.deliveryLog, o.storeTimeoutMs);
  return {
    options: o,
    logger,
    events,
    gate,
    registry,
    connection,
    emission: new Emission(o, { registry, connection, instrumentation, scheduler, logger }),
    redelivery: new Redelivery({
      registry,
      connection,
      logReader,
      engine,
      reporter,
      instrumentation,
      logger,
    }),
    logReader,
    shutdown: new Shutdown({
      gate,
      connection,
      queue: o.queue,
      engine,
      transport,
      ownsTransport: owned,
      logger,
    }),
  };
}

function webhookRegistry(o: ResolvedOptions, scheduler: Scheduler, logger: Logger): WebhookRegistry {
  const catalog = o.eventTypes;
  return new WebhookRegistry({
    store: o.store,
    addressPolicy: createAddressPolicy({
      allowPrivateNetworks: o.allowPrivateNetworks,
      allow: o.allowedHosts,
      source: 'createWebhookDispatcher()',
    }),
    defaultPolicy: compileDefaultPolicy(o.defaultStatements),
    secretRotationMs: o.secretRotationMs,
    storeTimeoutMs: o.storeTimeoutMs,
    maxWebhooksPerTenant: o.maxWebhooksPerTenant,
    maxIndexBytes: o.maxIndexBytes,
    now: o.now,
    checkSave: catalog ? (webhook) => checkAgainstCatalog(webhook, catalog as EventCatalog) : undefined,
    // What waits in a removed (or switched-off) webhook's lane ends `skipped` now instead of at its turn.
    onRemoved: (id) => scheduler.flushWebhook(id),
    onError: (message, meta) => logger.error(message, meta),
  });
}

/** The transport the dispatcher sends with: its own `httpTransport`, or the given one under the address policy. */
function sendingTransport(o: ResolvedOptions): { transport: Transport; owned: boolean } {
  const policy = { allowPrivateNetworks: o.allowPrivateNetworks, allowedHosts: o.allowedHosts };
  return o.transport === undefined
    ? { transport: dispatcherHttpTransport(policy), owned: true }
    : withDispatcherPolicy(o.transport, policy);
}

/** The store's shared `rateLimit` counter, when it has one; without it each process limits rates on its own. */
function sharedRateLimit(o: ResolvedOptions, logger: Logger): SharedRateLimit | undefined {
  const limits = o.store.rateLimits;
  if (typeof limits?.take !== 'function') return undefined;
  return new SharedRateLimit({ limits, timeoutMs: Math.min(o.storeTimeoutMs, MAX_RATE_WAIT_MS), logger });
}

/** Circuits shared through the store, when it keeps them (`store.circuits`) and health is on. */
function sharedCircuits(
  o: ResolvedOptions,
  scheduler: Scheduler,
  logger: Logger,
): SharedCircuits | undefined {
  const circuitStore = o.store.circuits;
  if (o.health === undefined || typeof circuitStore !== 'object' || circuitStore === null) return undefined;
  return new SharedCircuits({
    circuits: circuitStore,
    lanes: scheduler,
    intervalMs: o.refreshIntervalMs ?? 5_000,
    timeoutMs: o.storeTimeoutMs,
    logger,
  });
}

import { WebhookError, WebhookNotFoundError } from '../core/errors.js';
import type { DeliveryResult, Logger, WebhookEvent, WebhookInput } from '../core/types.js';
import { deliveryIdFor } from '../delivery/delivery-id.js';
import type { SafeInstrumentation } from '../delivery/instrumentation.js';
import type { DeliveryJob } from '../delivery/queue.js';
import { previewRequest, renderBody } from '../delivery/request.js';
import type { Scheduler } from '../delivery/scheduler.js';
import { sampleEventFrom } from '../events/catalog-samples.js';
import { sampleEventFor } from '../events/sample-event.js';
import { accessesOf, assertEvent, eventIdOf, serializeEvent } from '../routing/event.js';
import { type Explanation, explainMatch, selectWebhooks } from '../routing/matching.js';
import { type CompiledWebhook, validateTenant } from '../webhooks/webhook.js';
import type { WebhookRegistry } from '../webhooks/webhook-registry.js';
import type { EmitOptions, PreviewRequest } from './dispatcher.js';
import type { ResolvedOptions } from './dispatcher-options.js';
import { assertEventId, emitTenant } from './event-checks.js';
import type { StoreConnection } from './store-connection.js';

/** What `emit`, `test`, `preview` and `explain` need besides the options. */
export interface EmissionParts {
  registry: WebhookRegistry;
  connection: StoreConnection;
  instrumentation: SafeInstrumentation;
  /** Knows each webhook's circuit, for `explain`. */
  scheduler: Scheduler;
  logger: Logger;
}

/** From an event to jobs on the queue: `emit` and `test`, and the dry runs `preview` and `explain`. */
export class Emission {
  constructor(
    private readonly o: ResolvedOptions,
    private readonly parts: EmissionParts,
  ) {}

  async emit(event: WebhookEvent, emitOptions: EmitOptions = {}): Promise<DeliveryResult[]> {
    assertEvent(event, 'emit');
    assertEventId(event);
    const tenant = emitTenant(emitOptions);
    const queue = this.o.queue;
    if (emitOptions.transaction !== undefined && !queue.supportsTransactions) {
      throw new WebhookError(
        'ERR_TRANSACTION_UNSUPPORTED',
        'emit: `transaction` needs a queue that writes inside the host transaction (pgBossQueue); this queue cannot',
      );
    }
    await this.parts.connection.open('emit', true);
    const registry = this.parts.registry;
    if (!registry.tenantReady(tenant)) await registry.loadTenant(tenant as string);
    const type = typeof event.type === 'string' ? event.type : undefined;
    const accesses = accessesOf(event);
    const matched = selectWebhooks(this.parts.registry.candidates(tenant, type, accesses), type, accesses);
    if (matched.length === 0) {
      this.parts.logger.debug('webhook-dispatcher: the event reached no webhook', {
        eventType: type,
        tenant,
        accesses: accesses.length,
        hint: 'dispatcher.explain(webhookId, event) tells why a webhook does not match',
      });
      return [];
    }
    const eventId = eventIdOf(event);
    const eventBody = serializeEvent(event, 'emit');
    const emitContext = this.parts.instrumentation.onEmit({
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
      if (compiled.webhook.ordering === 'fifo') job.ordered = true;
      return job;
    });
    const enqueueOptions =
      emitOptions.transaction === undefined ? undefined : { transaction: emitOptions.transaction };
    if (queue.enqueueMany !== undefined && jobs.length > 1) return queue.enqueueMany(jobs, enqueueOptions);
    // One job: one `then`, no `Promise.all` (measured with memoryQueue's count, see src/delivery/queue.ts).
    if (jobs.length === 1) return queue.enqueue(jobs[0] as DeliveryJob, enqueueOptions).then(inArray);
    return Promise.all(jobs.map((job) => queue.enqueue(job, enqueueOptions)));
  }

  async test(id: string): Promise<DeliveryResult> {
    await this.parts.connection.open('test', true);
    await this.parts.registry.warm(id);
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
    job.emitContext = this.parts.instrumentation.onEmit({
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

  async preview(webhook: string | WebhookInput, given?: WebhookEvent): Promise<PreviewRequest> {
    if (given !== undefined) assertEvent(given, 'preview');
    const registry = this.parts.registry;
    await registry.ensureLoaded();
    if (typeof webhook === 'string') await registry.warm(webhook);
    const compiled =
      typeof webhook === 'string' ? this.compiled('preview', webhook) : registry.compileUnsaved(webhook);
    const event = given ?? this.sampleFor(compiled);
    const eventBody = serializeEvent(event, 'preview');
    const body = renderBody(compiled, { event, eventBody }, this.o.maxBodyBytes);
    const deliveryId = deliveryIdFor(eventIdOf(event), compiled.webhook.id);
    return previewRequest(compiled, deliveryId, body, Math.floor(this.o.now() / 1000));
  }

  async explain(id: string, event: WebhookEvent, tenant: string | undefined): Promise<Explanation> {
    assertEvent(event, 'explain');
    if (tenant !== undefined) validateTenant(tenant);
    await this.parts.connection.open('explain');
    await this.parts.registry.warm(id);
    const compiled = this.compiled('explain', id);
    const health = this.parts.scheduler.health(id);
    return explainMatch(compiled, event, tenant, health, this.o.defaultStatements);
  }

  private compiled(method: string, id: string): CompiledWebhook {
    const compiled = this.parts.registry.get(id);
    if (!compiled) throw new WebhookNotFoundError(method, id);
    return compiled;
  }
}

/** One job's outcome as `emit` answers it (a `then` instead of `Promise.all` over one promise). */
function inArray(result: DeliveryResult): DeliveryResult[] {
  return [result];
}

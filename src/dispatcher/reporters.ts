import { errorText } from '../core/errors.js';
import type { DeliveryResult, Logger, OnDelivery, SharedCircuit, Webhook } from '../core/types.js';
import type { HealthListener } from '../delivery/engine.js';
import type { HealthTransition } from '../delivery/health.js';
import type { HostHooks } from '../delivery/host-hooks.js';
import type { SafeInstrumentation } from '../delivery/instrumentation.js';
import type { SharedCircuits } from '../delivery/shared-circuits.js';
import type { WebhookRegistry } from '../webhooks/webhook-registry.js';
import type { DispatcherEmitter } from './dispatcher-events.js';

/**
 * What the engine learns about a webhook's health, made visible: `dispatcher.on` events, warnings, a switch-off
 * written to the store, and circuits shared with the other processes.
 */
export class HealthReporter implements HealthListener {
  constructor(
    private readonly registry: WebhookRegistry,
    private readonly circuits: SharedCircuits | undefined,
    private readonly events: DispatcherEmitter,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  circuitChanged(webhookId: string, circuit: SharedCircuit | undefined): void {
    this.circuits?.save(webhookId, circuit);
  }

  healthChanged(webhookId: string, change: HealthTransition): void {
    const at = new Date(this.now()).toISOString();
    if (change.kind !== 'disable') {
      const current = this.registry.get(webhookId)?.webhook;
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
    const { reason, detail } = change;
    this.registry.disable(webhookId, { at, reason, detail }).then(
      (webhook) => {
        if (webhook === undefined) return;
        this.logger.warn('webhook-dispatcher: webhook switched off', { webhookId, reason, detail });
        this.events.emit('webhook.disabled', { webhook, reason, at });
      },
      (error: unknown) =>
        this.logger.error('webhook-dispatcher: could not switch off a webhook', {
          webhookId,
          error: errorText(error),
        }),
    );
  }
}

/** Takes every final outcome to the logger, the instrumentation and `onDelivery`. */
export class ResultReporter {
  constructor(
    private readonly logger: Logger,
    private readonly instrumentation: SafeInstrumentation,
    private readonly hooks: HostHooks,
    private readonly onDelivery: OnDelivery | undefined,
  ) {}

  report(result: DeliveryResult): void {
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
    const onDelivery = this.onDelivery;
    if (onDelivery) this.hooks.call('onDelivery', () => onDelivery(result));
  }
}

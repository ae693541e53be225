import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { WebhookStore } from '../core/types.js';
import type { WebhookSource } from '../delivery/engine.js';
import type { SharedCircuits } from '../delivery/shared-circuits.js';
import type { WebhookRegistry } from '../webhooks/webhook-registry.js';
import type { StoreConnection } from './store-connection.js';

/** In process: the engine trusts the in-memory index, which every change made here updates. */
export class IndexSource implements WebhookSource {
  constructor(private readonly registry: WebhookRegistry) {}

  lookup(webhookId: string): CompiledWebhook | undefined | Promise<CompiledWebhook | undefined> {
    // A tenant dropped from memory (`maxIndexBytes`) while its deliveries waited is read again.
    return this.registry.lookupQueued(webhookId);
  }
}

/**
 * A durable queue's worker: a job may have waited while another process changed its webhook, so the webhook is
 * read from the store at send time (unless a watched index is known to be current).
 */
export class SendTimeSource implements WebhookSource {
  constructor(
    private readonly registry: WebhookRegistry,
    private readonly store: WebhookStore,
    private readonly connection: StoreConnection,
    private readonly circuits: SharedCircuits | undefined,
  ) {}

  lookup(webhookId: string): Promise<CompiledWebhook | undefined> {
    // A worker that never emits follows the store too, so that it can trust its watched index.
    if (!this.registry.ready && this.store.watch !== undefined)
      this.connection.open('deliver').catch(() => {});
    // Until the circuits other processes opened are known, a delivery could not be held by them.
    const circuits = this.circuits;
    if (circuits !== undefined && !circuits.listed) {
      return circuits.firstListing.then(() => this.registry.lookupAtSendTime(webhookId));
    }
    return this.registry.lookupAtSendTime(webhookId);
  }
}

import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { ChangeQueue } from './change-queue.js';
import type { CheckedStore } from './checked-store.js';
import type { HeldWebhooks } from './held-webhooks.js';

/**
 * Reads tenants on demand, for stores with `listTenant`: one tenant's webhooks in one call, compiled and held, the
 * least recently used tenants dropped past `maxIndexBytes` (`HeldWebhooks.holdTenant`). Concurrent loads of one
 * tenant share the read; a failure (`ERR_STORE_*`) is not kept, so the next emit tries again.
 */
export class TenantLoader {
  /** The tenant reads under way, shared by concurrent emits. */
  private readonly loads = new Map<string, Promise<void>>();

  constructor(
    private readonly held: HeldWebhooks,
    private readonly store: CheckedStore,
    private readonly changes: ChangeQueue,
  ) {}

  /** Loads a tenant as one change of the index, in order with the others. */
  load(tenant: string): Promise<void> {
    const running = this.loads.get(tenant);
    if (running !== undefined) return running;
    const load = this.changes.run(() => this.fetch(tenant));
    this.loads.set(tenant, load);
    const done = () => this.loads.delete(tenant);
    load.then(done, done);
    return load;
  }

  /** One tenant's webhooks, read and held (inside a change that is already running). */
  async fetch(tenant: string): Promise<void> {
    if (this.held.holdsTenant(tenant)) return;
    const next: CompiledWebhook[] = [];
    for (const webhook of await this.store.ofTenant(tenant)) {
      // A store answering another tenant's webhook for this one must not put it in this tenant's index.
      if (webhook.tenant !== tenant) continue;
      const compiled = this.held.tryCompile(webhook);
      if (compiled) next.push(compiled);
    }
    this.held.holdTenant(tenant, next);
  }
}

import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { PolicyAccess, Webhook } from '../core/types.js';
import { SharedValues } from '../routing/shared-values.js';
import { indexBytes, TenantLru } from '../routing/tenant-lru.js';
import { WebhookIndex } from '../routing/webhook-index.js';
import { type CompileContext, compileWebhook } from './compile.js';
import { type IndexStats, tenantLimitError } from './registry-parts.js';

const NO_TENANT = '';

/**
 * The compiled webhooks the registry holds in memory: one index per tenant, the compiled parts they share and, for
 * stores with `listTenant`, which tenants are held (least recently used first, bounded by bytes). It reads no store
 * and orders nothing: `WebhookRegistry` decides what goes in and out, one change at a time. It compiles what it
 * holds, so that a webhook keeps its `seq` (its place in match order) across updates and shares the parts it can.
 */
export class HeldWebhooks {
  private readonly indexes = new Map<string, WebhookIndex>();
  private readonly byId = new Map<string, CompiledWebhook>();
  /** Compiled parts (policies, filters, templates, headers) shared by webhooks that have the same ones. */
  readonly shared = new SharedValues();
  /** The tenants indexed when tenants are read on demand (the rest are read on their next emit); else undefined. */
  private readonly tenants: TenantLru | undefined;
  private readonly context: CompileContext;
  private seq = 0;

  /**
   * `maxIndexBytes` undefined: every webhook is held (the store has no `listTenant`). `invalid` hears of each stored
   * record that does not compile (`tryCompile`).
   */
  constructor(
    maxIndexBytes: number | undefined,
    context: Omit<CompileContext, 'shared'>,
    private readonly invalid: (webhookId: string, error: string) => void,
  ) {
    if (maxIndexBytes !== undefined) this.tenants = new TenantLru(maxIndexBytes);
    const shared = this.shared;
    this.context = { ...context, shared: (key, make) => shared.get(key, make) };
  }

  /** Validates and compiles a webhook (not held by this: `put` does that), keeping the `seq` of its held copy. */
  compile(webhook: Webhook): CompiledWebhook {
    return compileWebhook(webhook, this.byId.get(webhook.id)?.seq ?? this.seq++, this.context);
  }

  /** Compiles a record read from the store; one that does not compile is reported and left out. */
  tryCompile(webhook: Webhook): CompiledWebhook | undefined {
    try {
      return this.compile(webhook);
    } catch (error) {
      this.invalid(webhook.id, (error as Error).message);
      return undefined;
    }
  }

  /** Compiles a webhook that is not saved (a preview), outside match order. */
  compileUnsaved(webhook: Webhook): CompiledWebhook {
    return compileWebhook(webhook, -1, this.context);
  }

  /** Whether tenants are read on demand (held by use, bounded by bytes) rather than all kept. */
  get onDemand(): boolean {
    return this.tenants !== undefined;
  }

  get stats(): IndexStats {
    const tenants = this.tenants;
    return {
      webhooks: this.byId.size,
      tenants: tenants?.count ?? this.indexes.size - (this.indexes.has(NO_TENANT) ? 1 : 0),
      bytes: tenants?.bytes ?? 0,
      onDemand: tenants !== undefined,
    };
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): CompiledWebhook | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Whether this tenant's webhooks are held (always true when every webhook is). */
  holdsTenant(tenant: string): boolean {
    return this.tenants === undefined || this.tenants.has(tenant);
  }

  /** Like `holdsTenant`, and marks the tenant as just used. */
  touchTenant(tenant: string): boolean {
    const tenants = this.tenants;
    if (tenants === undefined) return true;
    if (!tenants.has(tenant)) return false;
    tenants.touch(tenant);
    return true;
  }

  /** How many webhooks of this tenant are held. */
  countOf(tenant: string): number {
    return this.indexes.get(tenant)?.size ?? 0;
  }

  /** Throws `ERR_TENANT_LIMIT` when this tenant already has `max` webhooks held. */
  checkTenantLimit(tenant: string | undefined, max: number | undefined): void {
    if (tenant === undefined || max === undefined) return;
    const count = this.countOf(tenant);
    if (count >= max) throw tenantLimitError(tenant, count);
  }

  /** The webhooks of one tenant (or of none) that could match an event of `type` with these accesses. */
  candidates(
    tenant: string | undefined,
    type: string | undefined,
    accesses: readonly PolicyAccess[],
  ): CompiledWebhook[] {
    const index = this.indexes.get(tenant ?? NO_TENANT);
    return index === undefined ? [] : index.candidates(type, accesses);
  }

  /** A tenant just read: its webhooks held, and the least recently used tenants past the bound dropped. */
  holdTenant(tenant: string, webhooks: readonly CompiledWebhook[]): void {
    const tenants = this.tenants;
    if (tenants === undefined) return;
    tenants.add(tenant);
    for (const compiled of webhooks) this.put(compiled);
    for (const cold of tenants.overflow(tenant)) this.evict(cold);
  }

  /** Drops every held tenant's webhooks (each is read again on its next emit). */
  evictTenants(): void {
    if (this.tenants !== undefined) for (const tenant of [...this.tenants.keys()]) this.evict(tenant);
  }

  /** Drops a tenant's webhooks from memory (not a delete: nothing waiting for them is ended). */
  evict(tenant: string): void {
    this.tenants?.delete(tenant);
    const index = this.indexes.get(tenant);
    if (index === undefined) return;
    for (const compiled of index.all()) {
      this.unindex(compiled);
      this.byId.delete(compiled.webhook.id);
    }
    this.indexes.delete(tenant);
  }

  /** Indexes a compiled webhook, unless its tenant is read on demand and not held now. */
  put(compiled: CompiledWebhook): void {
    const id = compiled.webhook.id;
    const owner = compiled.webhook.tenant;
    const indexed = owner === undefined || this.holdsTenant(owner);
    // Held before the previous copy lets go, so parts both copies share are never dropped in between.
    if (indexed) for (const key of compiled.sharedKeys) this.shared.hold(key);
    const previous = this.byId.get(id);
    if (previous !== undefined) this.unindex(previous);
    if (!indexed) {
      this.byId.delete(id);
      return;
    }
    this.byId.set(id, compiled);
    const tenant = owner ?? NO_TENANT;
    let index = this.indexes.get(tenant);
    if (index === undefined) {
      index = new WebhookIndex();
      this.indexes.set(tenant, index);
    }
    index.set(compiled);
    if (owner !== undefined) this.tenants?.resize(owner, indexBytes(compiled.webhook));
  }

  /** Takes a webhook out; whether it was held. */
  remove(id: string): boolean {
    const compiled = this.byId.get(id);
    if (compiled === undefined) return false;
    this.unindex(compiled);
    this.byId.delete(id);
    return true;
  }

  private unindex(compiled: CompiledWebhook): void {
    const owner = compiled.webhook.tenant;
    const tenant = owner ?? NO_TENANT;
    const index = this.indexes.get(tenant);
    index?.delete(compiled);
    if (index !== undefined && index.size === 0) this.indexes.delete(tenant);
    for (const key of compiled.sharedKeys) this.shared.release(key);
    if (owner !== undefined) this.tenants?.resize(owner, -indexBytes(compiled.webhook));
  }
}

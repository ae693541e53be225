import { randomBytes } from 'node:crypto';
import { WebhookNotFoundError } from '../core/errors.js';
import type {
  PolicyAccess,
  Webhook,
  WebhookDisabled,
  WebhookInput,
  WebhookPatch,
  WebhookStore,
} from '../core/types.js';
import { SharedValues } from '../routing/shared-values.js';
import { indexBytes, TenantLru } from '../routing/tenant-lru.js';
import { WebhookIndex } from '../routing/webhook-index.js';
import type { AddressPolicy } from '../transport/ssrf.js';
import {
  byCreation,
  canonicalJson,
  type IndexStats,
  isRecord,
  type ListOptions,
  storeCall,
  storeFailed,
  tenantLimitError,
} from './registry-parts.js';
import {
  buildWebhook,
  type CompileContext,
  type CompiledPolicy,
  type CompiledWebhook,
  compileWebhook,
} from './webhook.js';

export interface RegistryOptions {
  store: WebhookStore;
  addressPolicy: AddressPolicy;
  defaultPolicy: CompiledPolicy;
  secretRotationMs: number;
  /** Every call to the store must answer within this, or it fails with `ERR_STORE_TIMEOUT`. */
  storeTimeoutMs: number;
  maxWebhooksPerTenant: number | undefined;
  /** Bytes of tenants' webhooks kept indexed, for stores with `listTenant`. @default 64 MiB */
  maxIndexBytes?: number;
  /** Checks a webhook being saved against the event catalog (throws a WebhookValidationError). Not run for records read from the store. */
  checkSave?: (webhook: Webhook) => void;
  now(): number;
  /** A webhook left the index or was switched off: the engine ends what waits for it. */
  onRemoved(id: string, deleted: boolean): void;
  onError(message: string, meta: Record<string, unknown>): void;
}

export type { IndexStats, ListOptions } from './registry-parts.js';
export { canonicalJson } from './registry-parts.js';

const NO_TENANT = '';

/**
 * The dispatcher's webhooks: the store is the truth, the registry keeps the compiled copies `emit` matches
 * against, one index per tenant.
 *
 * Every change to the index — a create, update, delete, switch-off by health, refresh, or a change announced by
 * the store's `watch` — runs one at a time, in order, so a refresh can never write back a copy that a concurrent
 * update or delete has already replaced. Store calls have a deadline (`storeTimeoutMs`), so a store that hangs
 * cannot hang the queue of changes behind it.
 */
export class WebhookRegistry {
  private readonly indexes = new Map<string, WebhookIndex>();
  private readonly byId = new Map<string, CompiledWebhook>();
  /** Compiled parts (policies, filters, templates, headers) shared by webhooks that have the same ones. */
  private readonly shared = new SharedValues();
  /**
   * For stores with `listTenant`: the tenants indexed (the rest are read on their next emit), and the reads under
   * way, shared by concurrent emits. Undefined: every webhook is indexed.
   */
  private readonly tenants: TenantLru | undefined;
  private readonly tenantLoads = new Map<string, Promise<void>>();
  private readonly context: CompileContext;
  private tail: Promise<unknown> = Promise.resolve();
  private loading: Promise<void> | undefined;
  private loaded = false;
  private seq = 0;
  /**
   * The store's watch, as `watchStatus` tells it: `live` once the index was reloaded after the watch was (re)placed
   * and while it stays in place, so every change made since (by any process) reaches `invalidate(id)`.
   */
  private watch: 'off' | 'syncing' | 'live' = 'off';
  private watchEpoch = 0;
  /** Index changes queued or running (`exclusive`): while any is, the index may be about to change. */
  private changing = 0;

  constructor(private readonly options: RegistryOptions) {
    const shared = this.shared;
    this.context = {
      defaultPolicy: options.defaultPolicy,
      addressPolicy: options.addressPolicy,
      shared: (key, make) => shared.get(key, make),
    };
    if (typeof options.store.listTenant === 'function') {
      this.tenants = new TenantLru(options.maxIndexBytes ?? 64 * 1024 * 1024);
    }
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

  /**
   * Whether `emit` can match for this tenant now: always, unless the store reads tenants on demand and this one is
   * not indexed (then `loadTenant` first). Marks the tenant as just used.
   */
  tenantReady(tenant: string | undefined): boolean {
    const tenants = this.tenants;
    if (tenants === undefined || tenant === undefined) return true;
    if (!tenants.has(tenant)) return false;
    tenants.touch(tenant);
    return true;
  }

  /**
   * Reads one tenant's webhooks (one `listTenant` call) and indexes them, dropping the least recently used tenants
   * past `maxIndexBytes`. Concurrent calls for one tenant share the read; a failure (`ERR_STORE_*`) is not kept.
   */
  loadTenant(tenant: string): Promise<void> {
    const running = this.tenantLoads.get(tenant);
    if (running !== undefined) return running;
    const load = this.exclusive(() => this.fetchTenant(tenant));
    this.tenantLoads.set(tenant, load);
    const done = () => this.tenantLoads.delete(tenant);
    load.then(done, done);
    return load;
  }

  /** Makes `get(id)` answer for a webhook of a tenant not indexed (explain, test, preview of a cold tenant). */
  async warm(id: string): Promise<void> {
    if (this.tenants === undefined || this.byId.has(id)) return;
    const webhook = await this.read(id);
    if (typeof webhook?.tenant === 'string') await this.loadTenant(webhook.tenant);
  }

  /**
   * The in-process queue's send-time lookup: the index, or, when tenants are read on demand, the store for a
   * webhook whose tenant was dropped from the index while its deliveries waited.
   */
  lookupQueued(id: string): CompiledWebhook | undefined | Promise<CompiledWebhook | undefined> {
    const indexed = this.byId.get(id);
    if (indexed !== undefined || this.tenants === undefined) return indexed;
    return this.lookupInStore(id);
  }

  get ready(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.byId.size;
  }

  /** The first read of the store, shared by every caller; a failure is not kept (the next call tries again). */
  ensureLoaded(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    if (this.loading === undefined) {
      const loading = this.exclusive(() => (this.loaded ? Promise.resolve() : this.reload()));
      this.loading = loading;
      loading.then(
        () => {
          this.loading = undefined;
        },
        () => {
          this.loading = undefined;
        },
      );
    }
    return this.loading;
  }

  get(id: string): CompiledWebhook | undefined {
    return this.byId.get(id);
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

  async create(input: WebhookInput): Promise<Webhook> {
    await this.ensureLoaded();
    return this.exclusive(async () => {
      const webhook = buildWebhook(input, {
        id: randomBytes(12).toString('hex'),
        now: new Date(this.options.now()).toISOString(),
        addressPolicy: this.options.addressPolicy,
      });
      const cappedByStore = this.cappedByStore(webhook.tenant);
      if (!cappedByStore && this.options.maxWebhooksPerTenant !== undefined && webhook.tenant !== undefined) {
        await this.fetchTenant(webhook.tenant);
      }
      if (!cappedByStore) this.checkTenantLimit(webhook.tenant);
      this.options.checkSave?.(webhook);
      const compiled = this.compile(webhook);
      if (cappedByStore) await this.createWithinTenantLimit(webhook);
      else await this.call('create', () => this.options.store.create(webhook));
      this.put(compiled);
      return structuredClone(webhook);
    });
  }

  async update(id: string, patch: WebhookPatch): Promise<Webhook> {
    await this.ensureLoaded();
    return this.exclusive(async () => {
      const existing = await this.read(id);
      if (!existing) throw new WebhookNotFoundError('webhooks.update', id);
      const webhook = buildWebhook(patch, {
        id,
        now: new Date(this.options.now()).toISOString(),
        existing,
        addressPolicy: this.options.addressPolicy,
        secretRotationMs: this.options.secretRotationMs,
      });
      this.options.checkSave?.(webhook);
      const compiled = this.compile(webhook);
      await this.call('update', () => this.options.store.update(webhook));
      this.put(compiled);
      if (!webhook.on) this.options.onRemoved(id, false);
      return structuredClone(webhook);
    });
  }

  async delete(id: string): Promise<boolean> {
    await this.ensureLoaded();
    return this.exclusive(async () => {
      const deleted = await this.call('delete', () => this.options.store.delete(id));
      this.remove(id);
      return deleted === true;
    });
  }

  /**
   * Validates and compiles a webhook that is not saved (a form's live preview): every check `create` makes, the
   * catalog included, and nothing written or indexed. Its id is `preview`.
   */
  compileUnsaved(input: WebhookInput): CompiledWebhook {
    const webhook = buildWebhook(input, {
      id: 'preview',
      now: new Date(this.options.now()).toISOString(),
      addressPolicy: this.options.addressPolicy,
    });
    this.options.checkSave?.(webhook);
    try {
      return compileWebhook(webhook, -1, this.context);
    } finally {
      if (this.changing === 0) this.shared.sweep();
    }
  }

  /** Switches a webhook off on behalf of its health (`disabled` says why), in the store too. */
  disable(id: string, disabled: WebhookDisabled): Promise<Webhook | undefined> {
    return this.exclusive(async () => {
      const existing = await this.read(id);
      if (!existing?.on) return undefined;
      const webhook: Webhook = {
        ...existing,
        on: false,
        disabled,
        updatedAt: new Date(this.options.now()).toISOString(),
      };
      await this.call('update', () => this.options.store.update(webhook));
      this.put(this.compile(webhook));
      this.options.onRemoved(id, false);
      return structuredClone(webhook);
    });
  }

  /** Re-reads every webhook (after changes made around the dispatcher). The old index stays if the read fails. */
  refresh(): Promise<void> {
    return this.exclusive(() => this.reload());
  }

  /**
   * The store's watch is in place (`live`: every change from now on is announced, and the store's `onChange()`
   * that follows reloads everything) or lost (changes may go unannounced until it is back).
   */
  watchStatus(live: boolean): void {
    this.watchEpoch++;
    this.watch = live ? 'syncing' : 'off';
  }

  /** A change announced by the store: re-read that webhook (or everything), in order with other changes. */
  invalidate(id?: string): Promise<void> {
    if (id === undefined) {
      // The reload the store asks for once its watch is (back) in place: after it, the index can be trusted, unless
      // the watch was lost (or replaced) meanwhile.
      const epoch = this.watchEpoch;
      return this.refresh().then(() => {
        if (this.watch === 'syncing' && this.watchEpoch === epoch) this.watch = 'live';
      });
    }
    return this.exclusive(async () => {
      const webhook = await this.read(id);
      if (webhook === undefined) this.remove(id);
      else this.adopt(webhook);
    });
  }

  /**
   * Send-time lookup for durable queues. While the store's watch is live and no change is pending, a webhook that
   * the index has switched on is taken from the index: every change since the watch's last reload reached it
   * (`invalidate`), so a delete, switch-off or URL change made by another process is honoured once its
   * notification arrives. Anything else is read from the store (`lookupInStore`): before the watch is live, after
   * it was lost, while a change is being applied, and every answer that would skip the delivery (not in the index,
   * switched off), so that a webhook created or switched on a moment ago elsewhere is not skipped on a stale copy.
   * One store read less per delivery: 2.19 Postgres statements per delivery instead of 3.21 (the "Postgres
   * statements per delivery" row of `bench/pgboss.mjs`; the delivery row 0.72x instead of 0.57x in the same runs).
   */
  lookupAtSendTime(id: string): Promise<CompiledWebhook | undefined> {
    if (this.watch === 'live' && this.changing === 0) {
      const cached = this.byId.get(id);
      if (cached?.webhook.on) return Promise.resolve(cached);
    }
    return this.lookupInStore(id);
  }

  /** Whether send-time lookups may be answered from the index (for tests and diagnostics). */
  get trustsIndex(): boolean {
    return this.watch === 'live';
  }

  /**
   * Send-time lookup for durable queues: the store is the truth. A record equal (by value, whatever its key order)
   * to the cached one reuses the compiled webhook.
   */
  async lookupInStore(id: string): Promise<CompiledWebhook | undefined> {
    const webhook = await this.read(id);
    if (webhook === undefined) {
      if (this.byId.has(id)) await this.exclusive(async () => this.remove(id));
      return undefined;
    }
    // A worker delivering for a tenant it does not hold reads that tenant once, so that its next deliveries are
    // answered from the index (while the watch is live) instead of one store read each. A failed read leaves the
    // tenant cold: the record just read is used.
    const tenant = webhook.tenant;
    if (this.tenants !== undefined && typeof tenant === 'string' && !this.tenants.has(tenant)) {
      await this.loadTenant(tenant).catch(() => {});
    }
    const cached = this.byId.get(id);
    if (cached !== undefined && canonicalJson(cached.webhook) === canonicalJson(webhook)) return cached;
    return this.exclusive(async () => this.adopt(webhook));
  }

  /** The store's webhooks, oldest first (by `createdAt`, then `id`): a stable order to page over. */
  async list(options: ListOptions = {}): Promise<Webhook[]> {
    const all = await this.call('list', () => this.options.store.list());
    let records = this.validRecords(all);
    if (options.tenant !== undefined) {
      const tenant = options.tenant ?? undefined;
      records = records.filter((webhook) => webhook.tenant === tenant);
    }
    return records.sort(byCreation);
  }

  async read(id: string): Promise<Webhook | undefined> {
    const webhook = await this.call('get', () => this.options.store.get(id));
    if (webhook === undefined || webhook === null) return undefined;
    if (!isRecord(webhook)) throw storeFailed('get', `answered something that is not a webhook for "${id}"`);
    return webhook;
  }

  /**
   * Reads the store again. With `listTenant`: the webhooks without a tenant, and every tenant is dropped from the
   * index (each is read again on its next emit); without it: every webhook.
   */
  private async reload(): Promise<void> {
    const store = this.options.store;
    const all = await (this.tenants === undefined
      ? this.call('list', () => store.list())
      : this.call('listTenant', () => (store.listTenant as (tenant: null) => Promise<Webhook[]>)(null)));
    const next: CompiledWebhook[] = [];
    for (const webhook of this.validRecords(all, this.tenants === undefined ? 'list' : 'listTenant')) {
      if (this.tenants !== undefined && webhook.tenant !== undefined) continue;
      const compiled = this.tryCompile(webhook);
      if (compiled) next.push(compiled);
    }
    if (this.tenants !== undefined) for (const tenant of [...this.tenants.keys()]) this.evict(tenant);
    const gone = new Set(this.byId.keys());
    for (const compiled of next) gone.delete(compiled.webhook.id);
    for (const id of gone) this.remove(id);
    for (const compiled of next) this.put(compiled);
    this.loaded = true;
  }

  /** One tenant's webhooks, read and indexed (in `exclusive`, or inside a change that already is). */
  private async fetchTenant(tenant: string): Promise<void> {
    const tenants = this.tenants;
    if (tenants === undefined || tenants.has(tenant)) return;
    const store = this.options.store as Required<Pick<WebhookStore, 'listTenant'>>;
    const all = await this.call('listTenant', () => store.listTenant(tenant));
    const next: CompiledWebhook[] = [];
    for (const webhook of this.validRecords(all, 'listTenant')) {
      // A store answering another tenant's webhook for this one must not put it in this tenant's index.
      if (webhook.tenant !== tenant) continue;
      const compiled = this.tryCompile(webhook);
      if (compiled) next.push(compiled);
    }
    tenants.add(tenant);
    for (const compiled of next) this.put(compiled);
    for (const cold of tenants.overflow(tenant)) this.evict(cold);
  }

  /** Drops a tenant's webhooks from memory (not a delete: nothing waiting for them is ended). */
  private evict(tenant: string): void {
    this.tenants?.delete(tenant);
    const index = this.indexes.get(tenant);
    if (index === undefined) return;
    for (const compiled of index.all()) {
      this.unindex(compiled);
      this.byId.delete(compiled.webhook.id);
    }
    this.indexes.delete(tenant);
  }

  /** Puts a record read from the store into the index, or takes it out if it is invalid. */
  private adopt(webhook: Webhook): CompiledWebhook | undefined {
    const compiled = this.tryCompile(webhook);
    if (compiled === undefined) {
      this.remove(webhook.id);
      return undefined;
    }
    this.put(compiled);
    if (!webhook.on) this.options.onRemoved(webhook.id, false);
    return compiled;
  }

  /** A record the store answered may be anything: only webhook-shaped objects are kept; the rest is reported. */
  private validRecords(all: unknown, method = 'list'): Webhook[] {
    if (!Array.isArray(all)) throw storeFailed(method, 'answered something that is not an array');
    const records: Webhook[] = [];
    for (const webhook of all) {
      if (isRecord(webhook)) records.push(webhook);
      else
        this.invalidStored(undefined, `not a webhook record: ${webhook === null ? 'null' : typeof webhook}`);
    }
    return records;
  }

  private tryCompile(webhook: Webhook): CompiledWebhook | undefined {
    try {
      return this.compile(webhook);
    } catch (error) {
      this.invalidStored(webhook.id, (error as Error).message);
      return undefined;
    }
  }

  private compile(webhook: Webhook): CompiledWebhook {
    return compileWebhook(webhook, this.byId.get(webhook.id)?.seq ?? this.seq++, this.context);
  }

  private invalidStored(webhookId: string | undefined, error: string): void {
    this.options.onError('webhook-dispatcher: stored webhook is invalid and will not receive events', {
      webhookId,
      error,
    });
  }

  /** Indexes a compiled webhook, unless its tenant is read on demand and not indexed now. */
  private put(compiled: CompiledWebhook): void {
    const id = compiled.webhook.id;
    const owner = compiled.webhook.tenant;
    const indexed = this.tenants === undefined || owner === undefined || this.tenants.has(owner);
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

  private remove(id: string): void {
    const compiled = this.byId.get(id);
    if (compiled === undefined) return;
    this.unindex(compiled);
    this.byId.delete(id);
    this.options.onRemoved(id, true);
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

  /** Whether the store enforces `maxWebhooksPerTenant` for this tenant itself, atomically across processes. */
  private cappedByStore(tenant: string | undefined): boolean {
    return (
      tenant !== undefined &&
      this.options.maxWebhooksPerTenant !== undefined &&
      typeof this.options.store.createWithinTenantLimit === 'function'
    );
  }

  private async createWithinTenantLimit(webhook: Webhook): Promise<void> {
    const store = this.options.store as Required<Pick<WebhookStore, 'createWithinTenantLimit'>>;
    const max = this.options.maxWebhooksPerTenant as number;
    const saved = await this.call('createWithinTenantLimit', () =>
      store.createWithinTenantLimit(webhook, max),
    );
    if (saved === false) throw tenantLimitError(webhook.tenant as string, max);
    if (saved !== true)
      throw storeFailed('createWithinTenantLimit', 'answered something that is not a boolean');
  }

  /** The per-process fallback for stores without `createWithinTenantLimit`: the count in this process's index. */
  private checkTenantLimit(tenant: string | undefined): void {
    const max = this.options.maxWebhooksPerTenant;
    if (tenant === undefined || max === undefined) return;
    const count = this.indexes.get(tenant)?.size ?? 0;
    if (count >= max) throw tenantLimitError(tenant, count);
  }

  /** Runs index changes one at a time, in call order. */
  private exclusive<T>(change: () => Promise<T>): Promise<T> {
    this.changing++;
    const run = this.tail.then(change);
    const settled = () => {
      // Parts compiled for webhooks that were not indexed are dropped once no change is half done.
      if (--this.changing === 0) this.shared.sweep();
    };
    this.tail = run.then(settled, settled);
    return run;
  }

  /** A store call with a deadline; a throw, a rejection and a timeout all become a WebhookError. */
  private call<T>(method: string, call: () => Promise<T>): Promise<T> {
    return storeCall(method, call, this.options.storeTimeoutMs);
  }
}

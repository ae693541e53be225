import type { Webhook, WebhookStore } from '../core/types.js';
import {
  byCreation,
  isRecord,
  type ListOptions,
  storeCall,
  storeFailed,
  tenantLimitError,
} from './registry-parts.js';

/**
 * The webhook store as the registry uses it: every call has a deadline (a throw, a rejection and a timeout all
 * become a `WebhookError`), and what the store answers is checked before anyone trusts it (a store is hostile: a
 * list that is not an array fails, a record that is not webhook-shaped is reported through `invalid` and left out).
 */
export class CheckedStore {
  constructor(
    private readonly store: WebhookStore,
    private readonly timeoutMs: number,
    private readonly invalid: (webhookId: string | undefined, error: string) => void,
  ) {}

  /** Whether the store reads one tenant at a time (`listTenant`): tenants are then held on demand. */
  get readsTenants(): boolean {
    return typeof this.store.listTenant === 'function';
  }

  /** Whether the store caps a tenant's webhooks itself, atomically across processes (`createWithinTenantLimit`). */
  get capsTenants(): boolean {
    return typeof this.store.createWithinTenantLimit === 'function';
  }

  /** A store call with a deadline; a throw, a rejection and a timeout all become a WebhookError. */
  call<T>(method: string, call: () => Promise<T>): Promise<T> {
    return storeCall(method, call, this.timeoutMs);
  }

  async read(id: string): Promise<Webhook | undefined> {
    const webhook = await this.call('get', () => this.store.get(id));
    if (webhook === undefined || webhook === null) return undefined;
    if (!isRecord(webhook)) throw storeFailed('get', `answered something that is not a webhook for "${id}"`);
    return webhook;
  }

  /** The store's webhooks, oldest first (by `createdAt`, then `id`): a stable order to page over. */
  async list(options: ListOptions = {}): Promise<Webhook[]> {
    let records = await this.all();
    if (options.tenant !== undefined) {
      const tenant = options.tenant ?? undefined;
      records = records.filter((webhook) => webhook.tenant === tenant);
    }
    return records.sort(byCreation);
  }

  /** Every webhook the store holds (`list`). */
  async all(): Promise<Webhook[]> {
    return this.validRecords(await this.call('list', () => this.store.list()), 'list');
  }

  /** One tenant's webhooks, or (`null`) those without a tenant; only for stores with `listTenant`. */
  async ofTenant(tenant: string | null): Promise<Webhook[]> {
    const store = this.store as { listTenant(tenant: string | null): Promise<Webhook[]> };
    return this.validRecords(await this.call('listTenant', () => store.listTenant(tenant)), 'listTenant');
  }

  create(webhook: Webhook): Promise<unknown> {
    return this.call('create', () => this.store.create(webhook));
  }

  update(webhook: Webhook): Promise<unknown> {
    return this.call('update', () => this.store.update(webhook));
  }

  delete(id: string): Promise<unknown> {
    return this.call('delete', () => this.store.delete(id));
  }

  /** Saves a webhook unless its tenant already has `max` (the store decides); only when `capsTenants`. */
  async createWithinTenantLimit(webhook: Webhook, max: number): Promise<void> {
    const store = this.store as Required<Pick<WebhookStore, 'createWithinTenantLimit'>>;
    const saved = await this.call('createWithinTenantLimit', () =>
      store.createWithinTenantLimit(webhook, max),
    );
    if (saved === false) throw tenantLimitError(webhook.tenant as string, max);
    if (saved !== true)
      throw storeFailed('createWithinTenantLimit', 'answered something that is not a boolean');
  }

  /** A record the store answered may be anything: only webhook-shaped objects are kept; the rest is reported. */
  private validRecords(all: unknown, method: string): Webhook[] {
    if (!Array.isArray(all)) throw storeFailed(method, 'answered something that is not an array');
    const records: Webhook[] = [];
    for (const webhook of all) {
      if (isRecord(webhook)) records.push(webhook);
      else this.invalid(undefined, `not a webhook record: ${webhook === null ? 'null' : typeof webhook}`);
    }
    return records;
  }
}

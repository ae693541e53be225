import type { Webhook } from '../core/types.js';

/**
 * Heap one indexed webhook costs beyond its own strings, measured by `bench/index-memory.mjs` (the compiled
 * webhook, its frozen record copy, its index entries; parts shared with other webhooks not counted).
 */
export const INDEX_BYTES_PER_WEBHOOK = 700;

/** An honest estimate of the heap a webhook takes in the index: the fixed part plus its strings (JSON length). */
export function indexBytes(webhook: Readonly<Webhook>): number {
  let text = 0;
  try {
    text = JSON.stringify(webhook).length;
  } catch {
    text = 0;
  }
  return INDEX_BYTES_PER_WEBHOOK + text;
}

/**
 * The tenants whose webhooks are in memory, least recently used first, with the bytes each one's webhooks take.
 * The registry asks it which tenants to drop once the total passes `maxBytes`; the tenant just used is never one.
 */
export class TenantLru {
  private readonly tenants = new Map<string, number>();
  private total = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.tenants.size;
  }

  has(tenant: string): boolean {
    return this.tenants.has(tenant);
  }

  /** Marks a tenant as just used (it becomes the last one dropped). */
  touch(tenant: string): void {
    const bytes = this.tenants.get(tenant);
    if (bytes === undefined) return;
    this.tenants.delete(tenant);
    this.tenants.set(tenant, bytes);
  }

  /** A tenant whose webhooks were just read: held, as the most recently used. */
  add(tenant: string): void {
    if (!this.tenants.has(tenant)) this.tenants.set(tenant, 0);
    else this.touch(tenant);
  }

  /** Bytes of a held tenant's webhooks changed by `delta` (a webhook indexed or removed). */
  resize(tenant: string, delta: number): void {
    const bytes = this.tenants.get(tenant);
    if (bytes === undefined) return;
    this.tenants.set(tenant, bytes + delta);
    this.total += delta;
  }

  /** Forgets a tenant; returns the bytes it held. */
  delete(tenant: string): number {
    const bytes = this.tenants.get(tenant);
    if (bytes === undefined) return 0;
    this.tenants.delete(tenant);
    this.total -= bytes;
    return bytes;
  }

  /** Tenants to drop, least recently used first, until `extra` more bytes fit; never `keep`. */
  overflow(keep: string | undefined, extra = 0): string[] {
    const out: string[] = [];
    let total = this.total + extra;
    for (const [tenant, bytes] of this.tenants) {
      if (total <= this.maxBytes) break;
      if (tenant === keep) continue;
      out.push(tenant);
      total -= bytes;
    }
    return out;
  }

  keys(): IterableIterator<string> {
    return this.tenants.keys();
  }
}

import { numberOption } from '../extend.js';

/**
 * Remembers ids for a while, so a receiver handles each `webhook-id` once. Back it with Redis
 * (`SET id 1 NX PX ttl`), a database table with a unique key, or {@link memoryDedupeStore} in one process.
 */
export interface TtlStore {
  /**
   * Records `id` for `ttlMs` milliseconds. Resolves `true` when it was not recorded yet (handle the message),
   * `false` when it was (a duplicate). Must be atomic: two concurrent calls with one id answer `true` once.
   */
  add(id: string, ttlMs: number): boolean | Promise<boolean>;
  /**
   * Forgets `id`. The middleware calls it when the handler failed or answered a non-2xx status, so the
   * sender's retry of that message is handled instead of being dropped as a duplicate.
   */
  delete?(id: string): unknown;
}

export interface MemoryDedupeStoreOptions {
  /**
   * Most ids kept. When full, the oldest id is forgotten first (a duplicate of it would then be handled again).
   * @default 10000
   */
  maxEntries?: number;
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
}

/**
 * A {@link TtlStore} in this process's memory, bounded by `maxEntries`. Enough for one receiver process; several
 * replicas need a shared store.
 */
export function memoryDedupeStore(
  options: MemoryDedupeStoreOptions = {},
): TtlStore & { readonly size: number } {
  const maxEntries = numberOption('maxEntries', options.maxEntries, 10_000, {
    positive: true,
    integer: true,
    max: 10_000_000,
  });
  const now = options.now ?? Date.now;
  // Insertion order is expiry order for one TTL, and close to it for mixed TTLs: sweeping from the front is cheap.
  const expiries = new Map<string, number>();

  const sweep = (at: number) => {
    for (const [id, expiresAt] of expiries) {
      if (expiresAt > at) break;
      expiries.delete(id);
    }
  };

  return {
    add(id, ttlMs) {
      const at = now();
      sweep(at);
      const expiresAt = expiries.get(id);
      if (expiresAt !== undefined && expiresAt > at) return false;
      expiries.delete(id);
      expiries.set(id, at + ttlMs);
      if (expiries.size > maxEntries) expiries.delete(expiries.keys().next().value as string);
      return true;
    },
    delete(id) {
      expiries.delete(id);
    },
    get size() {
      return expiries.size;
    },
  };
}

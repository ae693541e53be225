import { accessIndexKey } from './policy/index-keys.js';
import type { PolicyAccess } from './types.js';
import type { CompiledWebhook } from './webhook.js';

const ANY = '*';

/**
 * The in-memory index of compiled webhooks that `emit` matches against. Webhooks are bucketed by
 * (literal event type | any) x (literal resource scope such as `proj/p1` | any), so an emit looks only at the
 * buckets its type and its accesses' scopes can reach instead of scanning every webhook.
 */
export class WebhookIndex {
  private readonly byId = new Map<string, CompiledWebhook>();
  private readonly buckets = new Map<string, Map<string, CompiledWebhook>>();
  private readonly keysById = new Map<string, string[]>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): CompiledWebhook | undefined {
    return this.byId.get(id);
  }

  set(compiled: CompiledWebhook): void {
    this.delete(compiled.webhook.id);
    const id = compiled.webhook.id;
    const types = compiled.types.literalTypes ?? [ANY];
    const scopes = compiled.policy?.indexKeys ?? [ANY];
    const keys: string[] = [];
    for (const type of types) {
      for (const scope of scopes) {
        const key = `${type}\n${scope}`;
        let bucket = this.buckets.get(key);
        if (!bucket) {
          bucket = new Map();
          this.buckets.set(key, bucket);
        }
        bucket.set(id, compiled);
        keys.push(key);
      }
    }
    this.byId.set(id, compiled);
    this.keysById.set(id, keys);
  }

  delete(id: string): void {
    const keys = this.keysById.get(id);
    if (!keys) return;
    for (const key of keys) {
      const bucket = this.buckets.get(key);
      bucket?.delete(id);
      if (bucket?.size === 0) this.buckets.delete(key);
    }
    this.keysById.delete(id);
    this.byId.delete(id);
  }

  clear(): void {
    this.byId.clear();
    this.buckets.clear();
    this.keysById.clear();
  }

  /** Webhooks that could match an event of `type` with these accesses, in creation order. */
  candidates(type: string | undefined, accesses: readonly PolicyAccess[]): CompiledWebhook[] {
    const scopes: string[] = [ANY];
    for (const access of accesses) {
      const scope = accessIndexKey(access.resource);
      if (scope !== undefined && !scopes.includes(scope)) scopes.push(scope);
    }
    const hits: Map<string, CompiledWebhook>[] = [];
    for (const t of type === undefined || type === ANY ? [ANY] : [type, ANY]) {
      for (const scope of scopes) {
        const bucket = this.buckets.get(`${t}\n${scope}`);
        if (bucket) hits.push(bucket);
      }
    }
    if (hits.length === 0) return [];
    if (hits.length === 1) return [...(hits[0] as Map<string, CompiledWebhook>).values()];
    // A webhook indexed under several scopes can sit in more than one of the buckets hit.
    const all = new Map<string, CompiledWebhook>();
    for (const bucket of hits) for (const [id, compiled] of bucket) all.set(id, compiled);
    return [...all.values()].sort((a, b) => a.seq - b.seq);
  }
}

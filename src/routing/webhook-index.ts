import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { PolicyAccess } from '../core/types.js';
import { accessScope } from './policy/index-keys.js';

const ANY = '*';

type Bucket = Map<string, CompiledWebhook>;

/**
 * The in-memory index of compiled webhooks that `emit` matches against. Webhooks are bucketed by
 * (literal event type | any) x (literal resource scope such as `proj/p1` | any), so an emit looks only at the
 * buckets its type and its accesses' scopes can reach instead of scanning every webhook.
 */
export class WebhookIndex {
  private readonly byId = new Map<string, CompiledWebhook>();
  /** type -> scope -> webhooks. Two levels, so a lookup hashes strings the event already holds. */
  private readonly buckets = new Map<string, Map<string, Bucket>>();
  private readonly keysById = new Map<string, [type: string, scope: string][]>();

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
    const keys: [string, string][] = [];
    for (const type of types) {
      let byScope = this.buckets.get(type);
      if (!byScope) {
        byScope = new Map();
        this.buckets.set(type, byScope);
      }
      for (const scope of scopes) {
        let bucket = byScope.get(scope);
        if (!bucket) {
          bucket = new Map();
          byScope.set(scope, bucket);
        }
        bucket.set(id, compiled);
        keys.push([type, scope]);
      }
    }
    this.byId.set(id, compiled);
    this.keysById.set(id, keys);
  }

  delete(id: string): void {
    const keys = this.keysById.get(id);
    if (!keys) return;
    for (const [type, scope] of keys) {
      const byScope = this.buckets.get(type);
      const bucket = byScope?.get(scope);
      if (!byScope || !bucket) continue;
      bucket.delete(id);
      if (bucket.size === 0) byScope.delete(scope);
      if (byScope.size === 0) this.buckets.delete(type);
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
    const hits: Bucket[] = [];
    if (type !== undefined && type !== ANY) collect(this.buckets.get(type), accesses, hits);
    collect(this.buckets.get(ANY), accesses, hits);
    if (hits.length === 0) return [];
    if (hits.length === 1) return Array.from((hits[0] as Bucket).values());
    // A webhook indexed under several scopes can sit in more than one of the buckets hit.
    const all = new Map<string, CompiledWebhook>();
    for (const bucket of hits) for (const [id, compiled] of bucket) all.set(id, compiled);
    return Array.from(all.values()).sort((a, b) => a.seq - b.seq);
  }
}

/**
 * Adds the buckets of `byScope` that the accesses reach: the any-scope one and one per distinct access scope.
 * Linear in the accesses: a Set drops repeated scopes, and each access's resource is parsed once per emit.
 */
function collect(
  byScope: Map<string, Bucket> | undefined,
  accesses: readonly PolicyAccess[],
  hits: Bucket[],
) {
  if (byScope === undefined) return;
  const any = byScope.get(ANY);
  if (any !== undefined) hits.push(any);
  const seen = new Set<string>();
  for (const access of accesses) {
    const scope = accessScope(access);
    if (scope === undefined || scope === ANY || seen.has(scope)) continue;
    seen.add(scope);
    const bucket = byScope.get(scope);
    if (bucket !== undefined) hits.push(bucket);
  }
}

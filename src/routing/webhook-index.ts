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
  /** type -> scope -> webhooks. Two levels, so a lookup hashes strings the event already holds. */
  private readonly buckets = new Map<string, Map<string, Bucket>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /**
   * Indexes a webhook under its types and scopes (both kept on the compiled webhook, so the index keeps nothing
   * per webhook but its bucket entries). Replacing one: `delete` the previous compiled copy first.
   */
  set(compiled: CompiledWebhook): void {
    const id = compiled.webhook.id;
    let added = false;
    for (const type of compiled.types.literalTypes ?? [ANY]) {
      let byScope = this.buckets.get(type);
      if (!byScope) {
        byScope = new Map();
        this.buckets.set(type, byScope);
      }
      for (const scope of compiled.policy?.indexKeys ?? [ANY]) {
        let bucket = byScope.get(scope);
        if (!bucket) {
          bucket = new Map();
          byScope.set(scope, bucket);
        }
        if (!bucket.has(id)) added = true;
        bucket.set(id, compiled);
      }
    }
    if (added) this.count++;
  }

  /** Takes out a webhook indexed as `compiled` (the copy that was `set`). */
  delete(compiled: CompiledWebhook): void {
    const id = compiled.webhook.id;
    let removed = false;
    for (const type of compiled.types.literalTypes ?? [ANY]) {
      const byScope = this.buckets.get(type);
      if (!byScope) continue;
      for (const scope of compiled.policy?.indexKeys ?? [ANY]) {
        const bucket = byScope.get(scope);
        if (!bucket?.delete(id)) continue;
        removed = true;
        if (bucket.size === 0) byScope.delete(scope);
      }
      if (byScope.size === 0) this.buckets.delete(type);
    }
    if (removed) this.count--;
  }

  /** Every webhook indexed, each once. */
  all(): CompiledWebhook[] {
    const all = new Map<string, CompiledWebhook>();
    for (const byScope of this.buckets.values())
      for (const bucket of byScope.values()) for (const [id, compiled] of bucket) all.set(id, compiled);
    return [...all.values()];
  }

  clear(): void {
    this.buckets.clear();
    this.count = 0;
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

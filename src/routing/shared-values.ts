/**
 * Compiled parts that many webhooks have alike (a policy, an events filter, a template, the request headers),
 * kept once under a canonical key (their source as JSON) and counted: the last webhook that lets go of one frees it.
 *
 * `get` makes a value the first time (counted 0 until a webhook that uses it is indexed with `hold`); `sweep`
 * drops what was made but never held (a webhook that failed to compile, a preview), so nothing is kept for
 * webhooks that are not indexed. The key a webhook keeps is the table's own string, not a copy per webhook.
 */
export class SharedValues {
  private readonly entries = new Map<string, { key: string; value: unknown; refs: number }>();
  private readonly fresh = new Set<string>();

  get size(): number {
    return this.entries.size;
  }

  /** How many values are kept whose key starts with `kind` (`policy:`, `events:`, `template:`, `headers:`). */
  count(kind: string): number {
    let n = 0;
    for (const key of this.entries.keys()) if (key.startsWith(kind)) n++;
    return n;
  }

  get<T>(key: string, make: () => T): { key: string; value: T } {
    const entry = this.entries.get(key);
    if (entry !== undefined) return entry as { key: string; value: T };
    const made = { key, value: make() as unknown, refs: 0 };
    this.entries.set(key, made);
    this.fresh.add(key);
    return made as { key: string; value: T };
  }

  hold(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) entry.refs++;
  }

  release(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined && --entry.refs <= 0) this.entries.delete(key);
  }

  /** Forgets values made since the last sweep that no indexed webhook holds. */
  sweep(): void {
    for (const key of this.fresh) {
      const entry = this.entries.get(key);
      if (entry !== undefined && entry.refs <= 0) this.entries.delete(key);
    }
    this.fresh.clear();
  }
}

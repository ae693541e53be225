/** What {@link SortedEntries} orders: a delivery's position, (createdAt in epoch ms, deliveryId). */
export interface Positioned {
  createdMs: number;
  deliveryId: string;
}

/** Orders deliveries by (createdAt, deliveryId). */
export function compareKey(ms: number, id: string, otherMs: number, otherId: string): number {
  if (ms !== otherMs) return ms < otherMs ? -1 : 1;
  return id === otherId ? 0 : id < otherId ? -1 : 1;
}

/**
 * Deliveries in (createdAt, deliveryId) order, in an array: inserts are mostly appends (deliveries are recorded
 * about in the order they were created) and removals mostly of the oldest, so both are cheap in practice.
 */
export class SortedEntries<T extends Positioned> {
  readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Index of the first entry at or after (ms, id). */
  lowerBound(ms: number, id: string): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.items[mid] as T;
      if (compareKey(e.createdMs, e.deliveryId, ms, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(entry: T): void {
    const i = this.lowerBound(entry.createdMs, entry.deliveryId);
    if (i === this.items.length) this.items.push(entry);
    else this.items.splice(i, 0, entry);
  }

  remove(entry: T): void {
    // The oldest goes most often: shift() is much cheaper than splice(0, 1).
    if (this.items[0] === entry) this.items.shift();
    else {
      const i = this.lowerBound(entry.createdMs, entry.deliveryId);
      if (this.items[i] === entry) this.items.splice(i, 1);
    }
  }

  /**
   * The end (exclusive) of a newest-first walk that starts below `untilMs` and strictly below `after`.
   */
  endBefore(untilMs: number, after?: { ms: number; id: string }): number {
    let end = untilMs === Number.POSITIVE_INFINITY ? this.items.length : this.lowerBound(untilMs, '');
    if (after) end = Math.min(end, this.lowerBound(after.ms, after.id));
    return end;
  }
}

/**
 * Items in the order they were last written: `touch` and `oldest` in O(1) amortized. A queue with lazy deletion,
 * not a Map re-inserted on every write: that leaves holes that every walk from the front steps over again.
 */
export class WriteOrder<T extends { seq: number; live: boolean }> {
  private items: (T | undefined)[] = [];
  private seqs: number[] = [];
  private head = 0;
  private counter = 0;

  /** Marks `item` as the most recently written; `live` is how many items are live in all. */
  touch(item: T, live: number): void {
    item.seq = ++this.counter;
    this.items.push(item);
    this.seqs.push(item.seq);
    if (this.items.length - this.head > 2 * live + 1024) this.compact();
  }

  oldest(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      if (item?.live && item.seq === this.seqs[this.head]) return item;
      this.items[this.head] = undefined;
      this.head++;
    }
    return undefined;
  }

  private compact(): void {
    const items: T[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      if (item?.live && item.seq === this.seqs[i]) {
        items.push(item);
        seqs.push(item.seq);
      }
    }
    this.items = items;
    this.seqs = seqs;
    this.head = 0;
  }
}

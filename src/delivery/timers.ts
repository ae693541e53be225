/**
 * Everything the engine waits for (retry waits, a lane's `Retry-After` pause, a circuit's next probe, a rate
 * limit's next free slot) is an entry in one min-heap with a single Node timer armed for the earliest. A waiting
 * delivery is a heap entry, not a sleeping async function: it holds no slot, no closure chain and no timer of its
 * own, so 100,000 deliveries waiting out a `Retry-After` cost 100,000 small objects and one timer.
 */
export interface TimerEntry {
  /** `Date.now()` at which `fire` runs. */
  due: number;
  fire(): void;
  /** Position in the heap; -1 once fired or cancelled. */
  index: number;
}

/** Longest delay `setTimeout` honours (a larger one fires at once). */
const MAX_TIMER_MS = 2_147_483_647;

export class TimerQueue {
  private readonly heap: TimerEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  /**
   * Timers run on the wall clock (`Date.now`, which fake timers replace), never on the dispatcher's injectable `now`:
   * a test that freezes `now` for timestamps must not freeze every wait with it.
   */
  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.heap.length;
  }

  /** Runs `fire` at `due` (or at once, on the next turn, when `due` has passed). */
  schedule(due: number, fire: () => void): TimerEntry {
    const entry: TimerEntry = { due, fire, index: this.heap.length };
    this.heap.push(entry);
    this.up(entry.index);
    this.arm();
    return entry;
  }

  cancel(entry: TimerEntry): boolean {
    const i = entry.index;
    if (i < 0 || this.heap[i] !== entry) return false;
    const last = this.heap.pop() as TimerEntry;
    if (last !== entry) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(i);
    }
    entry.index = -1;
    this.arm();
    return true;
  }

  /** Cancels every entry and returns them, earliest first (used when the engine is aborted). */
  drain(): TimerEntry[] {
    const all = this.heap.splice(0).sort((a, b) => a.due - b.due);
    for (const entry of all) entry.index = -1;
    this.arm();
    return all;
  }

  private arm(): void {
    const first = this.heap[0];
    if (first === undefined) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.timer !== undefined && this.armedFor <= first.due) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = first.due;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, first.due - this.now()));
    this.timer = setTimeout(() => this.run(), delay);
  }

  private run(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    // Entries scheduled by a `fire` for the same instant run on the next timer, so one turn cannot loop forever.
    const due: TimerEntry[] = [];
    while (this.heap.length > 0 && (this.heap[0] as TimerEntry).due <= now) {
      const entry = this.heap[0] as TimerEntry;
      this.cancel(entry);
      due.push(entry);
    }
    for (const entry of due) entry.fire();
    this.arm();
  }

  private up(i: number): void {
    const heap = this.heap;
    const entry = heap[i] as TimerEntry;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as TimerEntry;
      if (p.due <= entry.due) break;
      heap[i] = p;
      p.index = i;
      i = parent;
    }
    heap[i] = entry;
    entry.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i] as TimerEntry;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child =
        right < n && (heap[right] as TimerEntry).due < (heap[left] as TimerEntry).due ? right : left;
      const c = heap[child] as TimerEntry;
      if (c.due >= entry.due) break;
      heap[i] = c;
      c.index = i;
      i = child;
    }
    heap[i] = entry;
    entry.index = i;
  }
}

/**
 * The deadlines of every attempt in flight, in one list with one Node timer (instead of a `setTimeout` per
 * attempt). Every attempt of an engine has the same `timeoutMs`, so the order attempts start in is the order their
 * deadlines come in: adding is a push at the tail, removing an unlink, both O(1), and the timer is only ever armed
 * for the head. Kept for the "HTTP: emit -> receiver, deliveryLog off" row against the bare `Agent.dispatch` loop:
 * with `httpTransport` leaving its own timer and signal to the attempt (`ATTEMPT_WATCH`), 0.54-0.59x -> 0.66-0.69x
 * (three quick runs each, same machine; see docs/performance.md, "The engine's work per delivery").
 */
export interface DeadlineNode {
  /** `Date.now()` at which the attempt times out. */
  deadline: number;
  prev: DeadlineNode | undefined;
  next: DeadlineNode | undefined;
  /** Whether the node is in a list. */
  listed: boolean;
  expire(): void;
}

export class DeadlineList {
  private head: DeadlineNode | undefined;
  private tail: DeadlineNode | undefined;
  private timer: NodeJS.Timeout | undefined;
  size = 0;

  constructor(private readonly timeoutMs: number) {}

  /** Starts the node's deadline: `timeoutMs` from now. */
  add(node: DeadlineNode): void {
    node.deadline = Date.now() + this.timeoutMs;
    node.prev = this.tail;
    node.next = undefined;
    node.listed = true;
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.size++;
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  remove(node: DeadlineNode): void {
    if (!node.listed) return;
    node.listed = false;
    const { prev, next } = node;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    node.prev = node.next = undefined;
    this.size--;
    // Nothing left to time: no timer holds the host's event loop open.
    if (this.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Every node in the list, oldest first (the engine aborting them all). */
  all(): DeadlineNode[] {
    const nodes: DeadlineNode[] = [];
    for (let node = this.head; node !== undefined; node = node.next) nodes.push(node);
    return nodes;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(onTimer, Math.max(1, delay), this);
  }

  /** The timer fired: expires what is due, then waits for the (new) head. */
  expireDue(): void {
    this.timer = undefined;
    const now = Date.now();
    let node = this.head;
    while (node !== undefined && node.deadline <= now) {
      this.remove(node);
      node.expire();
      node = this.head;
    }
    // An attempt started by an `expire` armed the timer for itself: the head may be due sooner.
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.head !== undefined) this.arm(this.head.deadline - now);
  }
}

function onTimer(list: DeadlineList): void {
  list.expireDue();
}

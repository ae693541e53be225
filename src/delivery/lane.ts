import { Circuit, type HealthPolicy } from './health.js';
import type { TimerEntry } from './timers.js';

/** Something waiting in a lane for a delivery slot. */
export interface LaneTask {
  /**
   * Called once with a slot of `lane`. The task must call `Scheduler.slotFreed(lane)` exactly once when its attempt
   * is over (no closure per slot).
   */
  run(lane: Lane): void;
  /** Called instead of `run` when the lane is flushed (the webhook was switched off, deleted, or the engine aborted). */
  drop(why: 'aborted' | 'flushed'): void;
}

/**
 * One webhook's lane: its deliveries waiting for a slot, those in flight, and everything that decides when the
 * next may start — its circuit, a pause asked for by the receiver (`Retry-After`, 429, 502/503/504) and its
 * `rateLimit`. A lane only ever delays its own deliveries: that is what keeps one dead receiver from being an
 * outage for every other one.
 */
export class Lane {
  readonly circuit: Circuit;
  private readonly waiting: LaneTask[] = [];
  private head = 0;
  inFlight = 0;
  /**
   * `ordering: 'fifo'`: one delivery at a time, and the one that failed keeps its place through its retry wait
   * (`holds`), so none behind it goes first.
   */
  ordered = false;
  /** Deliveries of an ordered lane waiting to retry: the lane starts nothing else meanwhile. */
  holds = 0;
  /** `Date.now()` before which nothing starts (the receiver asked to slow down). */
  pausedUntil = 0;
  /** While set, one delivery at a time until a success (the receiver is overloaded). */
  throttled = false;
  /** Start times of the last `rateLimit` deliveries (a ring), for "at most N per second" over any second. */
  private starts: number[] | undefined;
  private startsNext = 0;
  /** The engine's wake-up for this lane, when it is blocked until a known time. */
  wake: TimerEntry | undefined;
  /**
   * The store's shared limiter's answer for the next start, when there is one: asked before every start of a
   * rate-limited webhook (`granted`), or unavailable (`local`: this start is limited by this process's count only).
   */
  permit: 'none' | 'asking' | 'granted' | 'local' = 'none';
  /** `Date.now()` before which the shared limiter has no slot (it is not asked again until then). */
  private permitAt = 0;

  constructor(
    readonly webhookId: string,
    health: HealthPolicy | undefined,
    private rateLimit: number | undefined,
    /** Whether the rate limit is shared between processes (the store has `rateLimits`). */
    private readonly sharedRate = false,
  ) {
    this.circuit = new Circuit(health);
  }

  get perSecond(): number | undefined {
    return this.rateLimit;
  }

  /** The webhook's `rateLimit` changed (an update): the window starts over. */
  setRateLimit(rate: number | undefined): void {
    if (rate === this.rateLimit) return;
    this.rateLimit = rate;
    this.starts = undefined;
    this.startsNext = 0;
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }

  get idle(): boolean {
    return this.queued === 0 && this.inFlight === 0 && this.holds === 0;
  }

  push(task: LaneTask): void {
    this.waiting.push(task);
  }

  /** An ordered lane's head back from its retry wait: it goes first. */
  pushFront(task: LaneTask): void {
    if (this.head > 0) this.waiting[--this.head] = task;
    else this.waiting.unshift(task);
  }

  shift(): LaneTask | undefined {
    if (this.head >= this.waiting.length) return undefined;
    const task = this.waiting[this.head] as LaneTask;
    this.waiting[this.head++] = undefined as unknown as LaneTask;
    // Compact now and then instead of shifting an array on every start.
    if (this.head > 256 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    return task;
  }

  /** Takes one waiting task out (a durable queue's job deferred instead of holding a worker slot). */
  remove(task: LaneTask): boolean {
    const i = this.waiting.indexOf(task, this.head);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  /** When the lane may start again, if it is blocked by time (`Date.now()`), for a deferred job's delay. */
  readyAt(wallNow: number): number {
    let at = wallNow;
    if (this.circuit.state === 'open') at = Math.max(at, this.circuit.probeAt);
    return Math.max(at, this.pausedUntil);
  }

  /** Removes every waiting task, oldest first. */
  takeAll(): LaneTask[] {
    const all = this.waiting.slice(this.head);
    this.waiting.length = 0;
    this.head = 0;
    return all;
  }

  /**
   * Whether a delivery may start at `wallNow` given `limit` slots for this lane; if not and the reason is time,
   * the `Date.now()` from which it may; `permit` when only the shared limiter's answer is missing. This process's
   * own count is checked even with a shared limiter: it is free, and it is what holds while the limiter is down.
   */
  blockedUntil(wallNow: number, limit: number): number | 'no' | 'blocked' | 'permit' {
    if (this.queued === 0) return 'blocked';
    if (this.ordered && (this.inFlight > 0 || this.holds > 0)) return 'blocked';
    const gate = this.circuit.gate(wallNow);
    if (!gate.open) return gate.until ?? 'blocked';
    const cap = this.circuit.singleFile || this.throttled ? 1 : limit;
    if (this.inFlight >= cap) return 'blocked';
    if (this.pausedUntil > wallNow) return this.pausedUntil;
    const rate = this.rateLimit;
    if (rate !== undefined && this.starts !== undefined && this.starts.length >= rate) {
      const oldest = this.starts[this.startsNext] as number;
      if (oldest + 1000 > wallNow) return oldest + 1000;
    }
    if (rate !== undefined && this.sharedRate && this.permit !== 'granted' && this.permit !== 'local') {
      return this.permitAt > wallNow ? this.permitAt : 'permit';
    }
    return 'no';
  }

  /** The shared limiter answered: `0` start now, ms until it has a slot, or `local` (it is down: count here). */
  permitAnswered(answer: number | 'local', wallNow: number): void {
    if (answer === 'local') this.permit = 'local';
    else if (answer > 0) {
      this.permit = 'none';
      this.permitAt = wallNow + answer;
    } else this.permit = 'granted';
  }

  /** A delivery of this lane starts now. */
  started(wallNow: number): void {
    this.inFlight++;
    this.circuit.started();
    const rate = this.rateLimit;
    if (rate === undefined) return;
    this.permit = 'none';
    this.starts ??= [];
    if (this.starts.length < rate) this.starts.push(wallNow);
    else {
      this.starts[this.startsNext] = wallNow;
      this.startsNext = (this.startsNext + 1) % rate;
    }
  }

  /**
   * The receiver asked to slow down (429, 502, 503, 504, or any `Retry-After`): the whole lane pauses for `pauseMs`
   * (the retry policy's wait for this answer: the `Retry-After` it honours, or its backoff), and then runs one
   * delivery at a time until a success.
   */
  slowDown(wallNow: number, pauseMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, wallNow + pauseMs);
    this.throttled = true;
  }

  /** A success ends a slow-down. */
  recovered(): void {
    this.throttled = false;
  }
}

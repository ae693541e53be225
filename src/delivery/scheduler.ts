import type { SharedCircuit } from '../core/types.js';
import type { HealthPolicy } from './health.js';
import { Lane, type LaneTask } from './lane.js';
import type { SharedRateLimit } from './shared-rate-limit.js';
import type { TimerQueue } from './timers.js';

export interface SchedulerOptions {
  /** Deliveries in flight in all. */
  concurrency: number;
  /** Deliveries in flight to one webhook at most. */
  perWebhookConcurrency: number;
  health: HealthPolicy | undefined;
  timers: TimerQueue;
  /** `rateLimit` shared with other processes through the store, when it can (`WebhookStore.rateLimits`). */
  rates?: SharedRateLimit;
}

/**
 * Hands delivery slots to lanes.
 *
 * Fairness: lanes that may start a delivery now sit in `ready`, in the order they became ready; each free slot goes
 * to the first of them, which then moves to the back (round-robin). A lane with 10,000 deliveries waiting gets one
 * slot per turn like a lane with one. On top of `perWebhookConcurrency`, a lane holds at most its fair share of
 * `concurrency` while others have work (`concurrency / lanes with work`, at least 1), so receivers that hang keep
 * at most their share of the slots busy until their circuits open.
 *
 * A lane that is blocked until a known time (a pause, the next probe, its rate limit) is not polled: it has one
 * entry in the timer queue, and is looked at again when that fires. A rate-limited lane whose store shares rate
 * limits (`rates`) also waits for the store's answer before each start, holding no slot meanwhile.
 */
export class Scheduler {
  private readonly lanes = new Map<string, Lane>();
  private readonly ready = new Set<Lane>();
  /** Lanes with work that are blocked by slots, not by time: they may start again when a slot of theirs frees. */
  private readonly capped = new Set<Lane>();
  private active = 0;
  inFlight = 0;
  private pumping = false;

  constructor(private readonly options: SchedulerOptions) {}

  lane(webhookId: string, rateLimit: number | undefined, ordered = false): Lane {
    let lane = this.lanes.get(webhookId);
    if (lane === undefined) {
      lane = new Lane(webhookId, this.options.health, rateLimit, this.options.rates !== undefined);
      this.lanes.set(webhookId, lane);
    } else {
      lane.setRateLimit(rateLimit);
    }
    lane.ordered = ordered;
    return lane;
  }

  peek(webhookId: string): Lane | undefined {
    return this.lanes.get(webhookId);
  }

  get laneCount(): number {
    return this.lanes.size;
  }

  /** Lanes with work (waiting or in flight). */
  get activeLanes(): number {
    return this.active;
  }

  /** The webhook was switched off or deleted: what waits in its lane ends `skipped` now instead of at its turn. */
  flushWebhook(webhookId: string): void {
    const lane = this.lanes.get(webhookId);
    if (lane === undefined) return;
    for (const task of this.flush(lane)) task.drop('flushed');
    this.release(webhookId);
  }

  /** The webhook's health as its lane knows it (for `explain` and the API). */
  health(
    webhookId: string,
  ): { state: 'closed' | 'open' | 'probing'; consecutiveFailures: number } | undefined {
    const lane = this.lanes.get(webhookId);
    return lane && { state: lane.circuit.state, consecutiveFailures: lane.circuit.consecutiveFailures };
  }

  /**
   * What another process learned about a webhook's circuit (opened, probe failed, or answered again:
   * `undefined`). A webhook this process has not delivered to yet gets a lane holding it, so its first delivery
   * here waits for the probe like everyone else's.
   */
  adoptCircuit(webhookId: string, circuit: SharedCircuit | undefined): void {
    if (this.options.health === undefined) return;
    let lane = this.lanes.get(webhookId);
    if (lane === undefined) {
      if (circuit === undefined) return;
      lane = this.lane(webhookId, undefined);
    }
    lane.circuit.adopt(circuit, Date.now());
    this.touch(lane);
  }

  circuitsOpen(): number {
    let open = 0;
    for (const lane of this.lanes.values()) if (lane.circuit.state !== 'closed') open++;
    return open;
  }

  submit(lane: Lane, task: LaneTask): void {
    if (lane.idle) this.active++;
    lane.push(task);
    this.consider(lane);
    this.pump();
  }

  /**
   * A delivery of an ordered lane failed and will retry: it keeps the lane (nothing else starts) through its wait,
   * without holding a slot of `concurrency`. Called while its attempt still holds its slot.
   */
  hold(lane: Lane): void {
    lane.holds++;
  }

  /** The held delivery's retry is due: it goes first in its lane. */
  resubmit(lane: Lane, task: LaneTask): void {
    lane.holds--;
    lane.pushFront(task);
    this.consider(lane);
    this.pump();
  }

  /** The held delivery ended (failed, skipped, aborted) without another attempt: the next may go. */
  unhold(lane: Lane): void {
    lane.holds--;
    this.finishedWork(lane);
    this.pump();
  }

  /** Something about the lane changed (a pause, its circuit): look at it again. */
  touch(lane: Lane): void {
    this.consider(lane);
    this.pump();
  }

  /** Takes one waiting task out of its lane; false when it already started. */
  remove(lane: Lane, task: LaneTask): boolean {
    if (!lane.remove(task)) return false;
    if (lane.idle) {
      this.active--;
      this.forgetIfIdle(lane);
    } else {
      this.consider(lane);
    }
    return true;
  }

  /** Removes every waiting task of a lane and returns them (the caller ends them). */
  flush(lane: Lane): LaneTask[] {
    const tasks = lane.takeAll();
    this.ready.delete(lane);
    if (lane.idle && tasks.length > 0) this.active--;
    this.forgetIfIdle(lane);
    return tasks;
  }

  /** Every waiting task of every lane (abort). */
  flushAll(): LaneTask[] {
    const all: LaneTask[] = [];
    for (const lane of [...this.lanes.values()]) all.push(...this.flush(lane));
    return all;
  }

  /** A lane whose webhook is gone: its health goes with it once it has nothing left to do. */
  release(webhookId: string): void {
    const lane = this.lanes.get(webhookId);
    if (lane?.idle) this.drop(lane);
  }

  private drop(lane: Lane): void {
    if (lane.wake !== undefined) this.options.timers.cancel(lane.wake);
    lane.wake = undefined;
    this.ready.delete(lane);
    this.capped.delete(lane);
    this.lanes.delete(lane.webhookId);
  }

  /** A healthy idle lane is forgotten (state worth keeping: an open circuit, a pause, a failure streak). */
  private forgetIfIdle(lane: Lane): void {
    if (
      lane.idle &&
      lane.circuit.state === 'closed' &&
      lane.circuit.consecutiveFailures === 0 &&
      !lane.throttled &&
      lane.pausedUntil <= Date.now()
    ) {
      this.drop(lane);
    }
  }

  /**
   * Slots one lane may hold: its fair share of `concurrency` among the lanes with work, and never more than half of
   * it, so a newcomer always finds a slot even when a lane that hangs was alone when it took its slots.
   */
  private limit(): number {
    const share = Math.ceil(this.options.concurrency / Math.max(2, this.active));
    return Math.min(this.options.perWebhookConcurrency, Math.max(1, share));
  }

  private consider(lane: Lane): void {
    const until = lane.blockedUntil(Date.now(), this.limit());
    if (until === 'no') {
      this.capped.delete(lane);
      this.ready.add(lane);
      return;
    }
    this.ready.delete(lane);
    if (typeof until === 'number') {
      this.capped.delete(lane);
      this.wakeAt(lane, until);
    } else if (until === 'permit') {
      this.capped.delete(lane);
      if (lane.permit === 'none') this.askPermit(lane);
    } else if (lane.queued > 0) this.capped.add(lane);
    else this.capped.delete(lane);
  }

  /**
   * Asks the shared limiter for the lane's next start, one question at a time per lane; the answer (granted, or
   * refused until a slot frees) is looked at like any other change of the lane. A lane dropped meanwhile ignores it
   * (a start it was granted is simply not used).
   */
  private askPermit(lane: Lane): void {
    const rates = this.options.rates as SharedRateLimit;
    lane.permit = 'asking';
    rates.take(lane.webhookId, lane.perSecond as number).then((answer) => {
      if (lane.permit !== 'asking') return;
      lane.permitAnswered(answer, Date.now());
      if (this.lanes.get(lane.webhookId) === lane) this.touch(lane);
    });
  }

  private wakeAt(lane: Lane, at: number): void {
    if (lane.wake !== undefined) {
      if (lane.wake.due <= at && lane.wake.index >= 0) return;
      this.options.timers.cancel(lane.wake);
    }
    lane.wake = this.options.timers.schedule(at, () => {
      lane.wake = undefined;
      this.touch(lane);
    });
  }

  private pump(): void {
    // A task's run() may finish synchronously and call back into pump(): one loop does the work.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inFlight < this.options.concurrency && this.ready.size > 0) {
        const lane = this.ready.values().next().value as Lane;
        this.ready.delete(lane);
        const now = Date.now();
        if (lane.blockedUntil(now, this.limit()) !== 'no') {
          this.consider(lane);
          continue;
        }
        const task = lane.shift() as LaneTask;
        lane.started(now);
        this.inFlight++;
        this.consider(lane); // to the back of the ring, if it may start another
        // No `done` closure per slot: the task calls `slotFreed` (measured with memoryQueue's count, see queue.ts).
        task.run(lane);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** A task's attempt is over: its slot is given back (once per `run`; the task keeps that count). */
  slotFreed(lane: Lane): void {
    this.inFlight--;
    lane.inFlight--;
    this.finishedWork(lane);
    this.pump();
  }

  /** A delivery of the lane is over (an attempt, or an ordered lane's hold): it and the capped lanes are looked at. */
  private finishedWork(lane: Lane): void {
    if (lane.idle) {
      this.active--;
      this.forgetIfIdle(lane);
      // One lane fewer with work: every other lane's fair share grew.
      for (const other of [...this.capped]) this.consider(other);
    }
    if (this.lanes.get(lane.webhookId) === lane) this.consider(lane);
  }
}

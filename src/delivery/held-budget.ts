import type { DeliveryResult } from '../core/types.js';
import type { DeliveryJob } from './queue.js';
import { deliveryResult } from './result.js';

/** What a held job costs beyond its payload (the job, its promise, its closures), for the byte bound. */
const JOB_OVERHEAD_BYTES = 512;

/** Payload bytes shared by the jobs of one emit, counted once while any of them is held. */
interface Payload {
  bytes: number;
  refs: number;
}

/** One job's share of the budget. */
export interface HeldJob {
  readonly job: DeliveryJob;
  held: boolean;
  ownBytes: number;
}

/**
 * The engine's memory bound: how many deliveries (`maxQueued`) and payload bytes (`maxQueuedBytes`) are held,
 * waiting for a slot or a retry. A job over either is refused with `QUEUE_FULL` instead of growing memory.
 */
export class HeldBudget {
  private readonly payloads = new WeakMap<object, Payload>();
  held = 0;
  bytes = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly maxQueued: number,
    private readonly maxQueuedBytes: number,
  ) {}

  /** Takes the job into the budget, or answers why not. `inFlight` held jobs are not waiting. */
  admit(entry: HeldJob, inFlight: number): DeliveryResult | undefined {
    const { job } = entry;
    const waiting = this.held - inFlight;
    let payload = this.payloads.get(job.event);
    const payloadBytes = payload === undefined || payload.refs === 0 ? job.eventBody.length : 0;
    const bytes = payloadBytes + JOB_OVERHEAD_BYTES + (job.body?.length ?? 0);
    if (waiting >= this.maxQueued) {
      const message = `delivery queue is full (${this.maxQueued} waiting); not sent`;
      return deliveryResult(job, 'failed', { error: { code: 'QUEUE_FULL', message } });
    }
    if (this.bytes + bytes > this.maxQueuedBytes && this.held > 0) {
      const message = `delivery queue is full (${this.bytes} of ${this.maxQueuedBytes} bytes held); not sent`;
      return deliveryResult(job, 'failed', { error: { code: 'QUEUE_FULL', message } });
    }
    if (payload === undefined) {
      payload = { bytes: job.eventBody.length, refs: 0 };
      this.payloads.set(job.event, payload);
    }
    if (payload.refs++ === 0) this.bytes += payload.bytes;
    entry.ownBytes = JOB_OVERHEAD_BYTES + (job.body?.length ?? 0);
    this.bytes += entry.ownBytes;
    entry.held = true;
    this.held++;
    return undefined;
  }

  /** A rendered body is held across retries: it counts toward the byte bound. */
  grow(entry: HeldJob, bytes: number): void {
    entry.ownBytes += bytes;
    this.bytes += bytes;
  }

  release(entry: HeldJob): void {
    if (!entry.held) return;
    entry.held = false;
    this.held--;
    this.bytes -= entry.ownBytes;
    const payload = this.payloads.get(entry.job.event);
    if (payload !== undefined && --payload.refs === 0) this.bytes -= payload.bytes;
    if (this.held === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves when nothing is held. */
  drained(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { DeliveryResult, Logger, SharedCircuit, Transport } from '../core/types.js';
import type { DeliveryLog } from '../log/delivery-log.js';
import { TransportError } from '../transport/errors.js';
import type { Attempt } from './attempt.js';
import { DeadlineList } from './deadlines.js';
import { Delivery } from './delivery.js';
import type { HealthPolicy, HealthTransition } from './health.js';
import { HeldBudget } from './held-budget.js';
import type { HostHooks } from './host-hooks.js';
import type { EngineGauges, SafeInstrumentation } from './instrumentation.js';
import type { Lane } from './lane.js';
import type { AttemptOptions, AttemptStep, DeliveryEngine, DeliveryJob } from './queue.js';
import { deliveryResult } from './result.js';
import type { RetryPolicy } from './retry.js';
import type { Scheduler } from './scheduler.js';
import type { TimerQueue } from './timers.js';

/** Where the engine finds a webhook as it is now; a promise when it is read from the store (durable workers). */
export interface WebhookSource {
  lookup(webhookId: string): CompiledWebhook | undefined | Promise<CompiledWebhook | undefined>;
}

/** Told when a webhook's health changes. The dispatcher's `HealthReporter` is one. */
export interface HealthListener {
  /** Fires `dispatcher.on` events; a `disable` switches the webhook off in the store. */
  healthChanged(webhookId: string, transition: HealthTransition): void;
  /**
   * A circuit opened, re-opened after a failed probe, or closed again in this process: it is saved to the store's
   * `circuits`, so the other processes adopt it.
   */
  circuitChanged(webhookId: string, circuit: SharedCircuit | undefined): void;
}

/** The engine's collaborators and limits, built by the dispatcher. */
export interface EngineParts {
  transport: Transport;
  retry: RetryPolicy;
  timeoutMs: number;
  maxBodyBytes: number;
  /** Deliveries held (waiting for a slot or a retry) at most. */
  maxQueued: number;
  /** Bytes of payloads held at most (each emit's event JSON once, plus rendered bodies). */
  maxQueuedBytes: number;
  health: HealthPolicy | undefined;
  /** Hands out the slots between the webhooks' lanes. */
  scheduler: Scheduler;
  /** The timers the scheduler and the retry waits share. */
  timers: TimerQueue;
  log: DeliveryLog | undefined;
  /** The host's hooks behind `safeInstrumentation`: callable unconditionally, they never throw. */
  instrumentation: SafeInstrumentation;
  /** The dispatcher's clock (timestamps, auto-disable). Waits run on the wall clock. */
  now(): number;
  webhooks: WebhookSource;
  healthListener: HealthListener;
  /** Runs host code (hooks, the log) so that nothing it throws escapes. */
  hooks: HostHooks;
  /** Where what is not a delivery outcome but went wrong is reported. */
  logger: Pick<Logger, 'error'>;
}

/**
 * The delivery engine in this process: takes jobs to their final outcome through per-webhook lanes. Queues see it
 * as a `DeliveryEngine` (`deliver`, `attempt`).
 *
 * A delivery holds a slot only while an attempt is in flight. Between attempts (a retry wait, a `Retry-After`, an
 * open circuit) it is a timer entry or a lane entry, so a receiver that is slow, down or rate-limiting delays only
 * its own deliveries. See `Scheduler` for how slots are shared and `Circuit` for endpoint health; one job's way is
 * a `Delivery`, the memory bound a `HeldBudget`.
 */
export class InProcessEngine implements DeliveryEngine {
  readonly timers: TimerQueue;
  readonly scheduler: Scheduler;
  /** The deadlines of the attempts in flight: one list, one timer (see `DeadlineList`). */
  readonly deadlines: DeadlineList;
  private readonly budget: HeldBudget;
  /** Deliveries waiting for the store's answer to their webhook lookup (durable queues' send-time check). */
  private readonly lookingUp = new Set<Delivery>();
  private abortReason: string | undefined;

  constructor(readonly parts: EngineParts) {
    this.timers = parts.timers;
    this.scheduler = parts.scheduler;
    this.budget = new HeldBudget(parts.maxQueued, parts.maxQueuedBytes);
    this.deadlines = new DeadlineList(parts.timeoutMs);
    parts.instrumentation.gauges(() => this.gauges());
  }

  /** Runs a job to its final outcome in this process. Never rejects. */
  deliver(job: DeliveryJob): Promise<DeliveryResult> {
    return this.start(job, false) as Promise<DeliveryResult>;
  }

  /** Runs one attempt; a retryable failure is handed back for a durable queue to schedule. Never rejects. */
  attempt(job: DeliveryJob, options: AttemptOptions = {}): Promise<AttemptStep> {
    return this.start(job, true, options.deferAfterMs) as Promise<AttemptStep>;
  }

  gauges(): EngineGauges {
    return {
      queued: this.budget.held - this.scheduler.inFlight,
      queuedBytes: this.budget.bytes,
      inFlight: this.scheduler.inFlight,
      lanesOpen: this.scheduler.activeLanes,
      circuitsOpen: this.scheduler.circuitsOpen(),
    };
  }

  /** Tells the other processes when an answer changed this lane's circuit (see `HealthListener.circuitChanged`). */
  circuitAnswered(lane: Lane, stateBefore: string, probeAtBefore: number): void {
    const circuit = lane.circuit;
    if (circuit.state === stateBefore && circuit.probeAt === probeAtBefore) return;
    if (circuit.state === 'closed' || circuit.state === 'open') {
      this.parts.healthListener.circuitChanged(lane.webhookId, circuit.shared());
    }
  }

  /** Resolves when nothing is held: every delivery taken has its final outcome. */
  drained(): Promise<void> {
    return this.budget.drained();
  }

  /** Ends every attempt, retry wait and waiting delivery with an `ABORTED` failure, and every later job too. */
  abortAll(reason: string): void {
    this.abortReason = reason;
    for (const task of this.scheduler.flushAll()) task.drop('aborted');
    for (const attempt of this.deadlines.all())
      (attempt as Attempt).abort(new TransportError('ABORTED', reason));
    // A store that never answers a lookup cannot hold close() either.
    for (const delivery of [...this.lookingUp]) delivery.abortNow(reason);
    // Retry waits fire now and see the abort; lane wake-ups find nothing to do.
    for (const entry of this.timers.drain()) entry.fire();
  }

  /** A delivery waits for (`true`) or got (`false`) the store's answer to its lookup. */
  lookup(delivery: Delivery, waiting: boolean): void {
    if (waiting) this.lookingUp.add(delivery);
    else this.lookingUp.delete(delivery);
  }

  /** The delivery reached its outcome: it leaves the budget (before its caller hears of it). */
  release(delivery: Delivery): void {
    this.budget.release(delivery);
  }

  /** A rendered body is held across retries: it counts toward the byte bound. */
  holdBytes(delivery: Delivery, bytes: number): void {
    this.budget.grow(delivery, bytes);
  }

  get aborted(): string | undefined {
    return this.abortReason;
  }

  private start(
    job: DeliveryJob,
    single: boolean,
    deferAfterMs?: number,
  ): Promise<DeliveryResult | AttemptStep> {
    return new Promise((resolve) => {
      const delivery = new Delivery(this, job, single, deferAfterMs, resolve);
      const refused =
        this.abortReason !== undefined
          ? deliveryResult(job, 'failed', { error: { code: 'ABORTED', message: this.abortReason } })
          : this.budget.admit(delivery, this.scheduler.inFlight);
      if (refused) {
        delivery.finish(refused);
        return;
      }
      delivery.next();
    });
  }
}

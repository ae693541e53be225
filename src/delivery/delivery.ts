import type { CompiledWebhook } from '../core/compiled-webhook.js';
import { errorText } from '../core/errors.js';
import type { DeliveryError, DeliveryRequest, DeliveryResult } from '../core/types.js';
import { Attempt, type AttemptAnswer, type AttemptListener } from './attempt.js';
import { logAttempt } from './attempt-record.js';
import { endSpan, FINAL_CODES, SLOW_DOWN_STATUSES, skipReason } from './delivery-rules.js';
import type { EngineParts, InProcessEngine } from './engine.js';
import type { HealthTransition } from './health.js';
import type { HeldJob } from './held-budget.js';
import type { AttemptSpan } from './instrumentation.js';
import type { Lane, LaneTask } from './lane.js';
import type { AttemptStep, DeliveryJob } from './queue.js';
import { bodyBytesOver, buildRequest, renderBody } from './request.js';
import { deliveryResult } from './result.js';
import type { TimerEntry } from './timers.js';

/**
 * One job on its way to a final outcome: looks its webhook up, waits its turn in the webhook's lane, makes an
 * attempt, learns from the answer (lane, circuit, log) and retries after a timer, or hands the retry back to a
 * durable queue (`single`).
 *
 * It is its own lane task and its own attempt listener, and keeps its one attempt in flight in its own fields: a
 * delivery allocates no closures, `Sent` records or promises of its own per attempt. With the log entry built as a
 * literal instead of a spread of the `Sent` record, "Pipeline, no network, default config (log on)" went from
 * 31-36 to 26-28 µs of CPU per delivery (0.21x -> 0.26x of serialize+HMAC, three runs each); see
 * docs/performance.md, "The engine's work per delivery".
 */
export class Delivery implements HeldJob, LaneTask, AttemptListener {
  held = false;
  ownBytes = 0;
  /** Attempts made, counting those made before this run (`job.attempt`). */
  private attempts: number;
  private body: string | undefined;
  private firstStarted: number | undefined;
  private lastStatus: number | undefined;
  private done = false;
  /** The webhook as `next` found it, when the lookup reads the store (it is not read again for the slot). */
  private compiled: CompiledWebhook | undefined;
  private storeLookup = false;
  /** The ordered lane this delivery keeps through its retry wait (see `Scheduler.hold`). */
  private holding: Lane | undefined;
  private readonly parts: EngineParts;
  /** The lane it waits in or sends through, and a durable job's deferral while it waits. */
  private lane: Lane | undefined;
  private deferral: TimerEntry | undefined;
  // The attempt in flight (one at a time), as `answered` reads it back.
  /** The lane whose slot the attempt in flight holds, until `freeSlot` gives it back (once). */
  private slotLane: Lane | undefined;
  private sentCompiled: CompiledWebhook | undefined;
  private sentRequest: DeliveryRequest | undefined;
  private attemptNo = 0;
  private startedAt = 0;
  private span: AttemptSpan | undefined;

  constructor(
    private readonly engine: InProcessEngine,
    readonly job: DeliveryJob,
    private readonly single: boolean,
    private readonly deferAfterMs: number | undefined,
    private readonly settle: (outcome: DeliveryResult | AttemptStep) => void,
  ) {
    this.parts = engine.parts;
    this.attempts = job.attempt ?? 0;
    this.body = job.body;
  }

  /** Looks the webhook up as it is now and queues the next attempt in its lane. */
  next(): void {
    if (this.engine.aborted !== undefined) {
      this.abort(this.engine.aborted);
      return;
    }
    let found: ReturnType<EngineParts['webhooks']['lookup']>;
    try {
      found = this.parts.webhooks.lookup(this.job.webhookId);
    } catch (error) {
      this.fail({ code: 'TRANSPORT_ERROR', message: `webhook lookup failed: ${errorText(error)}` });
      return;
    }
    if (!(found instanceof Promise)) {
      this.queue(found);
      return;
    }
    this.storeLookup = true;
    this.engine.lookup(this, true);
    found.then(
      (compiled) => {
        this.engine.lookup(this, false);
        this.queue(compiled);
      },
      (error: unknown) => {
        this.engine.lookup(this, false);
        this.fail({ code: 'TRANSPORT_ERROR', message: `webhook lookup failed: ${errorText(error)}` });
      },
    );
  }

  private queue(compiled: CompiledWebhook | undefined): void {
    if (this.done) return;
    if (this.engine.aborted !== undefined) {
      this.abort(this.engine.aborted);
      return;
    }
    const skip = skipReason(this.job, compiled);
    if (skip !== undefined) {
      this.finish(this.result('skipped', { reason: skip }));
      return;
    }
    this.compiled = compiled;
    const webhook = (compiled as CompiledWebhook).webhook;
    const { scheduler, timers } = this.engine;
    const lane = scheduler.lane(webhook.id, webhook.rateLimit, webhook.ordering === 'fifo');
    // A held fifo head coming back from its retry wait is already counted among those waiting.
    const held = this.holding;
    const health = this.parts.health;
    if (
      held !== lane &&
      health !== undefined &&
      lane.circuit.state !== 'closed' &&
      lane.queued >= health.maxQueuedWhileOpen
    ) {
      this.fail({
        code: 'CIRCUIT_OPEN',
        message: `the webhook is failing and ${lane.queued} deliveries already wait for it; not sent`,
      });
      return;
    }
    this.lane = lane;
    this.deferral = undefined;
    this.holding = undefined;
    if (held === lane) scheduler.resubmit(lane, this);
    else {
      if (held !== undefined) scheduler.unhold(held);
      scheduler.submit(lane, this);
    }
    if (this.single && this.deferAfterMs !== undefined && !this.done) {
      this.deferral = timers.schedule(Date.now() + this.deferAfterMs, () => {
        if (this.done || !scheduler.remove(lane, this)) return;
        const wallNow = Date.now();
        this.finish({ retry: { job: this.job, delayMs: Math.max(1000, lane.readyAt(wallNow) - wallNow) } });
      });
    }
  }

  /** Its turn in the lane came: one attempt (`LaneTask.run`). */
  run(lane: Lane): void {
    if (this.deferral !== undefined) this.engine.timers.cancel(this.deferral);
    this.slotLane = lane;
    this.attemptWith(lane);
  }

  /** Gives the slot of `run` back to the scheduler, once. */
  private freeSlot(): void {
    const lane = this.slotLane;
    if (lane === undefined) return;
    this.slotLane = undefined;
    this.engine.scheduler.slotFreed(lane);
  }

  /** Its lane was flushed (`LaneTask.drop`). */
  drop(why: 'aborted' | 'flushed'): void {
    if (this.deferral !== undefined) this.engine.timers.cancel(this.deferral);
    if (why === 'aborted') this.abort(this.engine.aborted ?? 'aborted');
    else this.skipNow();
  }

  /** The in-memory index is asked again (a switch-off while waiting is honoured); a store read is not repeated. */
  private current(): CompiledWebhook | undefined {
    if (this.storeLookup) return this.compiled;
    const found = this.parts.webhooks.lookup(this.job.webhookId);
    // Its tenant left the index (`maxIndexBytes`) while it waited: the webhook as it was queued is the best known.
    if (!(found instanceof Promise)) return found;
    found.catch(() => {}); // nothing waits for this read: its failure must not become an unhandled rejection
    return this.compiled;
  }

  /** Flushed from its lane (switched off or deleted while waiting). */
  private skipNow(): void {
    const reason = this.storeLookup ? undefined : skipReason(this.job, this.current());
    this.finish(this.result('skipped', { reason: reason ?? 'the webhook is switched off' }));
  }

  /** Has a slot: one attempt. `freeSlot` gives it back as soon as the attempt is over, before any retry wait. */
  private attemptWith(lane: Lane): void {
    const compiled = this.current();
    const skip = skipReason(this.job, compiled);
    if (skip !== undefined || this.done) {
      lane.circuit.interrupted();
      this.freeSlot();
      if (!this.done) this.finish(this.result('skipped', { reason: skip }));
      return;
    }
    let request: DeliveryRequest;
    try {
      request = this.request(compiled as CompiledWebhook);
    } catch (error) {
      lane.circuit.interrupted();
      this.freeSlot();
      const failure = error as DeliveryError & Error;
      this.fail({ code: failure.code ?? 'RENDER_FAILED', message: failure.message });
      return;
    }
    this.send(compiled as CompiledWebhook, request);
  }

  private send(compiled: CompiledWebhook, request: DeliveryRequest): void {
    const { job, parts } = this;
    const webhook = compiled.webhook;
    const attemptNo = ++this.attempts;
    this.firstStarted ??= performance.now();
    const startedAt = parts.now();
    const span = parts.instrumentation.onAttempt({
      emitContext: job.emitContext,
      deliveryId: job.deliveryId,
      webhookId: webhook.id,
      eventId: job.eventId,
      eventType: job.eventType,
      tenant: job.tenant,
      attempt: attemptNo,
      url: webhook.url,
      method: 'POST',
    });
    // Validated header names and values; they cannot replace the request's own (signature, webhook-id).
    const headers = span.headers ? { ...span.headers, ...request.headers } : undefined;
    this.sentCompiled = compiled;
    this.sentRequest = headers ? { ...request, headers } : request;
    this.attemptNo = attemptNo;
    this.startedAt = startedAt;
    this.span = span;
    new Attempt(parts.transport, this.sentRequest, parts.timeoutMs, this.engine.deadlines, this);
  }

  /** The attempt ended (`AttemptListener`). */
  answered(answer: AttemptAnswer): void {
    // The lane learns from the answer (slow down, circuit) before the slot is given back and it is looked at.
    try {
      this.learn(answer);
    } finally {
      this.freeSlot();
    }
  }

  /** The request of this attempt: the body is rendered once per delivery, the signature once per attempt. */
  private request(compiled: CompiledWebhook): DeliveryRequest {
    const { maxBodyBytes } = this.parts;
    if (this.body === undefined) {
      const body = renderBody(compiled, this.job, maxBodyBytes);
      const over = bodyBytesOver(body, maxBodyBytes);
      if (over !== undefined) {
        throw Object.assign(
          new Error(`rendered body is ${over} bytes, over the ${maxBodyBytes}-byte limit; not sent`),
          { code: 'BODY_TOO_LARGE' },
        );
      }
      this.body = body;
      if (body !== this.job.eventBody) this.engine.holdBytes(this, body.length);
    }
    return buildRequest(compiled, this.job.deliveryId, this.body, Math.floor(this.parts.now() / 1000));
  }

  private learn(answer: AttemptAnswer): void {
    const lane = this.lane as Lane;
    const span = this.span as AttemptSpan;
    this.lastStatus = answer.status;
    if (this.parts.log !== undefined) {
      const entry = {
        job: this.job,
        compiled: this.sentCompiled as CompiledWebhook,
        request: this.sentRequest as DeliveryRequest,
        attemptNo: this.attemptNo,
        startedAt: this.startedAt,
        answer,
      };
      logAttempt(this.parts.log, entry, this.parts.hooks, this.parts.logger);
    }
    const { state: stateBefore, probeAt: probeAtBefore } = lane.circuit;
    if (answer.ok) {
      lane.recovered();
      this.transition(lane.circuit.succeeded());
      this.engine.circuitAnswered(lane, stateBefore, probeAtBefore);
      endSpan(span, answer, false);
      this.finish(this.result('delivered', { status: answer.status }));
      return;
    }
    const error = answer.error as DeliveryError;
    const gone = answer.status === 410 && this.parts.health !== undefined;
    if (error.code === 'ABORTED' || gone) {
      if (gone) {
        this.transition({ kind: 'disable', reason: 'gone', detail: 'the receiver answered 410 Gone' });
      } else {
        lane.circuit.interrupted();
      }
      endSpan(span, answer, false);
      this.fail(error);
      return;
    }
    this.failedAttempt(lane, span, answer, error, stateBefore, probeAtBefore);
  }

  /** A failed attempt that may be retried: the lane slows down, the circuit counts it, the policy decides. */
  private failedAttempt(
    lane: Lane,
    span: AttemptSpan,
    answer: AttemptAnswer,
    error: DeliveryError,
    stateBefore: string,
    probeAtBefore: number,
  ): void {
    const attemptNo = this.attemptNo;
    const { retry } = this.parts;
    const wallNow = Date.now();
    const retryAfter = answer.response?.headers['retry-after'];
    const retries = attemptNo - (this.job.retryBase ?? 0);
    // The wait the retry policy gives this failure (a `Retry-After` it honours, clamped, or its backoff).
    const wait = retry.delayFor(retries, retryAfter);
    if (answer.status !== undefined && (SLOW_DOWN_STATUSES.has(answer.status) || retryAfter !== undefined)) {
      lane.slowDown(wallNow, wait);
    }
    if (answer.status === 410) {
      endSpan(span, answer, false);
      this.fail(error);
      return;
    }
    if (answer.status !== 429) {
      this.transition(lane.circuit.failed(this.parts.now(), wallNow, `${error.code}: ${error.message}`));
      this.engine.circuitAnswered(lane, stateBefore, probeAtBefore);
    }
    const retryable =
      !FINAL_CODES.has(error.code) &&
      retries <= retry.retries &&
      // A `retryOn` that throws (or answers anything but a boolean) does not retry.
      this.parts.hooks.call('retry.retryOn', () =>
        retry.shouldRetry({ attempt: retries, status: answer.status, code: error.code }),
      ) === true;
    endSpan(span, answer, retryable);
    if (!retryable) {
      this.fail(error);
      return;
    }
    if (this.single) {
      const firstAttemptAt = this.job.firstAttemptAt ?? this.startedAt;
      const job = { ...this.job, attempt: attemptNo, firstAttemptAt, body: undefined };
      this.finish({ retry: { job, delayMs: wait } });
      return;
    }
    if (lane.ordered) {
      // fifo: the lane waits for this delivery's retry (see `Scheduler.hold`); `queue` or `finish` gives it back.
      this.engine.scheduler.hold(lane);
      this.holding = lane;
    }
    this.engine.timers.schedule(wallNow + wait, () => this.next());
  }

  private transition(change: HealthTransition | undefined): void {
    if (change !== undefined) this.parts.healthListener.healthChanged(this.job.webhookId, change);
  }

  private result(
    outcome: DeliveryResult['outcome'],
    fields: {
      status?: number;
      error?: DeliveryError;
      reason?: string;
      attempts?: number;
      durationMs?: number;
    } = {},
  ): DeliveryResult {
    // Fields set on the caller's object instead of spread into a new one: the spread cost about 20% of the
    // "Pipeline, no network (filter+policy+render+sign), log off" bench row (0.28x -> 0.34x, three runs each).
    fields.attempts = this.attempts;
    fields.durationMs = this.firstStarted === undefined ? 0 : performance.now() - this.firstStarted;
    return deliveryResult(this.job, outcome, fields);
  }

  private fail(error: DeliveryError): void {
    this.finish(this.result('failed', { error, status: this.lastStatus }));
  }

  private abort(reason: string): void {
    this.fail({ code: 'ABORTED', message: reason });
  }

  /** `close()`'s deadline passed while the store had not answered the lookup. */
  abortNow(reason: string): void {
    this.engine.lookup(this, false);
    this.abort(reason);
  }

  finish(outcome: DeliveryResult | AttemptStep): void {
    if (this.done) return;
    this.done = true;
    const held = this.holding;
    this.holding = undefined;
    if (held !== undefined) this.engine.scheduler.unhold(held);
    this.engine.release(this);
    this.settle(this.single && 'outcome' in outcome ? { result: outcome as DeliveryResult } : outcome);
  }
}

import { type DeliveryAttempt, type DeliveryLog, redactBody, redactHeaders } from './delivery-log.js';
import type { DeliveryJob } from './queue.js';
import type { RetryPolicy } from './retry.js';
import { signPayload } from './sign.js';
import { signStandardWebhook, standardSignatureHeader } from './standard-webhooks.js';
import { eventJsonOf } from './template.js';
import { TransportError, toTransportError } from './transport/errors.js';
import type {
  DeliveryError,
  DeliveryRequest,
  DeliveryResult,
  Transport,
  TransportResponse,
  TransportSendOptions,
  Webhook,
} from './types.js';
import type { CompiledWebhook } from './webhook.js';

export interface DelivererOptions {
  transport: Transport;
  retry: RetryPolicy;
  timeoutMs: number;
  maxBodyBytes: number;
  log: DeliveryLog | undefined;
  /**
   * Looks a webhook up at send time, so a change or a switch-off after enqueue is honoured. Synchronous for the
   * in-process index; a promise when it re-reads the store (a durable queue's worker in another process).
   */
  lookup(webhookId: string): CompiledWebhook | undefined | Promise<CompiledWebhook | undefined>;
  now(): number;
  onLogError(error: unknown): void;
}

// The jobs of one emit share one eventBody and run back to back: remembering the last eventJson serializes it
// once per emit instead of once per templated webhook.
let lastEventBody: string | undefined;
let lastEventJson = '';

/** Renders the body of one delivery. Throws on a template failure. */
export function renderBody(compiled: CompiledWebhook, job: Pick<DeliveryJob, 'event' | 'eventBody'>): string {
  if (!compiled.template) return job.eventBody;
  if (job.eventBody !== lastEventBody) {
    lastEventJson = eventJsonOf(job.eventBody);
    lastEventBody = job.eventBody;
  }
  return compiled.template.render({
    event: job.event,
    eventJson: lastEventJson,
    webhook: compiled.templateWebhook,
  });
}

/** The request for one delivery, signed. `timestamp` (Unix seconds) is used by the Standard Webhooks scheme. */
export function buildRequest(
  compiled: CompiledWebhook,
  deliveryId: string,
  body: string,
  timestamp: number,
): DeliveryRequest {
  const webhook = compiled.webhook;
  const headers: Record<string, string> = { ...compiled.headers, 'webhook-id': deliveryId };
  if (webhook.secret !== undefined) {
    if (webhook.signatureScheme !== 'standard') headers['x-ld-signature'] = signPayload(body, webhook.secret);
    if (webhook.signatureScheme !== 'launchdarkly')
      signStandard(headers, webhook, deliveryId, body, timestamp);
  }
  return { url: webhook.url, method: 'POST', headers, body };
}

function signStandard(
  headers: Record<string, string>,
  webhook: Readonly<Webhook>,
  id: string,
  body: string,
  timestamp: number,
): void {
  headers['webhook-timestamp'] = String(timestamp);
  const secret = webhook.secret as string;
  const previous = webhook.previousSecrets?.filter((old) => Date.parse(old.expiresAt) > timestamp * 1000);
  headers['webhook-signature'] =
    previous === undefined || previous.length === 0
      ? signStandardWebhook({ secret, id, timestamp, body })
      : standardSignatureHeader([secret, ...previous.map((old) => old.secret)], id, timestamp, body);
}

function result(
  job: DeliveryJob,
  fields: Omit<DeliveryResult, 'deliveryId' | 'webhookId' | 'eventId'>,
): DeliveryResult {
  return { deliveryId: job.deliveryId, webhookId: job.webhookId, eventId: job.eventId, ...fields };
}

/** The outcome of a delivered job, built in one step (it is made for every delivery). */
function delivered(job: DeliveryJob, attempts: number, status: number | undefined, durationMs: number) {
  const outcome: DeliveryResult = {
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    eventId: job.eventId,
    ok: true,
    outcome: 'delivered',
    attempts,
    status,
    durationMs,
  };
  return outcome;
}

/**
 * Creates the worker that takes one job to its final outcome: look the webhook up, render, sign, send, retry.
 * It never throws: every failure becomes a `DeliveryResult`.
 */
export function createDeliverer(options: DelivererOptions) {
  const { transport, retry, timeoutMs, log } = options;
  /** Attempts and retry waits in flight, so `abortAll` can end them at a close deadline. */
  const pending = new Set<Interruptible>();
  let abortReason: string | undefined;

  const record = (attempt: DeliveryAttempt) => {
    if (!log) return;
    try {
      const written = log.record(attempt);
      if (written) written.catch(options.onLogError);
    } catch (error) {
      options.onLogError(error);
    }
  };

  // Deadlines are checked by one sweep timer while attempts are in flight, not by a timer per attempt: a timer per
  // attempt cost more than the rest of the attempt's bookkeeping. An attempt ends between `timeoutMs` and
  // `timeoutMs + sweepMs` after it started (transports that keep their own deadline, as httpTransport does, end
  // sooner). Counting sweeps instead of reading a clock keeps it right under fake timers too.
  const sweepMs = Math.min(1000, Math.max(1, Math.ceil(timeoutMs / 20)));
  const sweepsPerTimeout = Math.ceil(timeoutMs / sweepMs);
  let sweeps = 0;
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () => {
    sweeps++;
    for (const item of pending) {
      if (item instanceof Attempt && item.expiresAtSweep <= sweeps) item.expire();
    }
    sweeper = pending.size > 0 ? setTimeout(sweep, sweepMs) : undefined;
  };

  /** Starts an attempt; its `outcome` settles with the transport's answer, or early at the deadline. */
  const send = (request: DeliveryRequest): Attempt => {
    // The first sweep may come at once, so an attempt waits one sweep more than its timeout.
    const attempt = new Attempt(timeoutMs, sweeps + sweepsPerTimeout + 1, pending);
    if (sweeper === undefined) sweeper = setTimeout(sweep, sweepMs);
    let sent: Promise<TransportResponse>;
    try {
      sent = transport.send(request, attempt);
    } catch (error) {
      sent = Promise.reject(error);
    }
    attempt.follow(sent);
    return attempt;
  };

  const wait = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      new RetryWait(ms, pending, resolve, reject);
    });

  async function deliver(job: DeliveryJob): Promise<DeliveryResult> {
    let compiled = options.lookup(job.webhookId);
    if (compiled instanceof Promise) compiled = await compiled;
    if (!compiled) return result(job, skipped('the webhook was deleted before delivery'));
    if (!compiled.webhook.on && !job.test) return result(job, skipped('the webhook is switched off'));
    if (abortReason !== undefined)
      return result(job, failed(0, 0, { code: 'ABORTED', message: abortReason }));

    let body: string;
    let request: DeliveryRequest;
    try {
      body = renderBody(compiled, job);
      request = buildRequest(compiled, job.deliveryId, body, unixSeconds(options.now()));
    } catch (error) {
      // Save-time validation makes this unreachable for valid records; a failure still ends as an outcome.
      return result(job, failed(0, 0, { code: 'RENDER_FAILED', message: (error as Error).message }));
    }
    // A UTF-16 code unit is at most 3 UTF-8 bytes: most bodies are known to be under the limit without counting.
    if (body.length * 3 > options.maxBodyBytes) {
      const bytes = Buffer.byteLength(body);
      if (bytes > options.maxBodyBytes) {
        const message = `rendered body is ${bytes} bytes, over the ${options.maxBodyBytes}-byte limit; not sent`;
        return result(job, failed(0, 0, { code: 'BODY_TOO_LARGE', message }));
      }
    }

    const first = performance.now();
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && compiled.webhook.signatureScheme !== 'launchdarkly' && compiled.webhook.secret) {
        // Standard Webhooks signs the timestamp of each attempt.
        request = buildRequest(compiled, job.deliveryId, body, unixSeconds(options.now()));
      }
      const startedAt = log ? options.now() : 0;
      const started = attempt === 1 ? first : performance.now();
      let response: TransportResponse | undefined;
      let error: DeliveryError | undefined;
      try {
        const sending = send(request);
        try {
          response = await sending.outcome;
        } finally {
          pending.delete(sending);
        }
        if (typeof response?.status !== 'number') {
          error = { code: 'INVALID_RESPONSE', message: 'the transport resolved without a numeric status' };
          response = undefined;
        } else {
          error = classify(response.status);
        }
      } catch (caught) {
        const e = toTransportError(caught);
        error = { code: e.code, message: e.message };
      }
      const ended = performance.now();
      const durationMs = ended - started;
      const ok = error === undefined;
      if (log) {
        record({
          deliveryId: job.deliveryId,
          webhookId: job.webhookId,
          eventId: job.eventId,
          attempt,
          startedAt: isoTime(startedAt),
          durationMs,
          ok,
          status: response?.status,
          error,
          request: { url: request.url, headers: redactHeaders(request.headers) },
          response: response && {
            headers: response.headers,
            body: redactBody(response.body, request.headers, compiled.webhook.secret),
          },
        });
      }
      const total = ended - first;
      if (ok) return delivered(job, attempt, response?.status, total);
      const failure = error as DeliveryError;
      const outcome = { attempt, status: response?.status, code: failure.code };
      if (FINAL_CODES.has(failure.code) || attempt > retry.retries || !retry.shouldRetry(outcome)) {
        return result(job, failed(attempt, total, failure, response?.status));
      }
      try {
        await wait(retry.delayFor(attempt, header(response?.headers, 'retry-after')));
      } catch (aborted) {
        const e = aborted as TransportError;
        return result(
          job,
          failed(attempt, performance.now() - first, { code: e.code, message: e.message }, response?.status),
        );
      }
    }
  }

  return {
    deliver,
    /** Ends every attempt and retry wait in flight, and every job after them, with an `ABORTED` failure. */
    abortAll(reason: string) {
      abortReason = reason;
      for (const item of [...pending]) item.fail(new TransportError('ABORTED', reason));
    },
  };
}

/** Failures another attempt cannot fix: the guard will refuse again, a closing dispatcher will not send. */
const FINAL_CODES = new Set(['ABORTED', 'BLOCKED_ADDRESS']);

function classify(status: number): DeliveryError | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status >= 300 && status < 400) {
    return { code: 'REDIRECT', message: `receiver answered ${status}; redirects are not followed` };
  }
  return { code: 'HTTP_STATUS', message: `receiver answered ${status}` };
}

function skipped(reason: string): Omit<DeliveryResult, 'deliveryId' | 'webhookId' | 'eventId'> {
  return { ok: false, outcome: 'skipped', attempts: 0, reason, durationMs: 0 };
}

function failed(
  attempts: number,
  durationMs: number,
  error: DeliveryError,
  status?: number,
): Omit<DeliveryResult, 'deliveryId' | 'webhookId' | 'eventId'> {
  return status === undefined
    ? { ok: false, outcome: 'failed', attempts, error, durationMs }
    : { ok: false, outcome: 'failed', attempts, status, error, durationMs };
}

function header(headers: TransportResponse['headers'], name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Epoch ms of year 10000, from where `toISOString()` writes six-digit years. */
const ISO_LIMIT = 253_402_300_800_000;
let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * `new Date(ms).toISOString()`, reusing the formatted second: `toISOString` is slow enough to show in the cost of a
 * delivery, and the attempts of one second share everything up to the milliseconds.
 */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms < ISO_LIMIT)) return new Date(ms).toISOString();
  const whole = Math.floor(ms);
  const second = whole - (whole % 1000);
  if (second !== isoSecond) {
    isoPrefix = new Date(second).toISOString().slice(0, 20); // 'YYYY-MM-DDTHH:mm:ss.'
    isoSecond = second;
  }
  const milli = whole - second;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** Something in flight that a close deadline can end. */
interface Interruptible {
  fail(error: TransportError): void;
}

/**
 * One attempt in flight, and the options object its transport gets. A class rather than closures and an object
 * literal with a getter: this runs for every delivery. The `signal` is created on first read, since an
 * AbortController per attempt is not free and most transports do not read it.
 */
class Attempt implements Interruptible, TransportSendOptions {
  /** Settles with the transport's answer, or is rejected at the deadline or a close deadline. */
  readonly outcome: Promise<TransportResponse>;
  private resolve!: (response: TransportResponse) => void;
  private reject!: (error: unknown) => void;
  private controller: AbortController | undefined;

  constructor(
    readonly timeoutMs: number,
    /** The sweep count at which the attempt has run out of time. */
    readonly expiresAtSweep: number,
    private readonly pending: Set<Interruptible>,
  ) {
    this.outcome = new Promise<TransportResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    pending.add(this);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) this.controller = new AbortController();
    return this.controller.signal;
  }

  /** Settles with `sent` unless the attempt ends first (settling a settled promise does nothing). */
  follow(sent: Promise<TransportResponse>): void {
    sent.then(this.resolve, this.reject);
  }

  fail(error: TransportError): void {
    if (!this.pending.delete(this)) return;
    this.controller?.abort(error);
    this.reject(error);
  }

  expire(): void {
    this.fail(new TransportError('TIMEOUT', `no response within ${this.timeoutMs} ms`));
  }
}

/** The pause before a retry; a close deadline ends it early. */
class RetryWait implements Interruptible {
  private readonly timer: NodeJS.Timeout;

  constructor(
    ms: number,
    private readonly pending: Set<Interruptible>,
    private readonly resolve: () => void,
    private readonly reject: (error: TransportError) => void,
  ) {
    this.timer = setTimeout(endWait, ms, this);
    pending.add(this);
  }

  end(): void {
    if (this.pending.delete(this)) this.resolve();
  }

  fail(error: TransportError): void {
    if (!this.pending.delete(this)) return;
    clearTimeout(this.timer);
    this.reject(error);
  }
}

function endWait(wait: RetryWait): void {
  wait.end();
}

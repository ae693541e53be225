import { errorMessage } from '../core/errors.js';
import { replaceUnstorable } from '../core/storable-text.js';
import type { DeliveryError, DeliveryRequest, Transport, TransportResponse } from '../core/types.js';
import { TransportError, toTransportError } from '../transport/errors.js';
import { normalizeHeaders } from '../transport/response-headers.js';
import { ATTEMPT_WATCH, type AttemptWatch } from '../transport/transport-options.js';
import type { DeadlineList, DeadlineNode } from './deadlines.js';

/** How one HTTP attempt ended (the retry policy sees a smaller `AttemptOutcome`, see `retry.ts`). */
export interface AttemptAnswer {
  /** A 2xx arrived. */
  ok: boolean;
  status?: number;
  error?: DeliveryError;
  /** Response headers (names in lower case) and the start of its body. */
  response?: { headers: Record<string, string>; body?: string };
  durationMs: number;
}

/** Who hears how an attempt ended: called once, synchronously from the transport's settlement or the deadline. */
export interface AttemptListener {
  answered(answer: AttemptAnswer): void;
}

/**
 * One attempt in flight. The transport gets a plain `{ signal, timeoutMs }` (a wrapper that spreads it loses
 * nothing and sees nothing of ours); the attempt ends at its deadline or at `abort()` whether or not the transport
 * honours the signal, so a transport that never settles cannot hold a slot.
 *
 * Its deadline is a node in the engine's `DeadlineList` (one timer for all attempts), and its end is a call to its
 * listener rather than a promise: no timer, promise or closure of its own beyond the transport's `then`.
 */
export class Attempt implements DeadlineNode, AttemptWatch {
  private controller: AbortController | undefined;
  /** A built-in transport's request, aborted by this attempt directly (see `ATTEMPT_WATCH`). */
  private watcher: { abort(reason: unknown): void } | undefined;
  private options: unknown;
  private settled = false;
  private readonly started = performance.now();
  deadline = 0;
  prev: DeadlineNode | undefined;
  next: DeadlineNode | undefined;
  listed = false;

  constructor(
    transport: Transport,
    request: DeliveryRequest,
    private readonly timeoutMs: number,
    private readonly deadlines: DeadlineList,
    private readonly listener: AttemptListener,
  ) {
    deadlines.add(this);
    let sent: unknown;
    // `signal` is made on first read: an AbortController per attempt showed as 5% of the "Pipeline, no network"
    // bench row, and most transports never read it. A spread (`{ ...options }`) reads it, so it is not lost.
    const attempt = this;
    const options = {
      timeoutMs,
      get signal(): AbortSignal {
        attempt.controller ??= new AbortController();
        return attempt.controller.signal;
      },
      [ATTEMPT_WATCH]: this as AttemptWatch,
    };
    this.options = options;
    try {
      sent = transport.send(request, options);
    } catch (error) {
      sent = Promise.reject(error);
    }
    // A transport that returns a plain object instead of a promise is read like a resolved one.
    // (`Promise.resolve`, not `instanceof`: a hostile result's Proxy throws from `getPrototypeOf`, and
    // `Promise.resolve` turns that into a rejection.)
    Promise.resolve(sent).then(onSent.bind(this), onFailed.bind(this));
  }

  owns(options: unknown): boolean {
    return options === this.options;
  }

  watch(target: { abort(reason: unknown): void }): void {
    this.watcher = target;
  }

  /** The deadline passed (called by the `DeadlineList`). */
  expire(): void {
    this.abort(new TransportError('TIMEOUT', `no response within ${this.timeoutMs} ms`));
  }

  /** Ends the attempt now (deadline, close deadline): the transport is told through its signal. */
  abort(error: TransportError): void {
    if (this.settled) return;
    this.controller?.abort(error);
    this.watcher?.abort(error);
    this.finish(fromError(error));
  }

  finish(outcome: Omit<AttemptAnswer, 'durationMs'>): void {
    if (this.settled) return;
    this.settled = true;
    this.deadlines.remove(this);
    // Completed in place (the outcome is a fresh object) rather than spread into a new one: the spread cost about
    // 18% of the "Pipeline, no network (filter+policy+render+sign), log off" bench row (0.33x -> 0.39x, 3 runs each).
    const ended = outcome as AttemptAnswer;
    ended.durationMs = performance.now() - this.started;
    this.listener.answered(ended);
  }
}

function onSent(this: Attempt, response: unknown): void {
  this.finish(readResponse(response));
}

function onFailed(this: Attempt, error: unknown): void {
  this.finish(fromError(error));
}

function fromError(error: unknown): Omit<AttemptAnswer, 'durationMs'> {
  const e = toTransportError(error);
  // A custom transport's text reaches results, logs and a switched-off webhook's `disabled.detail` (saved in the
  // store): NUL and lone surrogates become U+FFFD, so every store keeps it.
  const code = replaceUnstorable(e.code) as typeof e.code;
  return { ok: false, error: { code, message: replaceUnstorable(e.message) } };
}

/** The transport's result as an outcome; a result that throws when read (a getter, a Proxy) is an invalid one. */
function readResponse(response: unknown): Omit<AttemptAnswer, 'durationMs'> {
  try {
    return fromResponse(response);
  } catch (error) {
    const message = `the transport's result could not be read (${errorMessage(error)})`;
    return { ok: false, error: { code: 'INVALID_RESPONSE', message } };
  }
}

function fromResponse(response: unknown): Omit<AttemptAnswer, 'durationMs'> {
  const status = (response as TransportResponse | null)?.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) {
    return {
      ok: false,
      error: { code: 'INVALID_RESPONSE', message: 'the transport resolved without a valid numeric status' },
    };
  }
  const r = response as TransportResponse;
  const answer = {
    headers: normalizeHeaders(r.headers),
    body: typeof r.body === 'string' ? r.body : undefined,
  };
  const error = classify(status);
  return error ? { ok: false, status, error, response: answer } : { ok: true, status, response: answer };
}

function classify(status: number): DeliveryError | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status >= 300 && status < 400) {
    return { code: 'REDIRECT', message: `receiver answered ${status}; redirects are not followed` };
  }
  return { code: 'HTTP_STATUS', message: `receiver answered ${status}` };
}

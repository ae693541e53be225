import { errorMessage } from '../core/errors.js';
import { replaceUnstorable } from '../core/storable-text.js';
import type { DeliveryError, DeliveryRequest, Transport, TransportResponse } from '../core/types.js';
import { TransportError, toTransportError } from '../transport/errors.js';
import { normalizeHeaders } from '../transport/response-headers.js';

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

/**
 * One attempt in flight. The transport gets a plain `{ signal, timeoutMs }` (a wrapper that spreads it loses
 * nothing and sees nothing of ours); the attempt ends at its deadline or at `abort()` whether or not the transport
 * honours the signal, so a transport that never settles cannot hold a slot.
 */
export class Attempt {
  private controller: AbortController | undefined;
  private readonly timer: NodeJS.Timeout;
  private settle!: (outcome: AttemptAnswer) => void;
  private settled = false;
  private readonly started = performance.now();
  readonly outcome: Promise<AttemptAnswer>;

  constructor(transport: Transport, request: DeliveryRequest, timeoutMs: number) {
    this.outcome = new Promise<AttemptAnswer>((resolve) => {
      this.settle = resolve;
    });
    this.timer = setTimeout(
      () => this.abort(new TransportError('TIMEOUT', `no response within ${timeoutMs} ms`)),
      timeoutMs,
    );
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
    };
    try {
      sent = transport.send(request, options);
    } catch (error) {
      sent = Promise.reject(error);
    }
    // A transport that returns a plain object instead of a promise is read like a resolved one.
    Promise.resolve(sent).then(
      (response) => this.finish(readResponse(response)),
      (error: unknown) => this.finish(fromError(error)),
    );
  }

  /** Ends the attempt now (deadline, close deadline): the transport is told through its signal. */
  abort(error: TransportError): void {
    if (this.settled) return;
    this.controller?.abort(error);
    this.finish(fromError(error));
  }

  private finish(outcome: Omit<AttemptAnswer, 'durationMs'>): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    // Completed in place (the outcome is a fresh object) rather than spread into a new one: the spread cost about
    // 18% of the "Pipeline, no network (filter+policy+render+sign), log off" bench row (0.33x -> 0.39x, 3 runs each).
    const ended = outcome as AttemptAnswer;
    ended.durationMs = performance.now() - this.started;
    this.settle(ended);
  }
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

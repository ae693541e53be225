import { type DeliveryAttempt, type DeliveryLog, redactBody, redactHeaders } from './delivery-log.js';
import type { DeliveryJob } from './queue.js';
import type { RetryPolicy } from './retry.js';
import { signPayload } from './sign.js';
import { signStandardWebhook, standardSignatureHeader } from './standard-webhooks.js';
import { eventJsonOf } from './template.js';
import { TransportError } from './transport/errors.js';
import type {
  DeliveryError,
  DeliveryRequest,
  DeliveryResult,
  Transport,
  TransportResponse,
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

/**
 * Creates the worker that takes one job to its final outcome: look the webhook up, render, sign, send, retry.
 * It never throws: every failure becomes a `DeliveryResult`.
 */
export function createDeliverer(options: DelivererOptions) {
  const { transport, retry, timeoutMs, log } = options;
  /** Attempts and retry waits in flight, so `abortAll` can end them at a close deadline. */
  const pending = new Set<(error: TransportError) => void>();
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

  const send = (request: DeliveryRequest): Promise<TransportResponse> =>
    new Promise<TransportResponse>((resolve, reject) => {
      let controller: AbortController | undefined;
      const fail = (error: TransportError) => {
        clearTimeout(timer);
        pending.delete(fail);
        controller?.abort(error);
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new TransportError('TIMEOUT', `no response within ${timeoutMs} ms`)),
        timeoutMs,
      );
      pending.add(fail);
      // The signal is created only for transports that read it: an AbortController per attempt is not free.
      const sendOptions = {
        get signal() {
          controller ??= new AbortController();
          return controller.signal;
        },
        timeoutMs,
      };
      let sent: Promise<TransportResponse>;
      try {
        sent = transport.send(request, sendOptions);
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        (response) => {
          if (!pending.delete(fail)) return;
          clearTimeout(timer);
          resolve(response);
        },
        (error: unknown) => {
          if (!pending.has(fail)) return;
          fail(toTransportError(error));
        },
      );
    });

  const wait = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      const fail = (error: TransportError) => {
        clearTimeout(timer);
        pending.delete(fail);
        reject(error);
      };
      const timer = setTimeout(() => {
        pending.delete(fail);
        resolve();
      }, ms);
      pending.add(fail);
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
    const bytes = Buffer.byteLength(body);
    if (bytes > options.maxBodyBytes) {
      const message = `rendered body is ${bytes} bytes, over the ${options.maxBodyBytes}-byte limit; not sent`;
      return result(job, failed(0, 0, { code: 'BODY_TOO_LARGE', message }));
    }

    const first = performance.now();
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && compiled.webhook.signatureScheme !== 'launchdarkly' && compiled.webhook.secret) {
        // Standard Webhooks signs the timestamp of each attempt.
        request = buildRequest(compiled, job.deliveryId, body, unixSeconds(options.now()));
      }
      const startedAt = options.now();
      const started = performance.now();
      let response: TransportResponse | undefined;
      let error: DeliveryError | undefined;
      try {
        response = await send(request);
        if (typeof response?.status !== 'number') {
          error = { code: 'INVALID_RESPONSE', message: 'the transport resolved without a numeric status' };
          response = undefined;
        } else {
          error = classify(response.status);
        }
      } catch (caught) {
        const e = caught as TransportError;
        error = { code: e.code, message: e.message };
      }
      const durationMs = performance.now() - started;
      const ok = error === undefined;
      if (log) {
        record({
          deliveryId: job.deliveryId,
          webhookId: job.webhookId,
          eventId: job.eventId,
          attempt,
          startedAt: new Date(startedAt).toISOString(),
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
      const total = performance.now() - first;
      if (ok) {
        return result(job, {
          ok: true,
          outcome: 'delivered',
          attempts: attempt,
          status: response?.status,
          durationMs: total,
        });
      }
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
      for (const fail of [...pending]) fail(new TransportError('ABORTED', reason));
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

function toTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const err = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : 'TRANSPORT_ERROR';
  const message = typeof err?.message === 'string' ? err.message : String(error);
  return new TransportError(code, message, { cause: error });
}

function header(headers: TransportResponse['headers'], name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

import { isStorable, replaceUnstorable } from '../core/storable-text.js';
import type { DeliveryAttempt, DeliveryLog } from './delivery-log.js';

/**
 * A log record is never lost to what a receiver sent back. Every built-in log stores an attempt through
 * `normalizeDeliveryAttempt()`, which calls `replaceUnstorableIn()`: a NUL or a lone surrogate (which Postgres
 * refuses, see `storable-text.ts`) in a response body, a header, an error message or the ids becomes U+FFFD, and the
 * field is listed in `altered`. The request body is what gets sent again, so it is not rewritten where that would
 * change its bytes: a lone surrogate was sent as U+FFFD anyway, but a NUL was sent as a NUL, so the body is cut
 * there (`bodyTruncated`). And when a log refuses a record anyway (too big, a constraint, an outage of one write),
 * `recordAttempt()` records reduced forms, so the failed delivery can still be listed and, with its request body
 * kept, sent again.
 */

type Headers<T> = Record<string, T>;

/** A copy of `headers` with unstorable names and values replaced (a `__proto__` header stays a header). */
function replaceInHeaders<T extends string | string[] | undefined>(headers: Headers<T>): Headers<T> {
  const copy: Headers<T> = {};
  for (const name in headers) {
    const value = headers[name];
    const safe = typeof value === 'string' ? replaceUnstorable(value) : value?.map(replaceUnstorable);
    Object.defineProperty(copy, replaceUnstorable(name), {
      value: safe,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** The request body as a log can keep it: cut at its first NUL, lone surrogates as U+FFFD (as they were sent). */
function storableRequestBody(body: string): { text: string; cut: boolean } {
  const nul = body.indexOf('\0');
  return { text: replaceUnstorable(nul === -1 ? body : body.slice(0, nul)), cut: nul !== -1 };
}

function headersStorable(headers: Headers<string | string[] | undefined> | undefined): boolean {
  for (const name in headers) {
    const value = headers[name];
    if (!isStorable(name)) return false;
    if (typeof value === 'string' ? !isStorable(value) : value?.some((v) => !isStorable(v))) return false;
  }
  return true;
}

/** Whether every text field of a normalized attempt is storable: the common case, checked without allocating. */
function attemptStorable(a: DeliveryAttempt): boolean {
  return (
    isStorable(a.eventId) &&
    isStorable(a.startedAt) &&
    (a.tenant === undefined || isStorable(a.tenant)) &&
    (a.eventType === undefined || isStorable(a.eventType)) &&
    (a.error === undefined || (isStorable(a.error.code) && isStorable(a.error.message))) &&
    isStorable(a.request.url) &&
    headersStorable(a.request.headers) &&
    (a.request.body === undefined || isStorable(a.request.body)) &&
    headersStorable(a.response?.headers) &&
    (a.response?.body === undefined || isStorable(a.response.body))
  );
}

/** Replaces NUL and lone surrogates in every text field of a normalized attempt, listing each in `altered`. */
export function replaceUnstorableIn(attempt: DeliveryAttempt): void {
  if (attemptStorable(attempt)) return;
  const altered = new Set(attempt.altered);
  const text = (value: string, field: string): string => {
    const safe = replaceUnstorable(value);
    if (safe !== value) altered.add(field);
    return safe;
  };
  const headers = <T extends string | string[] | undefined>(value: Headers<T>, field: string): Headers<T> => {
    if (headersStorable(value)) return value;
    altered.add(field);
    return replaceInHeaders(value);
  };
  attempt.eventId = text(attempt.eventId, 'eventId');
  attempt.startedAt = text(attempt.startedAt, 'startedAt');
  if (attempt.tenant !== undefined) attempt.tenant = text(attempt.tenant, 'tenant');
  if (attempt.eventType !== undefined) attempt.eventType = text(attempt.eventType, 'eventType');
  if (attempt.error) {
    attempt.error.code = text(attempt.error.code, 'error.code') as typeof attempt.error.code;
    attempt.error.message = text(attempt.error.message, 'error.message');
  }
  const { request, response } = attempt;
  request.url = text(request.url, 'request.url');
  request.headers = headers(request.headers, 'request.headers');
  if (request.body !== undefined) {
    const body = storableRequestBody(request.body);
    if (body.text !== request.body) altered.add('request.body');
    if (body.cut) request.bodyTruncated = true;
    request.body = body.text;
  }
  if (response?.headers) response.headers = headers(response.headers, 'response.headers');
  if (response?.body !== undefined) response.body = text(response.body, 'response.body');
  if (altered.size > 0) attempt.altered = [...altered];
}

/**
 * What is tried when a log refuses an attempt: without the response (headers and body) and with a short error
 * message, the request body kept so the delivery can be sent again; then without the request body too.
 */
function reducedAttempts(attempt: DeliveryAttempt): DeliveryAttempt[] {
  const withoutResponse: DeliveryAttempt = {
    ...attempt,
    request: { ...attempt.request },
    altered: [...new Set([...(attempt.altered ?? []), 'response'])],
  };
  delete withoutResponse.response;
  if (attempt.error) {
    withoutResponse.error = { code: attempt.error.code, message: attempt.error.message.slice(0, 200) };
  }
  const withoutBodies: DeliveryAttempt = {
    ...withoutResponse,
    request: { url: attempt.request.url, headers: {}, bodyTruncated: true },
    altered: [...(withoutResponse.altered as string[]), 'request.headers', 'request.body'],
  };
  return [withoutResponse, withoutBodies];
}

/**
 * Records `attempt` in `log`; when the log refuses it (throws or rejects, for any reason), records the reduced forms
 * in turn until one is kept, and then reports the refusal through `onReduced`. Rejects with the first refusal when
 * every form was refused.
 */
export async function recordAttempt(
  log: DeliveryLog,
  attempt: DeliveryAttempt,
  onReduced: (refusal: unknown) => void,
): Promise<void> {
  let refusal: unknown;
  try {
    await log.record(attempt);
    return;
  } catch (error) {
    refusal = error;
  }
  for (const reduced of reducedAttempts(attempt)) {
    try {
      await log.record(reduced);
    } catch {
      continue;
    }
    onReduced(refusal);
    return;
  }
  throw refusal;
}

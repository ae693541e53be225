import { describe, OptionsError } from '../core/errors.js';
import type { DeliveryError } from '../core/types.js';
import type { DeliveryAttempt } from './delivery-log.js';
import { redactBody, redactHeaders } from './redact.js';
import { replaceUnstorableIn } from './storable-attempt.js';

/** Longest error message kept, in characters. */
const MAX_ERROR_MESSAGE = 4096;

/** `text` cut to at most `maxBytes` UTF-8 bytes, on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most strings are known to fit without encoding them.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return { text, truncated: false };
  const { read } = new TextEncoder().encodeInto(text, new Uint8Array(maxBytes));
  return { text: text.slice(0, read), truncated: true };
}

/**
 * The request of an attempt as the log keeps it: credential headers masked (`redactHeaders`), the body as it was
 * signed with the secret and credential header values masked anyway (`redactBody`: a body holds no secret by
 * construction, unless a template put one there), cut to `maxBodyBytes` (then `bodyTruncated: true`).
 */
export function requestForLog(
  request: { url: string; headers: Record<string, string>; body?: string },
  options: { secret?: string; maxBodyBytes?: number } = {},
): DeliveryAttempt['request'] {
  const logged: DeliveryAttempt['request'] = { url: request.url, headers: redactHeaders(request.headers) };
  if (typeof request.body === 'string') {
    const safe = redactBody(request.body, request.headers, options.secret) ?? '';
    if (options.maxBodyBytes === undefined) logged.body = safe;
    else {
      const { text, truncated } = truncateUtf8(safe, options.maxBodyBytes);
      logged.body = text;
      if (truncated) logged.bodyTruncated = true;
    }
  }
  return logged;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function copyHeaders<T extends string | string[] | undefined>(
  headers: unknown,
): Record<string, T> | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const source = headers as Record<string, unknown>;
  const copy: Record<string, T> = {};
  for (const name in source) {
    if (!Object.hasOwn(source, name)) continue;
    const value = source[name];
    let kept: T | undefined;
    if (typeof value === 'string') kept = value as T;
    else if (Array.isArray(value)) kept = value.map((v) => String(v)) as T;
    else kept = text(value) as T | undefined;
    if (kept === undefined) continue;
    // A header named __proto__ stays a header.
    if (name === '__proto__')
      Object.defineProperty(copy, name, { value: kept, enumerable: true, writable: true });
    else copy[name] = kept;
  }
  return copy;
}

/**
 * A copy of an attempt with only its known fields, strings where strings belong, `maxBodyBytes` applied to the
 * request and response bodies, and NUL and lone surrogates replaced (listed in `altered`, see
 * `replaceUnstorableIn()`): what a log stores, whatever it was given (a custom caller of `record` may pass
 * anything), the same on every backend. Throws when the ids are missing.
 */
export function normalizeDeliveryAttempt(input: DeliveryAttempt, maxBodyBytes?: number): DeliveryAttempt {
  if (input === null || typeof input !== 'object') {
    throw new OptionsError('attempt', `Expected \`attempt\` to be an object, got ${describe(input)}`);
  }
  for (const field of ['deliveryId', 'webhookId'] as const) {
    if (typeof input[field] !== 'string' || input[field] === '') {
      throw new OptionsError(
        `attempt.${field}`,
        `Expected \`attempt.${field}\` to be a non-empty string, got ${describe(input[field])}`,
      );
    }
  }
  const cut = (body: string | undefined) =>
    body === undefined || maxBodyBytes === undefined
      ? { text: body, truncated: false }
      : truncateUtf8(body, maxBodyBytes);
  const request = (input.request ?? {}) as Partial<DeliveryAttempt['request']>;
  const requestBody = cut(text(request.body));
  const attempt: DeliveryAttempt = {
    deliveryId: input.deliveryId,
    webhookId: input.webhookId,
    eventId: text(input.eventId) ?? '',
    attempt: typeof input.attempt === 'number' ? input.attempt : 0,
    startedAt: text(input.startedAt) ?? '',
    durationMs: typeof input.durationMs === 'number' ? input.durationMs : 0,
    ok: input.ok === true,
    request: {
      url: text(request.url) ?? '',
      headers: copyHeaders<string>(request.headers) ?? {},
    },
  };
  const tenant = text(input.tenant);
  if (tenant !== undefined) attempt.tenant = tenant;
  const eventType = text(input.eventType);
  if (eventType !== undefined) attempt.eventType = eventType;
  if (typeof input.status === 'number') attempt.status = input.status;
  if (input.error && typeof input.error === 'object') {
    attempt.error = {
      code: (text(input.error.code) ?? 'UNKNOWN') as DeliveryError['code'],
      message: (text(input.error.message) ?? '').slice(0, MAX_ERROR_MESSAGE),
    };
  }
  if (requestBody.text !== undefined) attempt.request.body = requestBody.text;
  if (request.bodyTruncated === true || requestBody.truncated) attempt.request.bodyTruncated = true;
  if (input.response && typeof input.response === 'object') {
    const response: NonNullable<DeliveryAttempt['response']> = {};
    const headers = copyHeaders<string | string[] | undefined>(input.response.headers);
    if (headers) response.headers = headers;
    const body = cut(text(input.response.body)).text;
    if (body !== undefined) response.body = body;
    attempt.response = response;
  }
  if (input.redelivery === true) attempt.redelivery = true;
  if (Array.isArray(input.altered)) attempt.altered = input.altered.filter((f) => typeof f === 'string');
  replaceUnstorableIn(attempt);
  return attempt;
}

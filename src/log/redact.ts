import { isSensitiveHeader } from '../rendering/sensitive-headers.js';

/** A copy of request headers safe to keep: credentials and signatures are masked. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const safe: Record<string, string> = {};
  for (const name in headers) {
    safe[name] = isSensitiveHeader(name) ? '[redacted]' : (headers[name] as string);
  }
  return safe;
}

/** A challenge, not a credential: it says how to authenticate, and is worth keeping to debug a 401. */
const CHALLENGE_HEADERS = new Set(['www-authenticate', 'proxy-authenticate']);

/**
 * Response headers safe to keep: receivers that echo the request back may do it in headers too. Credential-like
 * names (`authorization`, `x-api-key`, `set-cookie`, ...) are masked as in requests, and in every other value the
 * request's credentials and `secret` are masked as in a response body ({@link redactBody}).
 */
export function redactResponseHeaders(
  headers: Record<string, string | string[] | undefined> | undefined,
  requestHeaders: Record<string, string>,
  secret: string | undefined,
): Record<string, string | string[] | undefined> | undefined {
  if (headers === undefined || headers === null) return headers;
  const safe: Record<string, string | string[] | undefined> = {};
  const mask = (value: string | undefined) => redactBody(value, requestHeaders, secret);
  for (const name in headers) {
    const value = headers[name];
    if (isSensitiveHeader(name) && !CHALLENGE_HEADERS.has(name.toLowerCase())) safe[name] = '[redacted]';
    else safe[name] = Array.isArray(value) ? value.map((item) => mask(item) ?? '') : mask(value);
  }
  return safe;
}

// Shorter strings are too likely to be ordinary words ("Bearer", "Basic") to be masked everywhere.
const MIN_MASKED_LENGTH = 8;

/**
 * A response body safe to keep: receivers that echo the request back (debug endpoints, error pages) would
 * otherwise put the request's credentials, or the webhook's secret, into the log. Masks the values of sensitive
 * request headers, each of their space-separated parts (the token of `Bearer <token>`) and `secret`.
 */
export function redactBody(
  body: string | undefined,
  headers: Record<string, string>,
  secret: string | undefined,
): string | undefined {
  if (!body) return body;
  let safe = body;
  const mask = (needle: string) => {
    if (needle.length >= MIN_MASKED_LENGTH && safe.includes(needle))
      safe = safe.replaceAll(needle, '[redacted]');
  };
  if (secret !== undefined) mask(secret);
  for (const name in headers) {
    if (!isSensitiveHeader(name)) continue;
    const value = headers[name] as string;
    mask(value);
    for (const part of value.split(' ')) mask(part);
  }
  return safe;
}

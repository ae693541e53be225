import { OptionsError } from './errors.js';
import { isSensitiveHeader } from './headers.js';
import type { DeliveryError } from './types.js';

/** One HTTP attempt of a delivery, as the delivery log keeps it. */
export interface DeliveryAttempt {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  /** 1-based. */
  attempt: number;
  /** ISO-8601 time the attempt started. */
  startedAt: string;
  durationMs: number;
  ok: boolean;
  status?: number;
  error?: DeliveryError;
  request: { url: string; headers: Record<string, string> };
  /** Response headers and the start of the response body (capped by the transport). */
  response?: { headers?: Record<string, string | string[] | undefined>; body?: string };
}

/** Where every attempt is recorded. Pluggable, so a database can keep the history. */
export interface DeliveryLog {
  record(attempt: DeliveryAttempt): void | Promise<void>;
  /** Newest first. */
  list(webhookId: string, options?: { limit?: number }): Promise<DeliveryAttempt[]>;
}

export interface MemoryDeliveryLogOptions {
  /** Attempts kept per webhook (the newest). @default 100 */
  perWebhook?: number;
  /** Webhooks with a history at most; the least recently written history is dropped first. @default 10_000 */
  maxWebhooks?: number;
}

/** The default delivery log: a ring buffer of the newest attempts per webhook, in memory. */
export function memoryDeliveryLog(options: MemoryDeliveryLogOptions = {}): DeliveryLog {
  const perWebhook = options.perWebhook ?? 100;
  const maxWebhooks = options.maxWebhooks ?? 10_000;
  for (const [field, value] of [
    ['perWebhook', perWebhook],
    ['maxWebhooks', maxWebhooks],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new OptionsError(field, `Expected \`${field}\` to be a positive integer, got ${String(value)}`);
    }
  }
  const rings = new Map<string, { items: DeliveryAttempt[]; next: number }>();

  return {
    record(attempt) {
      let ring = rings.get(attempt.webhookId);
      if (ring) {
        // Re-insert to keep the map in least-recently-written order.
        rings.delete(attempt.webhookId);
      } else {
        ring = { items: [], next: 0 };
        if (rings.size >= maxWebhooks) rings.delete(rings.keys().next().value as string);
      }
      rings.set(attempt.webhookId, ring);
      if (ring.items.length < perWebhook) ring.items.push(attempt);
      else ring.items[ring.next] = attempt;
      ring.next = (ring.next + 1) % perWebhook;
    },
    async list(webhookId, { limit = perWebhook } = {}) {
      const ring = rings.get(webhookId);
      if (!ring) return [];
      const { items, next } = ring;
      const ordered =
        items.length < perWebhook ? items.slice() : [...items.slice(next), ...items.slice(0, next)];
      return ordered.reverse().slice(0, limit);
    },
  };
}

/** A copy of request headers safe to keep: credentials and signatures are masked. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const safe: Record<string, string> = {};
  for (const name in headers) {
    safe[name] = isSensitiveHeader(name) ? '[redacted]' : (headers[name] as string);
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

import { createHash } from 'node:crypto';
import type { WebhookEvent } from '../core/types.js';
import type { DeliveryJob } from '../delivery/queue.js';

/**
 * Why the durable queues store an event's body once: a job that carried its own copy made a fan-out cost the event
 * size times the number of webhooks (a 200 KB event to 3,000 webhooks was one 600 MB insert, past V8's longest
 * string). The jobs of one emit refer to one stored body by this key instead; a single job keeps its body inline.
 */

/** The key of a stored event body: its SHA-256, so the same body is stored under the same key (idempotent). */
export function eventBodyKey(eventBody: string): string {
  return createHash('sha256').update(eventBody, 'utf8').digest('base64url');
}

/** The key the jobs of one emit share, or undefined when each job keeps its body inline (one job: stored once). */
export function sharedBodyKey(jobs: readonly DeliveryJob[]): string | undefined {
  const first = jobs[0];
  if (first === undefined || jobs.length < 2) return first?.eventBodyRef;
  if (first.eventBodyRef !== undefined) return first.eventBodyRef;
  return jobs.every((job) => job.eventBody === first.eventBody) ? eventBodyKey(first.eventBody) : undefined;
}

export interface StoredBody {
  eventBody: string;
  /** Parsed once and shared by the jobs of the body, as the jobs of one emit share it in memory. */
  event: WebhookEvent;
}

/** Reads a stored body by key: `undefined` when there is none (never written, or removed). */
export type BodyLoader = (key: string) => Promise<string | undefined>;

/**
 * The bodies a worker read lately, by key: the jobs of one fan-out fetched in many batches read their body once,
 * and concurrent reads of one key share one query. Bounded by bytes (oldest first out).
 */
export function bodyCache(load: BodyLoader, maxBytes = 32 * 1024 * 1024) {
  const entries = new Map<string, { body: Promise<StoredBody | undefined>; bytes: number }>();
  let bytes = 0;
  const forget = (key: string) => {
    bytes -= entries.get(key)?.bytes ?? 0;
    entries.delete(key);
  };
  return (key: string): Promise<StoredBody | undefined> => {
    const cached = entries.get(key);
    if (cached !== undefined) return cached.body;
    const entry = { body: load(key).then(parseBody), bytes: 0 };
    entries.set(key, entry);
    entry.body.then(
      (body) => {
        if (entries.get(key) !== entry) return;
        // A missing body is not remembered: the next job asks again.
        if (body === undefined) return forget(key);
        entry.bytes = body.eventBody.length;
        bytes += entry.bytes;
        for (const oldest of entries.keys()) {
          if (bytes <= maxBytes || oldest === key) break;
          forget(oldest);
        }
      },
      () => {
        if (entries.get(key) === entry) forget(key);
      },
    );
    return entry.body;
  };
}

/** A body and its event object, or undefined when it is not one (a row written around this library). */
export function parseBody(eventBody: unknown): StoredBody | undefined {
  if (typeof eventBody !== 'string') return undefined;
  let event: unknown;
  try {
    event = JSON.parse(eventBody);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  return { eventBody, event: event as WebhookEvent };
}

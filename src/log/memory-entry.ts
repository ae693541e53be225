import type { DeliveryAttempt, DeliveryRecord, DeliveryRef, DeliveryStatus } from './delivery-log.js';

// Estimated bytes of the objects around the strings (V8 objects, numbers, Map and array slots). Strings are
// counted as two bytes per UTF-16 unit, which over-counts one-byte strings: the estimate errs on the safe side.
const ATTEMPT_OVERHEAD = 400;
export const DELIVERY_OVERHEAD = 500;
const HEADER_OVERHEAD = 64;
/** A webhook's history, or a tenant's index, plus its key. */
export const INDEX_OVERHEAD = 300;

/** A delivery in the memory log. */
export interface Entry {
  seq: number;
  live: boolean;
  deliveryId: string;
  webhookId: string;
  eventId: string;
  tenant?: string;
  eventType?: string;
  createdAt: string;
  createdMs: number;
  /** Oldest first. */
  attempts: DeliveryAttempt[];
  /** Estimated bytes of each attempt, parallel to `attempts`. */
  sizes: number[];
  bytes: number;
  /** The log's clock when the latest attempt was recorded. */
  writtenAt: number;
}

function headerChars(headers: Record<string, string | string[] | undefined> | undefined): number {
  if (!headers) return 0;
  let chars = 0;
  for (const name in headers) {
    const value = headers[name];
    chars += name.length + HEADER_OVERHEAD / 2;
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value)) for (const v of value) chars += v.length + HEADER_OVERHEAD / 2;
  }
  return chars;
}

/** Estimated bytes an attempt takes in memory, its request body counted only when `countBody`. */
export function attemptBytes(a: DeliveryAttempt, countBody: boolean): number {
  let chars =
    a.deliveryId.length +
    a.webhookId.length +
    a.eventId.length +
    a.startedAt.length +
    (a.tenant?.length ?? 0) +
    (a.eventType?.length ?? 0) +
    a.request.url.length +
    headerChars(a.request.headers);
  if (countBody) chars += a.request.body?.length ?? 0;
  if (a.error) chars += a.error.code.length + a.error.message.length;
  if (a.response) chars += headerChars(a.response.headers) + (a.response.body?.length ?? 0);
  return ATTEMPT_OVERHEAD + 2 * chars;
}

export const latestOf = (entry: Entry): DeliveryAttempt =>
  entry.attempts[entry.attempts.length - 1] as DeliveryAttempt;

export const statusOf = (entry: Entry): DeliveryStatus => (latestOf(entry).ok ? 'delivered' : 'failed');

export function toRecord(entry: Entry): DeliveryRecord {
  const latest = latestOf(entry);
  const record: DeliveryRecord = {
    deliveryId: entry.deliveryId,
    webhookId: entry.webhookId,
    eventId: entry.eventId,
    status: latest.ok ? 'delivered' : 'failed',
    createdAt: entry.createdAt,
    updatedAt: latest.startedAt,
    attempts: entry.attempts.map(cloneAttempt).reverse(),
  };
  if (entry.tenant !== undefined) record.tenant = entry.tenant;
  if (entry.eventType !== undefined) record.eventType = entry.eventType;
  return record;
}

export function toRef(entry: Entry): DeliveryRef {
  const ref: DeliveryRef = {
    deliveryId: entry.deliveryId,
    webhookId: entry.webhookId,
    createdAt: entry.createdAt,
  };
  if (entry.tenant !== undefined) ref.tenant = entry.tenant;
  return ref;
}

/** A copy a caller may change without changing the log. */
function cloneAttempt(a: DeliveryAttempt): DeliveryAttempt {
  const copy: DeliveryAttempt = { ...a, request: { ...a.request, headers: { ...a.request.headers } } };
  if (a.error) copy.error = { ...a.error };
  if (a.altered) copy.altered = [...a.altered];
  if (a.response) {
    copy.response = { ...a.response };
    if (a.response.headers) copy.response.headers = { ...a.response.headers };
  }
  return copy;
}

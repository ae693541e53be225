import { describe, OptionsError } from '../core/errors.js';
import { numberOption } from '../core/option-checks.js';
import { isStorable } from '../core/storable-text.js';
import type { DeliveryQuery, DeliverySearch, DeliveryStatus } from './delivery-log.js';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 1000;

/** A query, validated: every bound explicit. */
export interface NormalizedDeliveryQuery {
  status?: DeliveryStatus;
  /** Inclusive. */
  sinceMs: number;
  /** Exclusive. */
  untilMs: number;
  limit: number;
  /** Exclusive: items strictly older than this position. */
  after?: { ms: number; id: string };
  /** Only this tenant's deliveries (a `DeliverySearch`). */
  tenant?: string;
  /** Only this webhook's deliveries (a `DeliverySearch`). */
  webhookId?: string;
}

/**
 * Validates a `DeliveryQuery` (or a `DeliverySearch`, with `tenant` and `webhookId`) with the options message
 * pattern (throws `OptionsError`).
 */
export function normalizeDeliveryQuery(
  query: DeliveryQuery | DeliverySearch | undefined,
): NormalizedDeliveryQuery {
  if (query === undefined || query === null) {
    return {
      sinceMs: Number.NEGATIVE_INFINITY,
      untilMs: Number.POSITIVE_INFINITY,
      limit: DEFAULT_LIST_LIMIT,
    };
  }
  if (typeof query !== 'object') {
    throw new OptionsError('query', `Expected \`query\` to be an object, got ${describe(query)}`);
  }
  const { status, since, until, cursor } = query;
  if (status !== undefined && status !== 'delivered' && status !== 'failed') {
    throw new OptionsError(
      'status',
      `Expected \`status\` to be 'delivered' or 'failed', got ${describe(status)}`,
    );
  }
  const limit = numberOption('limit', query.limit, DEFAULT_LIST_LIMIT, {
    positive: true,
    integer: true,
    max: MAX_LIST_LIMIT,
  });
  const normalized: NormalizedDeliveryQuery = {
    sinceMs: since === undefined ? Number.NEGATIVE_INFINITY : timeOption('since', since),
    untilMs: until === undefined ? Number.POSITIVE_INFINITY : timeOption('until', until),
    limit,
  };
  if (status !== undefined) normalized.status = status;
  if (cursor !== undefined) normalized.after = decodeDeliveryCursor(cursor);
  const { tenant, webhookId } = query as DeliverySearch;
  if (tenant !== undefined) normalized.tenant = idOption('tenant', tenant);
  if (webhookId !== undefined) normalized.webhookId = idOption('webhookId', webhookId);
  return normalized;
}

function idOption(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 4096) {
    throw new OptionsError(
      field,
      `Expected \`${field}\` to be a non-empty string of at most 4096 characters, got ${describe(value)}`,
    );
  }
  return value;
}

export function timeOption(field: string, value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    const got = value instanceof Date ? 'an invalid Date' : describe(value);
    throw new OptionsError(field, `Expected \`${field}\` to be a Date or epoch ms, got ${got}`);
  }
  return ms;
}

/** An opaque cursor: base64url of the position (createdAt in epoch ms, deliveryId) of the page's last item. */
export function encodeDeliveryCursor(ms: number, deliveryId: string): string {
  return Buffer.from(JSON.stringify([ms, deliveryId])).toString('base64url');
}

export function decodeDeliveryCursor(cursor: unknown): { ms: number; id: string } {
  if (typeof cursor === 'string' && cursor.length <= 4096) {
    try {
      const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
      if (
        Array.isArray(value) &&
        value.length === 2 &&
        typeof value[0] === 'number' &&
        Number.isFinite(value[0]) &&
        typeof value[1] === 'string' &&
        // No log wrote it: Postgres cannot even compare one.
        isStorable(value[1])
      ) {
        return { ms: value[0], id: value[1] };
      }
    } catch {
      // Reported below.
    }
  }
  throw new OptionsError(
    'cursor',
    `Expected \`cursor\` to be the nextCursor of a previous page, got ${describe(typeof cursor === 'string' ? `${cursor.slice(0, 40)}` : cursor)}`,
  );
}

import { describe, WebhookValidationError } from '../core/errors.js';
import type { SignatureScheme } from '../core/types.js';

// The checks of single webhook fields that both saving (`buildWebhook`) and compiling (`compileWebhook`) run.

/** Deliveries per second at most that `rateLimit` accepts (the lane keeps one timestamp per delivery of a second). */
export const MAX_RATE_LIMIT = 10_000;
export const SCHEMES: readonly SignatureScheme[] = ['launchdarkly', 'standard', 'both'];

export function invalid(field: string, expected: string, value: unknown): WebhookValidationError {
  return new WebhookValidationError(field, `Expected \`${field}\` to be ${expected}, got ${describe(value)}`);
}

/** Entries of `events` or `tags` at most (Unleash has 177 event types). */
const MAX_LIST_ENTRIES = 1_000;

export function stringList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'an array of strings', value);
  if (value.length > MAX_LIST_ENTRIES) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to have at most ${MAX_LIST_ENTRIES} entries, got ${value.length}.`,
    );
  }
  value.forEach((item, i) => {
    if (typeof item !== 'string' || item === '') throw invalid(`${field}[${i}]`, 'a non-empty string', item);
  });
  return [...value];
}

export function validateRateLimit(value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > MAX_RATE_LIMIT ||
    !Number.isInteger(value)
  ) {
    throw invalid(
      'rateLimit',
      `a positive integer of at most ${MAX_RATE_LIMIT} (deliveries per second)`,
      value,
    );
  }
  return value;
}

/** A stored record's `ordering` (create and update check it by its declared schema). */
export function validateOrdering(value: unknown): void {
  if (value !== 'fifo') throw invalid('ordering', "'fifo' (or absent: unordered)", value);
}

const MAX_TENANT_LENGTH = 256;

/** Validates a tenant id: a non-empty string of printable characters. Tenants are compared exactly. */
export function validateTenant(value: unknown, field = 'tenant'): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_TENANT_LENGTH ||
    value.trim() !== value ||
    /[\p{C}]/u.test(value)
  ) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to be a non-empty string of at most ${MAX_TENANT_LENGTH} printable characters without leading or trailing spaces, got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value}`,
    );
  }
  return value;
}

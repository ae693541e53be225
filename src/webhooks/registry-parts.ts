import { within } from '../core/deadline.js';
import { errorMessage, WebhookError } from '../core/errors.js';
import type { Webhook } from '../core/types.js';

// The registry's plain parts: its public shapes, the store call with a deadline, and record checks.

export interface ListOptions {
  /** Only this tenant's webhooks; `null`: only webhooks without a tenant; absent: every webhook. */
  tenant?: string | null;
}

/** What a dispatcher's webhook index holds now. */
export interface IndexStats {
  /** Webhooks indexed (compiled, in memory). */
  webhooks: number;
  /** Tenants whose webhooks are indexed. */
  tenants: number;
  /** Estimated heap of the indexed tenants' webhooks, which `maxIndexBytes` bounds (0 when every tenant is kept). */
  bytes: number;
  /** Whether tenants are read on demand (the store has `listTenant`) rather than all kept. */
  onDemand: boolean;
}

/** A store call with a deadline; a throw, a rejection and a timeout all become a WebhookError. */
export function storeCall<T>(method: string, call: () => Promise<T>, timeoutMs: number): Promise<T> {
  return within(
    call,
    timeoutMs,
    () =>
      new WebhookError(
        'ERR_STORE_TIMEOUT',
        `webhook store: ${method}() did not answer within ${timeoutMs} ms`,
      ),
  ).catch((error: unknown) => {
    throw error instanceof WebhookError
      ? error
      : new WebhookError('ERR_STORE_FAILED', `webhook store: ${method}() failed: ${errorMessage(error)}`, {
          cause: error,
        });
  });
}

export function tenantLimitError(tenant: string, count: number): WebhookError {
  return new WebhookError(
    'ERR_TENANT_LIMIT',
    `tenant "${tenant}" already has ${count} webhooks, the most allowed`,
  );
}

export function storeFailed(method: string, what: string): WebhookError {
  return new WebhookError('ERR_STORE_FAILED', `webhook store: ${method}() ${what}`);
}

export function isRecord(value: unknown): value is Webhook {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Webhook).id === 'string'
  );
}

export function byCreation(
  a: Pick<Webhook, 'createdAt' | 'id'>,
  b: Pick<Webhook, 'createdAt' | 'id'>,
): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** JSON with object keys sorted, so records are compared by value whatever order a database returns keys in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v as object).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

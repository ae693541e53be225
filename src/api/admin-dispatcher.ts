import type { DeliveryResult, WebhookEvent, WebhookInput, WebhookPatch } from '../core/types.js';
import type { EventCatalog } from '../events/event-catalog.js';
import type { StoredWebhook } from './view.js';

/** One recorded delivery as the delivery log keeps it (attempts newest first). */
export interface AdminDeliveryRecord {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  tenant?: string;
  eventType?: string;
  status: 'delivered' | 'failed';
  createdAt: string;
  updatedAt: string;
  attempts: Array<{
    attempt: number;
    startedAt: string;
    durationMs: number;
    ok: boolean;
    status?: number;
    error?: { code: string; message: string };
    redelivery?: boolean;
    altered?: string[];
    request: { url: string; headers: Record<string, string>; body?: string; bodyTruncated?: boolean };
    response?: { headers?: Record<string, unknown>; body?: string };
  }>;
}

/** The filters and page of a deliveries listing. */
export interface AdminDeliveryQuery {
  status?: 'delivered' | 'failed';
  since?: number;
  until?: number;
  limit?: number;
  cursor?: string;
}

/** A webhook's delivery figures, as `deliveries.stats` answers them. */
export interface AdminWebhookStats {
  delivered: number;
  failed: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  lastDeliveredAt: string | null;
  lastFailedAt: string | null;
}

/**
 * What the admin API calls on the dispatcher: exactly these methods (a `WebhookDispatcher` has them). Every call
 * that reads or lists passes the request's tenant; a call by id is made only after the webhook (or delivery) was
 * found to belong to that tenant.
 */
export interface AdminDispatcher {
  readonly webhooks: {
    create(input: WebhookInput & { tenant?: string }): Promise<StoredWebhook>;
    get(id: string): Promise<StoredWebhook | undefined>;
    /** Oldest first (by `createdAt`, then `id`): the route pages over it. */
    list(options: { tenant: string | null }): Promise<StoredWebhook[]>;
    update(id: string, patch: WebhookPatch): Promise<StoredWebhook>;
    delete(id: string): Promise<boolean>;
    rotateSecret(id: string): Promise<StoredWebhook>;
  };
  readonly deliveries: {
    list(
      webhookId: string,
      query: AdminDeliveryQuery,
    ): Promise<{ items: AdminDeliveryRecord[]; nextCursor?: string }>;
    /**
     * Deliveries across the tenant's webhooks, newest first (`GET /deliveries`). `tenant` is always the request's
     * own (`null`: the webhooks of no tenant), never taken from the query.
     */
    list(
      query: AdminDeliveryQuery & { tenant: string | null; webhookId?: string },
    ): Promise<{ items: AdminDeliveryRecord[]; nextCursor?: string }>;
    get(deliveryId: string): Promise<AdminDeliveryRecord | undefined>;
    redeliver(deliveryId: string, options: { force?: boolean }): Promise<DeliveryResult>;
    /** How many deliveries were queued for re-sending (they go on through the lanes). */
    recover(webhookId: string, options: { since: number; until?: number }): Promise<number>;
    /** Every delivery of the tenant's webhooks still failed in the window (`POST /deliveries/recover`). */
    recover(options: {
      since: number;
      until?: number;
      tenant: string | null;
      webhookId?: string;
    }): Promise<number>;
    /** A webhook's delivery figures (`GET /webhooks/:id/stats`), asked only for a webhook of the tenant. */
    stats(webhookId: string, query: { since?: number }): Promise<AdminWebhookStats>;
  };
  test(id: string): Promise<DeliveryResult>;
  /** The exact request for a saved webhook or an unsaved input (`POST /webhooks/preview`). */
  preview(
    webhook: string | WebhookInput,
    event?: WebhookEvent,
  ): Promise<{ url: string; method: string; headers: Record<string, string>; body: string }>;
  readonly eventTypes?: EventCatalog;
}

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
      query: {
        status?: 'delivered' | 'failed';
        since?: number;
        until?: number;
        limit?: number;
        cursor?: string;
      },
    ): Promise<{ items: AdminDeliveryRecord[]; nextCursor?: string }>;
    get(deliveryId: string): Promise<AdminDeliveryRecord | undefined>;
    redeliver(deliveryId: string, options: { force?: boolean }): Promise<DeliveryResult>;
    /** How many deliveries were queued for re-sending (they go on through the lanes). */
    recover(webhookId: string, options: { since: number; until?: number }): Promise<number>;
  };
  test(id: string): Promise<DeliveryResult>;
  /** The exact request for a saved webhook or an unsaved input (`POST /webhooks/preview`). */
  preview(
    webhook: string | WebhookInput,
    event?: WebhookEvent,
  ): Promise<{ url: string; method: string; headers: Record<string, string>; body: string }>;
  readonly eventTypes?: EventCatalog;
}

import type { AdminDispatcher } from '../../src/api/index.js';
import type { EventCatalog, WebhookDispatcher } from '../../src/index.js';

/**
 * The dispatcher the API is tested against: the real one, as it is. While the dispatcher does not take an event
 * catalog yet (`createWebhookDispatcher({ eventTypes })`), the catalog the test asked for is supplied beside it, so
 * `GET /event-types` can be tested; every other method is the dispatcher's own.
 */
export function adminDispatcher(real: WebhookDispatcher, eventTypes?: EventCatalog): AdminDispatcher {
  const admin: AdminDispatcher = real;
  if (admin.eventTypes !== undefined || eventTypes === undefined) return admin;
  return Object.create(admin, { eventTypes: { value: eventTypes } }) as AdminDispatcher;
}

// The admin API's one route table: each row is a route, its handler and its OpenAPI operation. The router matches
// requests against it in this order (`/webhooks/:id` before `/webhooks/preview`: a POST to the latter is not one of
// the former's methods), and `createOpenApiDocument()` derives the document's `paths` from it.
import type { Route } from './route.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { operationRoutes } from './routes/operations.js';
import { webhookActionRoutes } from './routes/webhook-actions.js';
import { webhookRoutes } from './routes/webhooks.js';

export const ROUTES: readonly Route[] = [
  ...webhookRoutes,
  ...webhookActionRoutes,
  ...deliveryRoutes,
  ...operationRoutes,
];

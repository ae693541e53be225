// Deliveries by id, the event catalog, and the API's own OpenAPI document.
import { jsonBody } from '../body.js';
import { toDeliveryView } from '../delivery-view.js';
import { JSON_HEADERS, json } from '../http.js';
import { BODY_ERRORS, body, ERRORS, ok } from '../openapi-parts.js';
import type { Route } from '../route.js';
import { RedeliverBody } from '../schemas.js';
import { check } from '../validate.js';

const DELIVERY_ID = { id: 'Delivery id (the `webhook-id` header of its requests).' };

export const deliveryRoutes: Route[] = [
  {
    method: 'GET',
    path: '/deliveries/:id',
    params: DELIVERY_ID,
    openapi: {
      operationId: 'getDelivery',
      summary: 'Get a delivery with its attempts',
      responses: { '200': ok('The delivery.', 'DeliveryRecord'), ...ERRORS },
    },
    async handle({ params, tenant, api }) {
      return json(200, toDeliveryView(await api.guard.delivery(params[0]!, tenant)));
    },
  },
  {
    method: 'POST',
    path: '/deliveries/:id/redeliver',
    params: DELIVERY_ID,
    openapi: {
      operationId: 'redeliver',
      summary: 'Send a delivery again',
      requestBody: body('RedeliverRequest', false),
      responses: { '200': ok('The delivery result.', 'DeliveryResult'), ...BODY_ERRORS, ...ERRORS },
    },
    async handle({ request, params, tenant, api }) {
      const body = await jsonBody(request, api.maxBodyBytes, ['json']);
      const value = body?.value ?? {};
      check(RedeliverBody, value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
      await api.guard.delivery(params[0]!, tenant);
      const force = (value as { force?: boolean }).force;
      return json(
        200,
        await api.dispatcher.deliveries.redeliver(params[0]!, force === undefined ? {} : { force }),
      );
    },
  },
  {
    method: 'GET',
    path: '/event-types',
    openapi: {
      operationId: 'listEventTypes',
      summary: "The dispatcher's event catalog",
      responses: { '200': ok('The event types.', 'EventTypeList'), '401': ERRORS['401'] },
    },
    async handle({ api }) {
      const catalog = api.dispatcher.eventTypes;
      if (catalog === undefined) return json(200, { catalog: null, items: [] });
      const items = catalog.names.map((type) => {
        const definition = catalog.types[type]!;
        return {
          type,
          description: definition.description,
          ...(definition.deprecated ? { deprecated: true } : {}),
          ...(definition.schema === undefined ? {} : { schema: definition.schema }),
        };
      });
      return json(200, { catalog: catalog.name, items });
    },
  },
  {
    // The document itself is not one of its operations.
    method: 'GET',
    path: '/openapi.json',
    async handle({ api }) {
      return new Response(api.openApi(), {
        status: 200,
        headers: { ...JSON_HEADERS, 'cache-control': 'no-cache' },
      });
    },
  },
];

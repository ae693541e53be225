// Placeholder owned by the portal helper (src/api/portal/*): the admin API serves `GET /` and `GET /assets/*` from
// the routes returned here when `createWebhookApi({ portal })` is set. Until the portal lands it serves nothing,
// so those paths answer 404.

/** Options of the portal page (`createWebhookApi({ portal: { ... } })`). */
export interface PortalOptions {
  /** Page title. */
  title?: string;
}

/** What a portal route is given besides the request. */
export interface PortalContext {
  /** Where the API is mounted (`''` or `/webhooks-api`): the page calls `${basePath}/webhooks`. */
  basePath: string;
  /** The request's tenant (as the resolver returned it); null for the no-tenant scope. */
  tenant: string | null;
  /** The path below basePath: `/` or `/assets/...`. */
  path: string;
}

/** One route the portal serves: `path` is `/` or a prefix ending in `/*` (`/assets/*`). */
export interface PortalRoute {
  method: 'GET';
  path: string;
  handle(request: Request, context: PortalContext): Response | Promise<Response>;
}

/** The portal's routes. The placeholder has none. */
export function portalRoutes(_options: PortalOptions = {}): PortalRoute[] {
  return [];
}

import { ApiError, toApiError } from './errors.js';
import { errorResponse } from './http.js';
import type { IdempotencyCache } from './idempotency.js';
import type { PortalRoute } from './portal/index.js';
import type { ApiServices, Route } from './route.js';

interface Compiled {
  route: Route;
  segments: string[];
}

export interface RouterOptions {
  basePath: string;
  portal: PortalRoute[];
  services: ApiServices;
  /** Undefined: `Idempotency-Key` is ignored. */
  idempotency: IdempotencyCache | undefined;
  onError: ((error: unknown, request: Request) => void) | undefined;
}

/** Path parameters longer than this match no route (404). */
const MAX_PARAM_LENGTH = 256;

/**
 * Finds the route of a request (or the portal page), resolves the tenant, runs the handler, and turns every error
 * into the API's error body. 404 outside basePath or for an unknown path, 405 with `Allow` for a known path.
 */
export class Router {
  readonly #routes: Compiled[];
  readonly #options: RouterOptions;

  constructor(routes: readonly Route[], options: RouterOptions) {
    this.#routes = routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
    this.#options = options;
  }

  async handle(request: Request, raw: unknown): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(new ApiError(400, 'ERR_NOT_FOUND', 'Invalid request URL'));
    }
    try {
      return await this.#route(request, url, raw);
    } catch (error) {
      const answer = toApiError(error, 'url');
      if (answer.status >= 500 && this.#options.onError) {
        try {
          this.#options.onError(answer.cause ?? error, request);
        } catch {
          // A failing error hook must not turn a 500 into a crash.
        }
      }
      return errorResponse(answer);
    }
  }

  async #route(request: Request, url: URL, raw: unknown): Promise<Response> {
    const { basePath, services, idempotency } = this.#options;
    const notFound = () => new ApiError(404, 'ERR_NOT_FOUND', `No route ${request.method} ${url.pathname}`);
    const below = this.#below(url.pathname);
    if (below === undefined) throw notFound();
    const page = this.#portalRoute(request.method, below.path);
    if (page !== undefined) {
      const tenant = await services.guard.resolve(request, raw);
      return await page.handle(request, { basePath, tenant, path: below.path });
    }
    const found = this.#match(request.method, below.segments);
    if (found === undefined) throw notFound();
    if ('allow' in found) {
      const allow = found.allow.join(', ');
      throw new ApiError(
        405,
        'ERR_METHOD_NOT_ALLOWED',
        `${request.method} is not allowed here; allowed: ${allow}`,
        {
          headers: { allow },
        },
      );
    }
    const tenant = await services.guard.resolve(request, raw);
    const run = (req: Request) =>
      found.route.handle({ request: req, url, params: found.params, tenant, api: services });
    const key = request.headers.get('idempotency-key');
    if (key === null || request.method !== 'POST' || idempotency === undefined) return await run(request);
    return await idempotency.run(tenant, key, request, services.maxBodyBytes, run);
  }

  /** The path below basePath and its segments, decoded; undefined when outside it or not decodable. */
  #below(pathname: string): { path: string; segments: string[] } | undefined {
    const { basePath } = this.#options;
    if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined;
    const path = pathname.slice(basePath.length) || '/';
    try {
      const segments = path
        .split('/')
        .filter((segment) => segment !== '')
        .map(decodeURIComponent);
      return { path, segments };
    } catch {
      return undefined;
    }
  }

  #portalRoute(method: string, path: string): PortalRoute | undefined {
    if (method !== 'GET') return undefined;
    return this.#options.portal.find((route) =>
      route.path.endsWith('/*') ? path.startsWith(route.path.slice(0, -1)) : route.path === path,
    );
  }

  #match(
    method: string,
    segments: string[],
  ): { route: Route; params: string[] } | { allow: string[] } | undefined {
    const allow: string[] = [];
    for (const { route, segments: parts } of this.#routes) {
      if (parts.length !== segments.length) continue;
      const params: string[] = [];
      const fits = parts.every((part, i) => {
        if (!part.startsWith(':')) return part === segments[i];
        params.push(segments[i]!);
        return segments[i]!.length <= MAX_PARAM_LENGTH;
      });
      if (!fits) continue;
      if (route.method === method) return { route, params };
      allow.push(route.method);
    }
    return allow.length > 0 ? { allow } : undefined;
  }
}

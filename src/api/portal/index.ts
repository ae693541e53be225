import { createHash } from 'node:crypto';
import { OptionsError } from '../../extend.js';
import { PORTAL_JS } from './assets.generated.js';
import { PORTAL_CSS } from './portal-css.js';
import { portalHtml } from './portal-html.js';

/** Options of the portal page (`createWebhookApi({ portal: { ... } })`). */
export interface PortalOptions {
  /**
   * Title of the page and its main heading.
   * @default 'Webhooks'
   */
  title?: string;
  /**
   * Extra stylesheets loaded after the portal's own, to theme it through its CSS custom properties
   * (`--wp-accent`, `--wp-bg`, ...). Same-origin URLs only (the Content-Security-Policy says `style-src 'self'`);
   * relative URLs resolve against the page.
   * @example stylesheets: ['/static/webhooks-theme.css']
   */
  stylesheets?: string[];
}

/** What a portal route is given besides the request. */
export interface PortalContext {
  /** Where the API is mounted (`''` or `/webhooks-api`). The page needs none of it: its URLs are relative. */
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

/** The Content-Security-Policy of the page: nothing inline, nothing from another origin. */
export const PORTAL_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/** The header the page sends on every API request, so a host can require it (CSRF defence in depth). */
export const PORTAL_REQUEST_HEADER = { name: 'x-requested-with', value: 'webhook-portal' } as const;

interface Asset {
  body: string;
  type: string;
  etag: string;
}

const asset = (body: string, type: string): Asset => ({
  body,
  type,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
});

const ASSETS: Record<string, Asset> = {
  '/assets/portal.js': asset(PORTAL_JS, 'text/javascript; charset=utf-8'),
  '/assets/portal.css': asset(PORTAL_CSS, 'text/css; charset=utf-8'),
};

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * The webhook portal's routes: `GET /` serves the page, `GET /assets/portal.js` and `/assets/portal.css` its
 * script and stylesheet. The page talks only to the admin API it is mounted with, through URLs relative to itself,
 * so it works under any path prefix. `createWebhookApi({ portal: true })` mounts them.
 *
 * @example
 * const [page, assets] = portalRoutes({ title: 'Acme webhooks' });
 */
export function portalRoutes(options: PortalOptions = {}): PortalRoute[] {
  const title = options.title ?? 'Webhooks';
  if (typeof title !== 'string' || title.trim() === '') {
    throw new OptionsError(
      'title',
      `Expected \`title\` to be a non-empty string, got ${JSON.stringify(title)}`,
    );
  }
  const stylesheets = options.stylesheets ?? [];
  if (!Array.isArray(stylesheets) || stylesheets.some((href) => typeof href !== 'string' || href === '')) {
    throw new OptionsError(
      'stylesheets',
      `Expected \`stylesheets\` to be an array of URLs, got ${JSON.stringify(options.stylesheets)}`,
    );
  }
  const page = asset(portalHtml({ title, stylesheets }), 'text/html; charset=utf-8');

  return [
    {
      method: 'GET',
      path: '/',
      handle(request) {
        const { pathname } = new URL(request.url);
        // Relative asset URLs need the page's URL to end with a slash: under `/hooks`, `assets/x` would be `/assets/x`.
        if (!pathname.endsWith('/')) {
          const last = pathname.slice(pathname.lastIndexOf('/') + 1);
          return new Response(null, { status: 308, headers: { location: `${last}/`, ...COMMON_HEADERS } });
        }
        return respond(request, page, {
          'content-security-policy': PORTAL_CSP,
          'x-frame-options': 'SAMEORIGIN',
          'cache-control': 'no-store',
        });
      },
    },
    {
      method: 'GET',
      path: '/assets/*',
      handle(request, context) {
        const found = ASSETS[context.path];
        if (!found) {
          return new Response(
            JSON.stringify({ error: { code: 'ERR_NOT_FOUND', message: 'No such asset' } }),
            {
              status: 404,
              headers: { 'content-type': 'application/json; charset=utf-8', ...COMMON_HEADERS },
            },
          );
        }
        return respond(request, found, { 'cache-control': 'no-cache' });
      },
    },
  ];
}

function respond(request: Request, found: Asset, extra: Record<string, string>): Response {
  const headers = { 'content-type': found.type, etag: found.etag, ...COMMON_HEADERS, ...extra };
  if (request.headers.get('if-none-match') === found.etag)
    return new Response(null, { status: 304, headers });
  return new Response(request.method === 'HEAD' ? null : found.body, { status: 200, headers });
}

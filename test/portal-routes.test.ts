import { describe, expect, it } from 'vitest';
import { PORTAL_CSP, portalRoutes } from '../src/api/portal/index.js';
import { OptionsError } from '../src/core/errors.js';

const get = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers });
const routes = portalRoutes({ title: 'Acme <webhooks>', stylesheets: ['theme.css'] });

/** Routes as createWebhookApi matches them: `/` exactly, `/assets/*` by prefix. */
function portal(request: Request, path: string) {
  const route = routes.find((r) =>
    r.path.endsWith('/*') ? path.startsWith(r.path.slice(0, -1)) : r.path === path,
  );
  return route
    ? Promise.resolve(route.handle(request, { basePath: '/hooks', tenant: 'acme', path }))
    : undefined;
}

describe('portalRoutes', () => {
  it('serves GET / and GET /assets/* only', () => {
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /', 'GET /assets/*']);
  });

  it('serves the page with a strict Content-Security-Policy and no inline script or style', async () => {
    const response = await portal(get('http://host/hooks/'), '/');
    expect(response?.status).toBe(200);
    expect(response?.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response?.headers.get('content-security-policy')).toBe(PORTAL_CSP);
    expect(PORTAL_CSP).toContain("default-src 'none'");
    expect(PORTAL_CSP).toContain("script-src 'self';");
    expect(response?.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response?.headers.get('cache-control')).toBe('no-store');
    const html = await response!.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html).not.toMatch(/\s(href|src)="\//); // every URL relative: mountable under any prefix
    expect(html).toContain('<title>Acme &lt;webhooks&gt;</title>');
    expect(html).toContain('<link rel="stylesheet" href="theme.css">');
  });

  it('redirects a mount path without a trailing slash to the one with it, relatively', async () => {
    const response = await portal(get('http://host/api/hooks'), '/');
    expect(response?.status).toBe(308);
    expect(response?.headers.get('location')).toBe('hooks/');
    expect(new URL(response!.headers.get('location')!, 'http://host/api/hooks').pathname).toBe('/api/hooks/');
  });

  it('serves the script and the stylesheet with validators, and answers 304 to a matching If-None-Match', async () => {
    const js = await portal(get('http://host/assets/portal.js'), '/assets/portal.js');
    expect(js?.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const etag = js!.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    // The API is one level above the script (`assets/portal.js`): every URL the page asks is relative to it.
    expect(await js!.text()).toMatch(/new URL\(["']\.\.\/["'], import\.meta\.url\)/);
    const css = await portal(get('http://host/assets/portal.css'), '/assets/portal.css');
    expect(await css!.text()).toContain('--wp-accent');
    const again = await portal(
      get('http://host/assets/portal.js', { 'if-none-match': etag }),
      '/assets/portal.js',
    );
    expect(again?.status).toBe(304);
    expect(await again!.text()).toBe('');
  });

  it('answers 404 for an asset it does not have', async () => {
    const response = await portal(get('http://host/assets/other.js'), '/assets/other.js');
    expect(response?.status).toBe(404);
    expect(await response!.json()).toEqual({ error: { code: 'ERR_NOT_FOUND', message: 'No such asset' } });
  });

  it('refuses bad options with the field named', () => {
    const thrown = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(OptionsError);
        return error;
      }
      throw new Error('expected an OptionsError');
    };
    expect(thrown(() => portalRoutes({ title: '' }))).toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      field: 'title',
      message: 'Expected `title` to be a non-empty string, got ""',
    });
    expect(thrown(() => portalRoutes({ stylesheets: [''] }))).toMatchObject({ field: 'stylesheets' });
  });
});

import { PORTAL_PAGE } from './assets.generated.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

/**
 * The portal's page (markup in `page.html`). Static markup only: no inline script or style (the CSP forbids
 * both); the script fills it in. Every URL is relative, so the page works under any mount path.
 */
export function portalHtml(options: { title: string; stylesheets: string[] }): string {
  const fills: Record<string, string> = {
    title: escapeHtml(options.title),
    stylesheets: options.stylesheets
      .map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`)
      .join('\n'),
  };
  // A function replacer: a title's `$&` or `$1` stays text.
  return PORTAL_PAGE.replace(/\{\{(title|stylesheets)\}\}/g, (_, name: string) => fills[name] as string);
}

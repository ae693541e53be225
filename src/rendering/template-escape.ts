// Escaping of `{{x}}` by content type, for the template module (`template.ts`).
import type { TemplateEscape } from '../core/types.js';

/** Every `templateEscape` value. */
export const TEMPLATE_ESCAPES: readonly TemplateEscape[] = ['json', 'html', 'none'];

// --- escaping ---------------------------------------------------------------------------------------

const JSON_UNSAFE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
const LINE_SEPARATORS = /[\u2028\u2029]/g;

/**
 * Escapes `value` so that `"` + result + `"` is a JSON string literal holding exactly `value`:
 * quotes, backslashes, control characters U+0000-U+001F, U+2028/U+2029 and lone surrogates are escaped.
 * Well-formed surrogate pairs (emoji) are kept as they are.
 */
export function escapeJsonString(value: string): string {
  if (!JSON_UNSAFE.test(value)) return value;
  // JSON.stringify escapes quotes, backslashes, control characters and lone surrogates (ES2019).
  const inner = JSON.stringify(value).slice(1, -1);
  return inner.includes('\u2028') || inner.includes('\u2029')
    ? inner.replace(LINE_SEPARATORS, (char) => (char === '\u2028' ? '\\u2028' : '\\u2029'))
    : inner;
}

const HTML_UNSAFE = /[&<>"']/;
const HTML_UNSAFE_ALL = /[&<>"']/g;
const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes `& < > " '` for HTML text and quoted attribute values. */
export function escapeHtml(value: string): string {
  return HTML_UNSAFE.test(value) ? value.replace(HTML_UNSAFE_ALL, (char) => HTML_ENTITIES[char]!) : value;
}

export const identity = (value: string): string => value;

// --- content types ----------------------------------------------------------------------------------

function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** True for `application/json` and any `type/subtype+json`, with or without parameters. */
export function isJsonContentType(contentType: string): boolean {
  const mediaType = mediaTypeOf(contentType);
  return mediaType === 'application/json' || (mediaType.endsWith('+json') && mediaType.includes('/'));
}

/** The default escaping for a content type: JSON types `'json'`, `text/html` `'html'`, anything else `'none'`. */
export function templateEscapeFor(contentType: string): TemplateEscape {
  if (isJsonContentType(contentType)) return 'json';
  return mediaTypeOf(contentType) === 'text/html' ? 'html' : 'none';
}

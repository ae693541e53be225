import { describe, isPlainObject, WebhookValidationError } from '../core/errors.js';
import { isSensitiveHeader } from './sensitive-headers.js';

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const TOKEN_RE = new RegExp(`^${TOKEN}$`);
const QUOTED_STRING = '"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"';
// RFC 9110 §8.3.1: type "/" subtype *( OWS ";" OWS [ token "=" ( token / quoted-string ) ] )
const MEDIA_TYPE_RE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*(?:${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))?)*$`,
);

const MAX_CONTENT_TYPE_LENGTH = 1024;
/** Most headers a webhook may define. */
export const MAX_HEADERS = 100;
/** Longest header value accepted, in characters. */
export const MAX_HEADER_VALUE_LENGTH = 8192;

const HOP_BY_HOP = 'a connection-level header managed by the HTTP client';

/** Header names (lower case) a webhook's `headers` cannot set, with the reason given in errors. */
export const RESERVED_HEADERS: Readonly<Record<string, string>> = {
  host: 'the dispatcher sets it from `url`',
  'content-length': 'the dispatcher computes it from the body',
  'content-type': 'it is set with the `contentType` field',
  'x-ld-signature': 'it carries the signature the dispatcher computes',
  'webhook-id': 'it carries the delivery id the dispatcher sets',
  'webhook-timestamp': 'it is part of the Standard Webhooks signature the dispatcher computes',
  'webhook-signature': 'it carries the signature the dispatcher computes',
  'transfer-encoding': HOP_BY_HOP,
  connection: HOP_BY_HOP,
  'keep-alive': HOP_BY_HOP,
  'proxy-connection': HOP_BY_HOP,
  upgrade: HOP_BY_HOP,
  te: HOP_BY_HOP,
  trailer: HOP_BY_HOP,
  expect: HOP_BY_HOP,
};

/** Why a header name cannot be set by a webhook, or undefined when it can. */
export function reservedHeaderReason(name: string): string | undefined {
  const lower = name.toLowerCase();
  const reason = Object.hasOwn(RESERVED_HEADERS, lower) ? RESERVED_HEADERS[lower] : undefined;
  if (reason !== undefined) return reason;
  return lower.startsWith('webhook-')
    ? 'the `webhook-` prefix is reserved for Standard Webhooks headers'
    : undefined;
}

/**
 * Validates a Content-Type (RFC 9110 media type: `type/subtype` plus `; name=value` parameters).
 * Returns it without surrounding whitespace.
 */
export function validateContentType(value: unknown, field = 'contentType'): string {
  if (typeof value !== 'string') {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to be a media type such as "application/json", got ${describe(value)}.`,
    );
  }
  if (/[\r\n\0]/.test(value)) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to be a media type without CR, LF or NUL, got ${describe(value)}.`,
    );
  }
  const trimmed = value.trim();
  if (trimmed.length > MAX_CONTENT_TYPE_LENGTH || !MEDIA_TYPE_RE.test(trimmed)) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to be a media type such as "application/json" or "text/plain; charset=utf-8", got ${describe(value)}.`,
    );
  }
  return trimmed;
}

/**
 * Validates a webhook's extra request headers: a plain object of header name -> string value.
 * `undefined` and `null` give `{}`. Names must be RFC 9110 tokens, unique case-insensitively, and not
 * reserved (see {@link RESERVED_HEADERS}; any `webhook-*` name too). Values must not contain CR, LF, NUL or
 * other control characters (tab excepted) or characters above U+00FF; surrounding spaces and tabs are
 * removed, as HTTP does. Returns a new object; names keep their spelling.
 */
export function validateHeaders(headers: unknown, field = 'headers'): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (!isPlainObject(headers)) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to be an object of header names to string values, got ${describe(headers)}.`,
    );
  }
  const names = Object.keys(headers);
  if (names.length > MAX_HEADERS) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to have at most ${MAX_HEADERS} headers, got ${names.length}.`,
    );
  }

  const seen = new Map<string, string>();
  const entries: [string, string][] = [];
  for (const name of names) {
    const path = `${field}[${JSON.stringify(name)}]`;
    if (!TOKEN_RE.test(name)) {
      throw new WebhookValidationError(
        path,
        `Expected \`${path}\` to be a valid header name, got ${describe(name)}.`,
      );
    }
    const reason = reservedHeaderReason(name);
    if (reason !== undefined) {
      throw new WebhookValidationError(
        path,
        `Expected \`${path}\` to be a header a webhook may set, got ${describe(name)}: ${reason}.`,
      );
    }
    const lower = name.toLowerCase();
    const previous = seen.get(lower);
    if (previous !== undefined) {
      throw new WebhookValidationError(
        path,
        `Expected \`${path}\` to be set once, got it also as ${describe(previous)} (header names are case-insensitive).`,
      );
    }
    seen.set(lower, name);
    entries.push([name, validateHeaderValue(headers[name], path, isSensitiveHeader(name))]);
  }
  // fromEntries defines own properties, so a header named "__proto__" stays a header.
  return Object.fromEntries(entries);
}

function validateHeaderValue(value: unknown, path: string, sensitive: boolean): string {
  // A credential is never repeated in an error message: messages end up in logs.
  const shown = () =>
    !sensitive
      ? describe(value)
      : typeof value === 'string'
        ? `a value of ${value.length} characters (not shown)`
        : `a ${value === null ? 'null' : typeof value} (not shown)`;
  if (typeof value !== 'string') {
    throw new WebhookValidationError(path, `Expected \`${path}\` to be a string, got ${shown()}.`);
  }
  if (/[\r\n\0]/.test(value)) {
    throw new WebhookValidationError(
      path,
      `Expected \`${path}\` to be a header value without CR, LF or NUL, got ${shown()}.`,
    );
  }
  if (/[\u0001-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new WebhookValidationError(
      path,
      `Expected \`${path}\` to be a header value without control characters, got ${shown()}.`,
    );
  }
  if (/[^\u0000-\u00ff]/.test(value)) {
    throw new WebhookValidationError(
      path,
      `Expected \`${path}\` to be a header value of Latin-1 characters (encode other text, e.g. with encodeURIComponent), got ${shown()}.`,
    );
  }
  if (value.length > MAX_HEADER_VALUE_LENGTH) {
    throw new WebhookValidationError(
      path,
      `Expected \`${path}\` to be at most ${MAX_HEADER_VALUE_LENGTH} characters, got ${value.length}.`,
    );
  }
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

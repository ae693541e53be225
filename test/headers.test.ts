import { describe, expect, it } from 'vitest';
import { WebhookError, WebhookValidationError } from '../src/core/errors.js';
import {
  MAX_HEADER_VALUE_LENGTH,
  MAX_HEADERS,
  RESERVED_HEADERS,
  reservedHeaderReason,
  validateContentType,
  validateHeaders,
} from '../src/rendering/header-rules.js';

function refusal(run: () => unknown): WebhookValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookValidationError);
    expect(error).toBeInstanceOf(WebhookError);
    expect((error as WebhookValidationError).code).toBe('ERR_INVALID_WEBHOOK');
    return error as WebhookValidationError;
  }
  throw new Error('expected a WebhookValidationError');
}

describe('validateContentType', () => {
  it('accepts media types with and without parameters', () => {
    for (const value of [
      'application/json',
      'text/plain',
      'application/vnd.api+json',
      'text/plain; charset=utf-8',
      'text/plain;charset=UTF-8',
      'multipart/form-data; boundary="a b;c\\"d"',
      'application/json ; charset=utf-8 ; profile=x',
      'text/plain;',
    ]) {
      expect(validateContentType(value)).toBe(value);
    }
  });

  it('returns the value without surrounding whitespace', () => {
    expect(validateContentType('  application/json \t')).toBe('application/json');
  });

  it('refuses CR and LF (header injection)', () => {
    const error = refusal(() => validateContentType('application/json\r\nX-Admin: 1'));
    expect(error.field).toBe('contentType');
    expect(error.message).toBe(
      'Expected `contentType` to be a media type without CR, LF or NUL, got "application/json\\r\\nX-Admin: 1".',
    );
    expect(refusal(() => validateContentType('text/plain\n')).message).toContain('without CR, LF or NUL');
    expect(refusal(() => validateContentType('text/plain\0')).message).toContain('without CR, LF or NUL');
  });

  it('refuses values that are not media types', () => {
    for (const value of [
      '',
      'json',
      'application/',
      '/json',
      'application/json/x',
      'text plain/x',
      'text/plain; charset',
      'text/plain; charset=',
      'text/plain; charset="unterminated',
      'text/pl@in',
      'text/plain; a=b c',
      'text/plain; a="é€"',
      'x/'.padEnd(2000, 'y'),
    ]) {
      const error = refusal(() => validateContentType(value));
      expect(error.field).toBe('contentType');
      expect(error.message).toMatch(/^Expected `contentType` to be a media type such as "application\/json"/);
    }
  });

  it('refuses non-strings and names the field it was given', () => {
    const error = refusal(() => validateContentType(42, 'webhook.contentType'));
    expect(error.field).toBe('webhook.contentType');
    expect(error.message).toBe(
      'Expected `webhook.contentType` to be a media type such as "application/json", got 42.',
    );
  });
});

describe('validateHeaders', () => {
  it('accepts a plain object of string values and returns a copy', () => {
    const input = { Authorization: 'Bearer abc.def', 'X-Team': 'flags', 'User-Agent': 'my-app/1.0' };
    const output = validateHeaders(input);
    expect(output).toEqual(input);
    expect(output).not.toBe(input);
  });

  it('treats undefined and null as no headers', () => {
    expect(validateHeaders(undefined)).toEqual({});
    expect(validateHeaders(null)).toEqual({});
  });

  it('allows overriding User-Agent', () => {
    expect(validateHeaders({ 'user-agent': 'custom' })).toEqual({ 'user-agent': 'custom' });
  });

  it('removes surrounding spaces and tabs from values, as HTTP does', () => {
    expect(validateHeaders({ Authorization: ' \tBearer x  ' })).toEqual({ Authorization: 'Bearer x' });
  });

  it('accepts empty values, inner tabs and Latin-1 text', () => {
    expect(validateHeaders({ 'X-Empty': '', 'X-Tab': 'a\tb', 'X-Latin1': 'caf\u00e9' })).toEqual({
      'X-Empty': '',
      'X-Tab': 'a\tb',
      'X-Latin1': 'caf\u00e9',
    });
  });

  it('keeps a header named __proto__ as an own header', () => {
    const headers = validateHeaders(JSON.parse('{"__proto__": "x"}'));
    expect(Object.keys(headers)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });

  it('refuses anything but a plain object', () => {
    for (const value of [
      'Authorization: x',
      42,
      [['a', 'b']],
      new Map([['a', 'b']]),
      new Headers({ a: 'b' }),
    ]) {
      const error = refusal(() => validateHeaders(value));
      expect(error.field).toBe('headers');
      expect(error.message).toMatch(
        /^Expected `headers` to be an object of header names to string values, got /,
      );
    }
  });

  it('refuses invalid header names with the field path and pattern message', () => {
    const error = refusal(() => validateHeaders({ 'X Bad': 'v' }));
    expect(error.field).toBe('headers["X Bad"]');
    expect(error.message).toBe('Expected `headers["X Bad"]` to be a valid header name, got "X Bad".');
    for (const name of ['', 'X:Y', 'X-Ä', 'a\nb', '(x)', 'x"y', 'a/b']) {
      expect(refusal(() => validateHeaders({ [name]: 'v' })).message).toContain('to be a valid header name');
    }
  });

  it('refuses every reserved header, case-insensitively, saying why', () => {
    const reserved = [
      'Content-Length',
      'HOST',
      'x-ld-signature',
      'Webhook-Id',
      'webhook-timestamp',
      'webhook-signature',
      'Content-Type',
      'Transfer-Encoding',
      'Connection',
      'Keep-Alive',
      'Upgrade',
      'TE',
      'Trailer',
      'Expect',
      'Proxy-Connection',
    ];
    for (const name of reserved) {
      const error = refusal(() => validateHeaders({ [name]: 'x' }));
      expect(error.field).toBe(`headers[${JSON.stringify(name)}]`);
      expect(error.message).toMatch(
        new RegExp(
          `^Expected \`headers\\["${name}"\\]\` to be a header a webhook may set, got "${name}": .+\\.$`,
        ),
      );
    }
    expect(refusal(() => validateHeaders({ Host: 'evil.example' })).message).toContain('from `url`');
    expect(refusal(() => validateHeaders({ 'content-type': 'text/plain' })).message).toContain(
      '`contentType` field',
    );
  });

  it('refuses any webhook-* header (Standard Webhooks namespace)', () => {
    expect(refusal(() => validateHeaders({ 'Webhook-Custom': 'x' })).message).toContain(
      '`webhook-` prefix is reserved',
    );
    expect(reservedHeaderReason('webhooks-custom')).toBeUndefined();
  });

  it('lists the reserved names in lower case', () => {
    for (const name of Object.keys(RESERVED_HEADERS)) expect(name).toBe(name.toLowerCase());
    expect(reservedHeaderReason('Authorization')).toBeUndefined();
    expect(reservedHeaderReason('toString')).toBeUndefined();
  });

  it('refuses the same name twice in different case', () => {
    const error = refusal(() => validateHeaders({ 'X-Team': 'a', 'x-team': 'b' }));
    expect(error.field).toBe('headers["x-team"]');
    expect(error.message).toBe(
      'Expected `headers["x-team"]` to be set once, got it also as "X-Team" (header names are case-insensitive).',
    );
  });

  it('refuses values that are not strings', () => {
    for (const value of [1, true, null, undefined, ['a'], { a: 1 }]) {
      const error = refusal(() => validateHeaders({ 'X-A': value }));
      expect(error.field).toBe('headers["X-A"]');
      expect(error.message).toMatch(/^Expected `headers\["X-A"\]` to be a string, got /);
    }
  });

  it('refuses CR, LF and NUL in values (header injection)', () => {
    const error = refusal(() => validateHeaders({ Authorization: 'Bearer x\r\nX-Admin: 1' }));
    expect(error.field).toBe('headers["Authorization"]');
    expect(error.message).toBe(
      'Expected `headers["Authorization"]` to be a header value without CR, LF or NUL, got a value of 20 characters (not shown).',
    );
    expect(refusal(() => validateHeaders({ 'X-A': 'a\nb' })).message).toContain('got "a\\nb"');
    for (const value of ['a\nb', 'a\rb', 'a\0b', 'Bearer x\n']) {
      expect(refusal(() => validateHeaders({ 'X-A': value })).message).toContain('without CR, LF or NUL');
    }
  });

  it('refuses other control characters in values', () => {
    for (const value of ['a\u0001b', 'a\u001bb', 'a\u007fb']) {
      expect(refusal(() => validateHeaders({ 'X-A': value })).message).toContain(
        'without control characters',
      );
    }
  });

  it('refuses characters above U+00FF in values', () => {
    const error = refusal(() => validateHeaders({ 'X-A': 'snow ☃' }));
    expect(error.message).toBe(
      'Expected `headers["X-A"]` to be a header value of Latin-1 characters (encode other text, e.g. with encodeURIComponent), got "snow ☃".',
    );
  });

  it('refuses values over the length limit', () => {
    expect(validateHeaders({ 'X-A': 'a'.repeat(MAX_HEADER_VALUE_LENGTH) })['X-A']).toHaveLength(
      MAX_HEADER_VALUE_LENGTH,
    );
    const error = refusal(() => validateHeaders({ 'X-A': 'a'.repeat(MAX_HEADER_VALUE_LENGTH + 1) }));
    expect(error.message).toBe(
      `Expected \`headers["X-A"]\` to be at most ${MAX_HEADER_VALUE_LENGTH} characters, got ${MAX_HEADER_VALUE_LENGTH + 1}.`,
    );
  });

  it('refuses more than the maximum number of headers', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_HEADERS + 1 }, (_, i) => [`X-H${i}`, 'v']));
    const error = refusal(() => validateHeaders(many));
    expect(error.field).toBe('headers');
    expect(error.message).toBe(
      `Expected \`headers\` to have at most ${MAX_HEADERS} headers, got ${MAX_HEADERS + 1}.`,
    );
  });

  it('uses the field name it was given in paths', () => {
    const error = refusal(() => validateHeaders({ 'X Bad': 'v' }, 'patch.headers'));
    expect(error.field).toBe('patch.headers["X Bad"]');
    expect(error.message).toBe('Expected `patch.headers["X Bad"]` to be a valid header name, got "X Bad".');
  });
});

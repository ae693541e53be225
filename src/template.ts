import Mustache from 'mustache';
import { describe, TemplateError, WebhookValidationError } from './errors.js';
import type { TemplateEscape, WebhookEvent } from './types.js';

/** The webhook as a template sees it: `{{webhook.name}}`, `{{#webhook.tags}}...{{/webhook.tags}}`. */
export interface TemplateWebhook {
  id: string;
  name?: string | undefined;
  url: string;
  tags: readonly string[];
}

/** What a body template renders over. */
export interface TemplateContext {
  /** The event as the host passed it. */
  event: WebhookEvent;
  /**
   * The event serialized twice, as Unleash provides it: a JSON string literal, quotes included,
   * meant for `"json": {{{eventJson}}}`. Build it with {@link eventJsonOf}.
   */
  eventJson: string;
  webhook: TemplateWebhook;
}

export interface CompileTemplateOptions {
  /** The webhook's Content-Type; picks the escaping of `{{x}}` unless `escape` is given. */
  contentType: string;
  /** Overrides the escaping chosen from the content type. */
  escape?: TemplateEscape | undefined;
  /** Field named in errors. @default 'bodyTemplate' */
  field?: string | undefined;
}

/** A template parsed once at save time; `render` is pure and reuses the parsed tokens. */
export interface CompiledTemplate {
  /**
   * Renders the body. Throws a `TypeError` only when a value cannot be serialized
   * (a circular object, a BigInt inside an object).
   */
  render(context: TemplateContext): string;
  /** The escaping `{{x}}` gets in this template. */
  readonly escape: TemplateEscape;
}

const TAGS: Mustache.OpeningAndClosingTags = ['{{', '}}'];
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

const identity = (value: string): string => value;

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

// --- values -----------------------------------------------------------------------------------------

/**
 * How a looked-up value becomes text, for `{{x}}` (before escaping) and `{{{x}}}` alike:
 * strings as they are; finite numbers, booleans and bigints via String(); null, undefined, NaN and
 * Infinity render nothing; values with toJSON() (Date -> ISO-8601) go through it first;
 * other objects and arrays become their JSON text.
 */
function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value !== 'object' || value === null) return '';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const json: unknown = toJSON.call(value, '');
    if (typeof json !== 'object' || json === null) return toText(json);
    return JSON.stringify(json);
  }
  return JSON.stringify(value);
}

// Mustache.Writer keeps a template cache keyed by the template text; these writers never parse a
// template twice (tokens live in the compiled template), so the cache is switched off.
class TemplateWriter extends Mustache.Writer {
  templateCache: undefined = undefined;
  readonly #escape: (value: string) => string;

  constructor(escapeText: (value: string) => string) {
    super();
    this.#escape = escapeText;
  }

  override escapedValue(token: string[], context: Mustache.Context): string {
    return this.#escape(this.#text(token, context));
  }

  override unescapedValue(token: string[], context: Mustache.Context): string {
    return this.#text(token, context);
  }

  #text(token: string[], context: Mustache.Context): string {
    const name = token[1]!;
    try {
      return toText(context.lookup(name));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TypeError(`Cannot render {{${name}}}: ${reason}`, { cause: error });
    }
  }
}

const WRITERS: Record<TemplateEscape, TemplateWriter> = {
  json: new TemplateWriter(escapeJsonString),
  html: new TemplateWriter(escapeHtml),
  none: new TemplateWriter(identity),
};

// --- compile ----------------------------------------------------------------------------------------

/**
 * Parses a Mustache body template once. Throws a {@link TemplateError} (code `ERR_INVALID_TEMPLATE`,
 * `field`, 1-based `line`/`column`) when it does not parse or uses partials.
 *
 * `{{x}}` is escaped for the content type (or `options.escape`); `{{{x}}}` and `{{&x}}` never are.
 * No global Mustache state is read or written.
 */
export function compileTemplate(source: string, options: CompileTemplateOptions): CompiledTemplate {
  const field = options.field ?? 'bodyTemplate';
  if (typeof source !== 'string') {
    throw new TemplateError(field, `Expected \`${field}\` to be a string, got ${describe(source)}.`);
  }
  if (options.escape !== undefined && !TEMPLATE_ESCAPES.includes(options.escape)) {
    throw new WebhookValidationError(
      'templateEscape',
      `Expected \`templateEscape\` to be one of 'json', 'html', 'none', got ${describe(options.escape)}.`,
    );
  }
  const escaping = options.escape ?? templateEscapeFor(options.contentType);

  let tokens: Mustache.TemplateSpans;
  try {
    tokens = WRITERS.none.parse(source, TAGS) as Mustache.TemplateSpans;
  } catch (error) {
    throw parseError(source, field, error);
  }
  const partial = findPartial(tokens);
  if (partial) {
    throw new TemplateError(
      field,
      invalid(field, positionAt(source, partial[2]), `partials ({{>${partial[1]}}}) are not supported`),
      positionAt(source, partial[2]),
    );
  }

  const writer = WRITERS[escaping];
  const renderTokens = tokens as unknown as string[][];
  return {
    escape: escaping,
    render(context: TemplateContext): string {
      return writer.renderTokens(renderTokens, new Mustache.Context(context), undefined, source);
    },
  };
}

/**
 * `eventJson` from the event's JSON body, as Unleash provides it: the body as a JSON string literal.
 * Pass the body the dispatcher already serialized, so the event is stringified once.
 */
export function eventJsonOf(eventBody: string): string {
  return JSON.stringify(eventBody);
}

// --- errors -----------------------------------------------------------------------------------------

type Position = { line: number; column: number };
type Span = Mustache.TemplateSpans[number];

function findPartial(tokens: Mustache.TemplateSpans): Span | undefined {
  for (const token of tokens) {
    if (token[0] === '>') return token;
    const children = token[4];
    if (Array.isArray(children)) {
      const found = findPartial(children);
      if (found) return found;
    }
  }
  return undefined;
}

/** 1-based line and column (in code points) of a UTF-16 offset. */
function positionAt(source: string, offset: number): Position {
  const end = Math.min(Math.max(offset, 0), source.length);
  let line = 1;
  let lineStart = 0;
  for (
    let index = source.indexOf('\n');
    index !== -1 && index < end;
    index = source.indexOf('\n', index + 1)
  ) {
    line++;
    lineStart = index + 1;
  }
  let column = 1;
  for (const _ of source.slice(lineStart, end)) column++;
  return { line, column };
}

function invalid(field: string, position: Position | undefined, detail: string): string {
  const where = position ? ` at line ${position.line}, column ${position.column}` : '';
  return `Expected \`${field}\` to be a valid Mustache template, got an error${where}: ${detail}.`;
}

/** Offset of the `{{` whose tag never closes, for templates without set-delimiter tags. */
function unclosedTagStart(source: string): number | undefined {
  if (source.includes('{{=')) return undefined;
  let from = 0;
  for (;;) {
    const open = source.indexOf('{{', from);
    if (open === -1) return undefined;
    const closing = source[open + 2] === '{' ? '}}}' : '}}';
    const close = source.indexOf(closing, open + 2);
    if (close === -1) return open;
    from = close + closing.length;
  }
}

/** Offset of the last `{{#name}}` / `{{^name}}` opening tag. */
function sectionStart(source: string, name: string): number | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`\\{\\{\\s*[#^]\\s*${escaped}\\s*\\}\\}`, 'g');
  let start: number | undefined;
  for (const match of source.matchAll(pattern)) start = match.index;
  return start;
}

const MUSTACHE_ERROR = /^(Unclosed tag|Unopened section|Unclosed section)(?: "([\s\S]*)")? at (\d+)$/;

/** Turns mustache's error ("Unclosed tag at 17", 'Unclosed section "x" at 40') into a TemplateError. */
function parseError(source: string, field: string, error: unknown): TemplateError {
  const message = error instanceof Error ? error.message : String(error);
  const match = MUSTACHE_ERROR.exec(message);
  let offset = match ? Number(match[3]) : undefined;
  const name = match?.[2] ?? '';
  let detail: string;

  if (match?.[1] === 'Unclosed tag') {
    const start = unclosedTagStart(source);
    offset = start ?? offset;
    detail = start === undefined ? 'a tag is never closed' : 'this tag is never closed (missing "}}")';
  } else if (match?.[1] === 'Unopened section') {
    detail = `{{/${name}}} closes a section that was never opened`;
  } else if (match?.[1] === 'Unclosed section' && offset !== undefined && offset >= source.length) {
    offset = sectionStart(source, name) ?? offset;
    detail = `section {{#${name}}} is never closed (missing {{/${name}}})`;
  } else if (match?.[1] === 'Unclosed section') {
    detail = `section {{#${name}}} must be closed with {{/${name}}} before this tag`;
  } else if (message.startsWith('Invalid tags')) {
    detail = 'invalid set-delimiter tag {{=... ...=}}';
  } else {
    detail = message;
  }

  const position = offset === undefined ? undefined : positionAt(source, offset);
  return new TemplateError(field, invalid(field, position, detail), position, error);
}

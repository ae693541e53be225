import Mustache from 'mustache';
import { brand, describe, TemplateError, WebhookError, WebhookValidationError } from '../core/errors.js';
import type { TemplateEscape, WebhookEvent } from '../core/types.js';
import { findRefused, invalid, MAX_SECTION_DEPTH, parseError, positionAt } from './template-errors.js';
import {
  escapeHtml,
  escapeJsonString,
  identity,
  TEMPLATE_ESCAPES,
  templateEscapeFor,
} from './template-escape.js';

// The template module's names, whichever file of it holds them (escaping, errors).
export { MAX_SECTION_DEPTH } from './template-errors.js';
export {
  escapeHtml,
  escapeJsonString,
  isJsonContentType,
  TEMPLATE_ESCAPES,
  templateEscapeFor,
} from './template-escape.js';

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
  /**
   * A one-line Markdown summary of the event (who, what, which flag, project, environment, when), as Unleash offers
   * it. The dispatcher always sets it (computed only when a template reads it); see `eventMarkdownOf`.
   */
  eventMarkdown?: string;
  webhook: TemplateWebhook;
}

/**
 * The names a template may look up outside sections: the keys of {@link TemplateContext}, with the fields of the
 * ones whose shape is fixed. `event` is the host's object: any field. Inside a section a name may be a field of
 * the item the section iterates, so names there are not checked.
 */
const CONTEXT_NAMES: Readonly<Record<string, readonly string[] | undefined>> = {
  event: undefined,
  eventJson: [],
  eventMarkdown: [],
  webhook: ['id', 'name', 'url', 'tags'],
};

export interface CompileTemplateOptions {
  /** The webhook's Content-Type; picks the escaping of `{{x}}` unless `escape` is given. */
  contentType: string;
  /** Overrides the escaping chosen from the content type. */
  escape?: TemplateEscape | undefined;
  /** Field named in errors. @default 'bodyTemplate' */
  field?: string | undefined;
}

/** Limits of one {@link CompiledTemplate.render} call. */
export interface RenderOptions {
  /**
   * The body's limit in UTF-8 bytes. Rendering stops with a {@link TemplateBudgetError} (code `BODY_TOO_LARGE`)
   * as soon as the output is certainly over it (more UTF-16 code units than `maxBytes`), so a template that
   * repeats a large value or nests sections over long lists fails after producing `maxBytes`, not after
   * producing everything. A body between `maxBytes / 3` and `maxBytes` code units may still be over the limit
   * in bytes: callers compare the finished body's byte length too.
   * @default DEFAULT_RENDER_MAX_BYTES (16 MiB)
   */
  maxBytes?: number | undefined;
}

/** A template parsed once at save time; `render` is pure and reuses the parsed tokens. */
export interface CompiledTemplate {
  /**
   * Renders the body. Throws a {@link TemplateBudgetError} when the output passes `options.maxBytes`
   * (code `BODY_TOO_LARGE`) or the template does more than {@link MAX_RENDER_STEPS} steps of work
   * (code `RENDER_FAILED`), and a `TypeError` when a value cannot be serialized (a circular object,
   * a BigInt inside an object).
   */
  render(context: TemplateContext, options?: RenderOptions): string;
  /** The escaping `{{x}}` gets in this template. */
  readonly escape: TemplateEscape;
}

const TAGS: Mustache.OpeningAndClosingTags = ['{{', '}}'];
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

// --- budget -----------------------------------------------------------------------------------------

/** `maxBytes` of a render call that sets none. */
export const DEFAULT_RENDER_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The most work one render may do, counted in steps: one per token rendered and one per section pass (each item
 * of a list a section iterates). Ordinary templates take a few hundred and a dense 1 MiB body about 400,000;
 * sections nested over long lists take (list length)^(depth), and are stopped here even when they print nothing.
 */
export const MAX_RENDER_STEPS = 1_000_000;

/**
 * A render stopped by its budget. `code` is the delivery failure code it stands for: `BODY_TOO_LARGE` when the
 * output passed `maxBytes`, `RENDER_FAILED` when the template did more than {@link MAX_RENDER_STEPS} steps.
 */
export class TemplateBudgetError extends WebhookError {
  static {
    brand(TemplateBudgetError, 'TemplateBudgetError');
  }
  override name = 'TemplateBudgetError';
  declare readonly code: 'BODY_TOO_LARGE' | 'RENDER_FAILED';
  /** The limit that was passed: the output size or the work. */
  readonly limit: 'bytes' | 'steps';

  constructor(limit: 'bytes' | 'steps', message: string) {
    super(limit === 'bytes' ? 'BODY_TOO_LARGE' : 'RENDER_FAILED', message);
    this.limit = limit;
  }
}

/** What one render has used so far. */
interface Budget {
  units: number;
  steps: number;
  readonly maxBytes: number;
}

function validMaxBytes(options: RenderOptions | undefined): number {
  const maxBytes = options?.maxBytes;
  if (maxBytes === undefined) return DEFAULT_RENDER_MAX_BYTES;
  if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes < 0) {
    throw new TypeError(`Expected \`maxBytes\` to be a non-negative number, got ${describe(maxBytes)}.`);
  }
  return maxBytes;
}

// Mustache.Writer keeps a template cache keyed by the template text; these writers never parse a
// template twice (tokens live in the compiled template), so the cache is switched off.
// The budget is counted in the hooks every rendered piece passes through: renderTokens for work (it runs once per
// section pass), and the value and text hooks for output, so a bomb stops within one piece of its limit.
class TemplateWriter extends Mustache.Writer {
  templateCache: undefined = undefined;
  readonly #escape: (value: string) => string;
  /** The budget of the render in progress; renders are synchronous, and a nested one saves and restores it. */
  #budget: Budget | undefined;

  constructor(escapeText: (value: string) => string) {
    super();
    this.#escape = escapeText;
  }

  /** Renders `tokens` within a fresh budget. */
  renderWithin(tokens: string[][], context: Mustache.Context, source: string, maxBytes: number): string {
    const outer = this.#budget;
    this.#budget = { units: 0, steps: 0, maxBytes };
    try {
      return this.renderTokens(tokens, context, undefined, source);
    } finally {
      this.#budget = outer;
    }
  }

  override renderTokens(
    tokens: string[][],
    context: Mustache.Context,
    partials?: Mustache.PartialsOrLookupFn,
    originalTemplate?: string,
    config?: Mustache.RenderOptions,
  ): string {
    const budget = this.#budget;
    if (budget !== undefined) {
      budget.steps += tokens.length + 1;
      if (budget.steps > MAX_RENDER_STEPS) {
        throw new TemplateBudgetError(
          'steps',
          `template rendering stopped after ${MAX_RENDER_STEPS} steps: its sections repeat too much work for this event (nested sections over long lists?)`,
        );
      }
    }
    return super.renderTokens(tokens, context, partials, originalTemplate, config);
  }

  override rawValue(token: string[]): string {
    return this.#count(token[1]!);
  }

  override escapedValue(token: string[], context: Mustache.Context): string {
    return this.#count(this.#escape(this.#text(token, context)));
  }

  override unescapedValue(token: string[], context: Mustache.Context): string {
    return this.#count(this.#text(token, context));
  }

  #count(text: string): string {
    const budget = this.#budget;
    if (budget !== undefined) {
      // A UTF-16 code unit is at least one UTF-8 byte: past maxBytes units the body is certainly too large.
      budget.units += text.length;
      if (budget.units > budget.maxBytes) {
        throw new TemplateBudgetError(
          'bytes',
          `rendered body is over the ${budget.maxBytes}-byte limit (rendering stopped at ${budget.units} characters); not sent`,
        );
      }
    }
    return text;
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
 * `field`, 1-based `line`/`column`) when it does not parse, uses partials or nests sections more than
 * {@link MAX_SECTION_DEPTH} deep.
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
  const refused = findRefused(tokens);
  if (refused) {
    const { token, reason } = refused;
    const detail =
      reason === 'partial'
        ? `partials ({{>${token[1]}}}) are not supported`
        : `sections are nested more than ${MAX_SECTION_DEPTH} deep`;
    const position = positionAt(source, token[2]);
    throw new TemplateError(field, invalid(field, position, detail), position);
  }

  const writer = WRITERS[escaping];
  const renderTokens = tokens as unknown as string[][];
  return {
    escape: escaping,
    render(context: TemplateContext, renderOptions?: RenderOptions): string {
      const maxBytes = validMaxBytes(renderOptions);
      return writer.renderWithin(renderTokens, new Mustache.Context(context), source, maxBytes);
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

const LOOKUP_TOKENS = new Set(['name', '&', '#', '^']);

/**
 * Refuses, with a {@link TemplateError}, a lookup outside sections that the render context cannot answer
 * (`{{evnt.name}}`, `{{webhook.secret}}`): it would render empty. Run when a template is saved, not when a stored
 * one is loaded, so a webhook saved before this check keeps its deliveries. A template that does not parse passes
 * here: {@link compileTemplate} reports it.
 */
export function assertTemplateNames(source: string, field = 'bodyTemplate'): void {
  let tokens: Mustache.TemplateSpans;
  try {
    tokens = WRITERS.none.parse(source, TAGS) as Mustache.TemplateSpans;
  } catch {
    return;
  }
  for (const token of tokens) {
    const name = token[1];
    if (!LOOKUP_TOKENS.has(token[0]) || name === '.' || isKnownName(name)) continue;
    const position = positionAt(source, token[2]);
    const known = Object.keys(CONTEXT_NAMES).join(', ');
    throw new TemplateError(
      field,
      invalid(
        field,
        position,
        `{{${name}}} is not in the render context (${known}, webhook.id/name/url/tags)`,
      ),
      position,
    );
  }
}

function isKnownName(name: string): boolean {
  const [first = '', second] = name.split('.');
  if (!Object.hasOwn(CONTEXT_NAMES, first)) return false;
  const fields = CONTEXT_NAMES[first];
  return fields === undefined || second === undefined || fields.includes(second);
}

// Parse errors, refused constructs and positions of the template module (`template.ts`).
import type Mustache from 'mustache';
import { TemplateError } from '../core/errors.js';

export type Position = { line: number; column: number };
type Span = Mustache.TemplateSpans[number];

/** The deepest nesting of sections a template may have; rendering recurses once per level. */
export const MAX_SECTION_DEPTH = 100;

/** The first partial, or the first section nested deeper than {@link MAX_SECTION_DEPTH}. */
export function findRefused(
  tokens: Mustache.TemplateSpans,
  depth = 0,
): { token: Span; reason: 'partial' | 'depth' } | undefined {
  for (const token of tokens) {
    if (token[0] === '>') return { token, reason: 'partial' };
    const children = token[4];
    if (Array.isArray(children)) {
      if (depth + 1 > MAX_SECTION_DEPTH) return { token, reason: 'depth' };
      const found = findRefused(children, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** 1-based line and column (in code points) of a UTF-16 offset. */
export function positionAt(source: string, offset: number): Position {
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

export function invalid(field: string, position: Position | undefined, detail: string): string {
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
export function parseError(source: string, field: string, error: unknown): TemplateError {
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

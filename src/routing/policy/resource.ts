import { PolicyError } from '../../core/errors.js';

/** A `{name:value}` property selector of a specifier, or a property carried by a concrete resource. */
export interface ResourceProperty {
  readonly name: string;
  readonly value: string;
}

/** One `kind/key;tag1,tag2` segment of a resource specifier or of a concrete resource. */
export interface ResourceSegment {
  /** Resource kind, case-sensitive: `proj`, `env`, `flag`, `member`, ... */
  readonly kind: string;
  /** Key, or key glob in a specifier (`*`, `ops_*`); `undefined` for a bare kind such as `acct`. Case-sensitive. */
  readonly key: string | undefined;
  /** Tags, or tag globs in a specifier, lower-cased because tags are case-insensitive. */
  readonly tags: readonly string[];
  /** Property selectors (`{critical:true}`) in a specifier, properties in a concrete resource. Case-sensitive. */
  readonly properties: readonly ResourceProperty[];
}

/** A parsed resource specifier (`proj/*:env/production:flag/*`) or concrete resource (`proj/app;mobile:env/p`). */
export interface ParsedResource {
  /** The text that was parsed. */
  readonly source: string;
  /** Segments in kind-chain order: `proj`, then `env`, then `flag`. Never empty. */
  readonly segments: readonly ResourceSegment[];
  /** The first segment without its tags and properties: `proj/default`, `proj/*`, `acct`. */
  readonly scope: string;
}

interface Failure {
  /** 0-based offset in the text. */
  position: number;
  expected: string;
}

const SLASH = 0x2f;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const STAR = 0x2a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const NONE: readonly never[] = Object.freeze([]);

function isLetter(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
}

function isKindChar(code: number): boolean {
  return isLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x5f;
}

/**
 * Characters of keys, tags and property names/values: everything printable except the separators
 * `: / ; , { }`, whitespace and `*` (which is a glob in specifiers and never part of a concrete name).
 */
function isNameChar(code: number): boolean {
  return (
    code > 0x20 &&
    code !== 0x7f &&
    code !== SLASH &&
    code !== COLON &&
    code !== SEMICOLON &&
    code !== COMMA &&
    code !== STAR &&
    code !== OPEN_BRACE &&
    code !== CLOSE_BRACE &&
    !(code >= 0x80 && code <= 0xa0) &&
    code !== 0x2028 &&
    code !== 0x2029
  );
}

/** Reads a name starting at `start`; globs (`*`) allowed when `glob`. Returns the end offset. */
function scanName(text: string, start: number, glob: boolean): number {
  let i = start;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (!(isNameChar(code) || (glob && code === STAR))) break;
    i++;
  }
  return i;
}

/**
 * The grammar, shared by specifiers and concrete resources:
 *
 *   resource := segment (":" segment)*
 *   segment  := kind ("/" key)? (";" item ("," item)*)?
 *   item     := tag | "{" name ":" value ("," name ":" value)* "}"
 *   kind     := [A-Za-z][A-Za-z0-9_-]*
 *
 * In a specifier, keys and tags may contain `*` globs; in a concrete resource they may not.
 */
function parse(text: string, specifier: boolean): ParsedResource | Failure {
  const segments: ResourceSegment[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    const kindStart = i;
    if (i < n && isLetter(text.charCodeAt(i))) {
      i++;
      while (i < n && isKindChar(text.charCodeAt(i))) i++;
    }
    if (i === kindStart) {
      return {
        position: i,
        expected:
          segments.length === 0
            ? 'a resource kind such as "proj"'
            : 'a resource kind such as "env" or "flag" after ":"',
      };
    }
    const kind = text.slice(kindStart, i);

    let key: string | undefined;
    if (text.charCodeAt(i) === SLASH) {
      i++;
      const keyStart = i;
      i = scanName(text, i, specifier);
      if (i === keyStart)
        return { position: i, expected: specifier ? 'a key or "*" after "/"' : 'a key after "/"' };
      key = text.slice(keyStart, i);
    }

    let tags: readonly string[] = NONE;
    let properties: readonly ResourceProperty[] = NONE;
    if (text.charCodeAt(i) === SEMICOLON) {
      i++;
      const tagList: string[] = [];
      const propertyList: ResourceProperty[] = [];
      for (;;) {
        if (text.charCodeAt(i) === OPEN_BRACE) {
          i++;
          for (;;) {
            const nameStart = i;
            i = scanName(text, i, false);
            if (i === nameStart) return { position: i, expected: 'a property name such as "critical"' };
            const name = text.slice(nameStart, i);
            if (text.charCodeAt(i) !== COLON) return { position: i, expected: '":" after the property name' };
            i++;
            const valueStart = i;
            i = scanName(text, i, false);
            if (i === valueStart) return { position: i, expected: 'a property value such as "true"' };
            propertyList.push(Object.freeze({ name, value: text.slice(valueStart, i) }));
            const code = text.charCodeAt(i);
            if (code === COMMA) {
              i++;
              continue;
            }
            if (code === CLOSE_BRACE) {
              i++;
              break;
            }
            return { position: i, expected: '"," or "}" in the property selector' };
          }
        } else {
          const tagStart = i;
          i = scanName(text, i, specifier);
          if (i === tagStart) {
            return { position: i, expected: 'a tag or a property selector such as "{critical:true}"' };
          }
          tagList.push(text.slice(tagStart, i).toLowerCase());
        }
        if (text.charCodeAt(i) !== COMMA) break;
        i++;
      }
      if (tagList.length > 0) tags = Object.freeze(tagList);
      if (propertyList.length > 0) properties = Object.freeze(propertyList);
    }

    segments.push(Object.freeze({ kind, key, tags, properties }));
    if (i === n) break;
    if (text.charCodeAt(i) === COLON) {
      i++;
      continue;
    }
    const expected =
      tags !== NONE || properties !== NONE
        ? '",", ":" or the end'
        : key !== undefined
          ? '";", ":" or the end'
          : '"/", ";", ":" or the end';
    return { position: i, expected };
  }
  const first = segments[0]!;
  return Object.freeze({
    source: text,
    segments: Object.freeze(segments),
    scope: first.key === undefined ? first.kind : `${first.kind}/${first.key}`,
  });
}

function isFailure(result: ParsedResource | Failure): result is Failure {
  return 'position' in result;
}

function describeAt(text: string, position: number): string {
  if (position >= text.length) return 'the end';
  const char = String.fromCodePoint(text.codePointAt(position)!);
  return JSON.stringify(char);
}

function toError(text: string, failure: Failure, field: string, specifier: boolean): PolicyError {
  const what = specifier ? 'resource specifier' : 'resource';
  let message = `Invalid ${what} ${JSON.stringify(text)} in \`${field}\`: expected ${failure.expected} at position ${
    failure.position
  }, got ${describeAt(text, failure.position)}.`;
  const found = text.charCodeAt(failure.position);
  if (!specifier && found === STAR) message += ' A concrete resource cannot contain globs.';
  if (found === SLASH && failure.expected.startsWith('a resource kind')) {
    // The documented typo `proj/*:env/*;qa_*:/flag/*`: a stray "/" where a kind starts.
    const fixed = text.slice(0, failure.position) + text.slice(failure.position + 1);
    if (!isFailure(parse(fixed, specifier))) message += ` Did you mean ${JSON.stringify(fixed)}?`;
  }
  return new PolicyError(field, message, failure.position);
}

function expectString(value: unknown, field: string, what: string): string {
  if (typeof value !== 'string') {
    throw new PolicyError(
      field,
      `Expected \`${field}\` to be a ${what} string such as "proj/*:env/production:flag/*", got ${
        value === null ? 'null' : typeof value
      }.`,
    );
  }
  return value;
}

/** The longest resource specifier a policy statement may hold (`statements[i].resources[j]`). */
export const MAX_SPECIFIER_LENGTH = 1024;

/**
 * Parses a resource specifier of a policy statement: `kind/keyGlob;tagGlob,...:kind/keyGlob...`, at most
 * {@link MAX_SPECIFIER_LENGTH} characters.
 *
 * @param field Path named in errors, such as `statements[1].resources[0]`.
 * @throws {PolicyError} with the 0-based `position` of the first offending character.
 */
export function parseResourceSpecifier(specifier: unknown, field = 'resource'): ParsedResource {
  const text = expectString(specifier, field, 'resource specifier');
  if (text.length > MAX_SPECIFIER_LENGTH) {
    throw new PolicyError(
      field,
      `Expected \`${field}\` to be a resource specifier of at most ${MAX_SPECIFIER_LENGTH} characters, got ${text.length} characters.`,
    );
  }
  const result = parse(text, true);
  if (isFailure(result)) throw toError(text, result, field, true);
  return result;
}

/**
 * Parses a concrete resource of an access: `proj/default:env/production:flag/f`, optionally tagged
 * (`proj/app;mobile:env/production`) or with properties (`env/production;{critical:true}`).
 *
 * @throws {PolicyError} with the 0-based `position` of the first offending character.
 */
export function parseAccessResource(resource: unknown, field = 'resource'): ParsedResource {
  const text = expectString(resource, field, 'resource');
  const result = parse(text, false);
  if (isFailure(result)) throw toError(text, result, field, false);
  return result;
}

/**
 * Like {@link parseAccessResource} but returns `undefined` for a malformed resource instead of throwing.
 */
export function tryParseAccessResource(resource: string): ParsedResource | undefined {
  const result = parse(resource, false);
  return isFailure(result) ? undefined : result;
}

/**
 * Parsed resources by access object: the resource text that failed to parse, or its parse. Keyed weakly, so an
 * entry lives exactly as long as the event that holds the access; nothing here needs pruning.
 */
const parsedAccesses = new WeakMap<object, ParsedResource | string>();

/**
 * The parsed resource of one access, or `undefined` when it is malformed (or not a string). One emit checks the
 * same access objects against many policies and index buckets: each access's resource is parsed once, on first
 * use, and later calls with the same object answer from a weak cache. A cached parse is used only while
 * `access.resource` still holds the text it was made from, so a host that edits an access and emits it again
 * gets a fresh parse.
 */
export function accessResourceOf(access: { readonly resource: unknown }): ParsedResource | undefined {
  const resource = access.resource;
  if (typeof resource !== 'string') return undefined;
  const hit = parsedAccesses.get(access);
  if (hit !== undefined) {
    if (typeof hit === 'string') {
      if (hit === resource) return undefined;
    } else if (hit.source === resource) {
      return hit;
    }
  }
  const parsed = tryParseAccessResource(resource);
  parsedAccesses.set(access, parsed ?? resource);
  return parsed;
}

/** True when the key or tag text contains a `*` glob. */
export function hasGlob(text: string): boolean {
  return text.includes('*');
}

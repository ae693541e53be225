// Checks against a catalog: type names in `events` (with a suggestion) and template fields against the schemas.
import { describe, isPlainObject, WebhookValidationError } from '../core/errors.js';
import { isMatchAll } from '../routing/policy/glob.js';
import { type EventCatalog, isEventCatalog } from './event-catalog.js';

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), stopping early past `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, before[j - 2]! + 1);
      current[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** Globs a reader would write for a catalog: each dash- or dot-delimited prefix and suffix of a type, plus `*`. */
function globCandidates(names: readonly string[]): string[] {
  const globs = new Set<string>();
  for (const name of names) {
    for (let at = 0; at < name.length; at++) {
      const char = name[at];
      if (char === '-' || char === '.' || char === '_' || char === ':') {
        globs.add(`${name.slice(0, at + 1)}*`);
        globs.add(`*${name.slice(at)}`);
      }
    }
  }
  return [...globs];
}

/**
 * "Did you mean ...?": the catalog type (or, for a glob, the glob over catalog types) closest to `name`, or
 * undefined when nothing is close. Case is ignored first (`Feature-Created` -> `feature-created`), then small typos
 * (`feature-creatd`), then a unique type of which `name` is a whole dash-delimited part (`strategy-add` ->
 * `feature-strategy-add`).
 */
export function suggest(name: string, catalog: EventCatalog | readonly string[]): string | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  const names = isEventCatalog(catalog) ? catalog.names : (catalog as readonly string[]);
  const candidates = name.includes('*') ? globCandidates(names) : names;
  const lower = name.toLowerCase();
  const sameLetters = candidates.find((candidate) => candidate.toLowerCase() === lower && candidate !== name);
  if (sameLetters !== undefined) return sameLetters;
  const max = Math.max(1, Math.min(3, Math.floor(name.length / 4)));
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const d = distance(lower, candidate.toLowerCase(), Math.min(max, bestDistance));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== undefined) return best;
  if (name.includes('*')) return undefined;
  const parts = names.filter(
    (candidate) => candidate.endsWith(`-${name}`) || candidate.startsWith(`${name}-`),
  );
  return parts.length === 1 ? parts[0] : undefined;
}

/**
 * Checks a webhook's `events` against a catalog: every exact entry must be a type of it and every glob must match
 * at least one type (`*` alone always does). Call it where `events` is saved.
 *
 * @throws {WebhookValidationError} naming `events[i]`, with a "did you mean" when a type is close.
 */
export function validateEventTypes(
  events: readonly unknown[],
  catalog: EventCatalog,
  field = 'events',
): void {
  for (let i = 0; i < events.length; i++) {
    const entry = events[i];
    const path = `${field}[${i}]`;
    if (typeof entry !== 'string' || entry === '') {
      throw new WebhookValidationError(
        path,
        `Expected \`${path}\` to be an event type, got ${describe(entry)}`,
      );
    }
    if (isMatchAll(entry) || catalog.select(entry).length > 0) continue;
    const hint = suggest(entry, catalog);
    const what = entry.includes('*')
      ? `a glob that matches a type of the "${catalog.name}" catalog`
      : `an event type of the "${catalog.name}" catalog`;
    throw new WebhookValidationError(
      path,
      `Expected \`${path}\` to be ${what}, got ${describe(entry)}${hint === undefined ? '' : `; did you mean ${JSON.stringify(hint)}?`}`,
    );
  }
}

type SchemaNode = Readonly<Record<string, unknown>>;

/** The schema one step below `node` for `key`: a listed property, array items, or undefined when it is unknown. */
function childSchema(node: SchemaNode, key: string): SchemaNode | 'open' | undefined {
  const properties = node.properties as Record<string, SchemaNode> | undefined;
  if (properties !== undefined && Object.hasOwn(properties, key)) return properties[key];
  if (/^\d+$/.test(key) && isPlainObject(node.items)) return node.items as SchemaNode;
  // A level that lists no properties, or allows others, accepts any name below it.
  if (
    properties === undefined ||
    node.additionalProperties === true ||
    isPlainObject(node.additionalProperties)
  ) {
    return 'open';
  }
  if (node.patternProperties !== undefined) return 'open';
  return undefined;
}

/** Why `path` (after `event.`) is not a field of `schema`: the unknown segment and the names known there. */
function unknownIn(schema: SchemaNode, path: readonly string[]): { at: number; known: string[] } | undefined {
  let node: SchemaNode = schema;
  for (let i = 0; i < path.length; i++) {
    const next = childSchema(node, path[i]!);
    if (next === 'open') return undefined;
    if (next === undefined) return { at: i, known: Object.keys((node.properties as object) ?? {}) };
    node = next;
  }
  return undefined;
}

/** `{{name}}` tags at the top level of a template (sections' insides are relative to the section: not checked). */
function topLevelNames(tokens: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const token of tokens as [string, string][]) {
    if (token[0] === 'name' || token[0] === '&' || token[0] === '#' || token[0] === '^') names.push(token[1]);
  }
  return names;
}

/**
 * Checks the `{{event.…}}` fields of a body template against the JSON Schemas of the types a webhook subscribes
 * to (every type when `events` is empty or `*`). A field is accepted when it is a field of at least one of those
 * schemas, or lies below a level that lists no properties (`event.data.anything` when `data` is open). Nothing is
 * checked when one of the types has no schema, or the template does not parse (the template compiler reports it).
 *
 * @param tokens The template's tokens (`Mustache.parse(template)`), so this module needs no template engine.
 * @throws {WebhookValidationError} (field `bodyTemplate`) naming the unknown field, with a "did you mean".
 */
export function validateTemplateFields(
  tokens: readonly unknown[],
  events: readonly string[],
  catalog: EventCatalog,
  field = 'bodyTemplate',
): void {
  const all = events.length === 0 || events.some(isMatchAll);
  const types = all ? catalog.names : [...new Set(events.flatMap((entry) => catalog.select(entry)))];
  const schemas = types.map((type) => catalog.types[type]?.schema);
  if (schemas.length === 0 || schemas.some((schema) => !isPlainObject(schema))) return;
  const distinct = [...new Set(schemas as SchemaNode[])];
  for (const name of topLevelNames(tokens)) {
    if (!name.startsWith('event.')) continue;
    const path = name.slice('event.'.length).split('.');
    const misses = distinct.map((schema) => unknownIn(schema, path));
    if (misses.some((miss) => miss === undefined)) continue;
    const { at, known } = misses[0]!;
    const hint = suggest(path[at]!, known);
    const shown = `event.${path.slice(0, at + 1).join('.')}`;
    throw new WebhookValidationError(
      field,
      `Expected \`{{${name}}}\` in \`${field}\` to name a field of the events this webhook receives (${describe(types.length === 1 ? types[0] : `${types.length} types`)}), but \`${shown}\` is not one${hint === undefined ? '' : `; did you mean "event.${[...path.slice(0, at), hint].join('.')}"?`}`,
    );
  }
}

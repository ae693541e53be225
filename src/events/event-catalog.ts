import { describe, isPlainObject, OptionsError, WebhookValidationError } from '../core/errors.js';
import type { WebhookEvent } from '../core/types.js';
import { compileGlob, isMatchAll } from '../routing/policy/glob.js';
import { hex, SAMPLE_MEMBER } from './sample-event.js';

/** One event type of a catalog. */
export interface EventTypeDefinition {
  /** What happened, in one sentence (shown in the admin API's `GET /event-types` and the portal). */
  description: string;
  /** JSON Schema (2020-12) of events of this type; lets the dispatcher check template fields at save time. */
  schema?: Readonly<Record<string, unknown>>;
  /** Still sent but superseded: subscribing is allowed, the catalog says what replaces it in `description`. */
  deprecated?: boolean;
  /** A realistic event of this type. `sampleEventFrom()` (and so `dispatcher.test()`) sends a copy of it. */
  sample?: Readonly<WebhookEvent>;
}

/**
 * How a catalog's events are shaped, so samples look like the real thing: Unleash events
 * (`{ id, type, createdBy, createdAt, featureName, project, environment, data, preData, tags }`), LaunchDarkly
 * change-history entries (`{ _id, date, kind, accesses, ... }` with `type` set to the kind), or plain
 * `{ id, type, createdAt, data }` objects.
 */
export type EventFormat = 'unleash' | 'launchdarkly' | 'generic';

/** The event types a dispatcher accepts in `events` filters (`createWebhookDispatcher({ eventTypes })`). */
export interface EventCatalog {
  /** For messages and the admin API. */
  readonly name: string;
  readonly format: EventFormat;
  /** Every type by name, in definition order. Spread it to extend a shipped catalog. */
  readonly types: Readonly<Record<string, Readonly<EventTypeDefinition>>>;
  /** The type names, in definition order. */
  readonly names: readonly string[];
  /** True when `type` is a type of this catalog (exact, case-sensitive). */
  has(type: string): boolean;
  /** The types an `events` entry selects: itself when it is a type, the types a glob matches, else none. */
  select(pattern: string): string[];
}

/** What `defineEventCatalog()` accepts. A type maps to its description, or to a full definition. */
export interface EventCatalogDefinition {
  /** @default 'custom' */
  name?: string;
  /** @default 'generic' */
  format?: EventFormat;
  types: Readonly<Record<string, string | Readonly<EventTypeDefinition>>>;
}

const BRAND = Symbol.for('webhook-dispatcher.event-catalog');
const FORMATS: readonly EventFormat[] = ['unleash', 'launchdarkly', 'generic'];
/** Longest type name accepted; real ones are under 50 characters. */
const MAX_TYPE_LENGTH = 200;
const DEFINITION_FIELDS = new Set(['description', 'schema', 'deprecated', 'sample']);

function optionsError(field: string, expected: string, value: unknown): OptionsError {
  return new OptionsError(field, `Expected \`${field}\` to be ${expected}, got ${describe(value)}`);
}

/** Why `name` cannot be an event type name, or undefined when it can. */
function badTypeName(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_TYPE_LENGTH) return `it is longer than ${MAX_TYPE_LENGTH} characters`;
  for (let at = 0; at < name.length; at++) {
    const code = name.charCodeAt(at);
    if (code <= 0x20 || code === 0x7f) return `unexpected ${JSON.stringify(name[at])} at position ${at}`;
    if (code === 42) return `\`*\` at position ${at} is a glob character`;
  }
  return undefined;
}

function definitionOf(field: string, value: unknown): EventTypeDefinition {
  if (typeof value === 'string') return Object.freeze({ description: value });
  if (!isPlainObject(value)) throw optionsError(field, 'a description or { description, schema? }', value);
  for (const key of Object.keys(value)) {
    if (!DEFINITION_FIELDS.has(key)) {
      throw new OptionsError(
        `${field}.${key}`,
        `Unknown field \`${field}.${key}\`; known fields: ${[...DEFINITION_FIELDS].join(', ')}`,
      );
    }
  }
  const { description, schema, deprecated, sample } = value;
  if (typeof description !== 'string') throw optionsError(`${field}.description`, 'a string', description);
  if (schema !== undefined && !isPlainObject(schema) && typeof schema !== 'boolean') {
    throw optionsError(`${field}.schema`, 'a JSON Schema object', schema);
  }
  if (deprecated !== undefined && typeof deprecated !== 'boolean') {
    throw optionsError(`${field}.deprecated`, 'a boolean', deprecated);
  }
  if (sample !== undefined && !isPlainObject(sample))
    throw optionsError(`${field}.sample`, 'an event object', sample);
  const definition: EventTypeDefinition = { description };
  if (schema !== undefined)
    definition.schema = Object.freeze(structuredClone(schema) as Record<string, unknown>);
  if (deprecated) definition.deprecated = true;
  if (sample !== undefined) definition.sample = Object.freeze(structuredClone(sample) as WebhookEvent);
  return Object.freeze(definition);
}

/**
 * Defines the event types a dispatcher accepts. Validated once here: names are non-empty, without whitespace or
 * `*`, at most 200 characters.
 *
 * @example
 * const catalog = defineEventCatalog({
 *   name: 'billing',
 *   types: { 'invoice.paid': 'An invoice was paid.', 'invoice.voided': { description: 'An invoice was voided.' } },
 * });
 * @example Extending a shipped catalog
 * defineEventCatalog({ name: 'unleash+', format: 'unleash', types: { ...UNLEASH_EVENT_TYPES.types, 'my-type': 'Mine.' } });
 */
export function defineEventCatalog(definition: EventCatalogDefinition): EventCatalog {
  if (!isPlainObject(definition))
    throw optionsError('eventTypes', 'a catalog definition { types }', definition);
  const name = definition.name ?? 'custom';
  if (typeof name !== 'string' || name === '')
    throw optionsError('eventTypes.name', 'a non-empty string', name);
  const format = definition.format ?? 'generic';
  if (!FORMATS.includes(format))
    throw optionsError('eventTypes.format', `one of ${FORMATS.join(', ')}`, format);
  if (!isPlainObject(definition.types))
    throw optionsError('eventTypes.types', 'an object of type -> description', definition.types);
  const types: Record<string, EventTypeDefinition> = Object.create(null);
  for (const [type, value] of Object.entries(definition.types)) {
    const field = `eventTypes.types[${JSON.stringify(type)}]`;
    const why = badTypeName(type);
    if (why !== undefined)
      throw new OptionsError(field, `Expected \`${field}\` to be an event type name, but ${why}`);
    types[type] = definitionOf(field, value);
  }
  const names = Object.freeze(Object.keys(types));
  if (names.length === 0)
    throw optionsError('eventTypes.types', 'an object with at least one type', definition.types);
  Object.freeze(types);
  const selections = new Map<string, string[]>();
  const catalog: EventCatalog = {
    name,
    format,
    types,
    names,
    has: (type) => typeof type === 'string' && Object.hasOwn(types, type),
    select(pattern) {
      if (!pattern.includes('*')) return Object.hasOwn(types, pattern) ? [pattern] : [];
      let selected = selections.get(pattern);
      if (selected === undefined) {
        const test = compileGlob(pattern);
        selected = names.filter((type) => test(type));
        // Bounded: a catalog is finite, and so are the patterns of saved webhooks worth caching.
        if (selections.size < 1000) selections.set(pattern, selected);
      }
      return [...selected];
    },
  };
  Object.defineProperty(catalog, BRAND, { value: true });
  return Object.freeze(catalog);
}

/** True for catalogs made by `defineEventCatalog()` (also across two copies of this package). */
export function isEventCatalog(value: unknown): value is EventCatalog {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

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

/** An Unleash event of `type`: a feature event names a flag, an environment event an environment too. */
function unleashSample(type: string, date: Date): WebhookEvent {
  const featureEvent =
    type.startsWith('feature-') ||
    type.startsWith('change') ||
    type.startsWith('strategy-') ||
    type.startsWith('release-plan-');
  const environmentEvent =
    type.includes('environment') ||
    type.includes('strategy') ||
    type.startsWith('change') ||
    type.startsWith('release-plan-');
  const projectEvent = featureEvent || type.startsWith('project-');
  const flag = 'sample-flag';
  return {
    id: `test-${hex(6)}`,
    type,
    createdBy: 'webhook-dispatcher test',
    createdAt: date,
    createdByUserId: -1,
    featureName: featureEvent ? flag : null,
    project: projectEvent ? 'default' : null,
    environment: environmentEvent ? 'production' : null,
    data: featureEvent
      ? { name: flag, project: 'default', type: 'release', stale: false, enabled: true }
      : {},
    preData: featureEvent
      ? { name: flag, project: 'default', type: 'release', stale: false, enabled: false }
      : null,
    tags: [],
    test: true,
  };
}

/** Resources by change-history kind, with an action that fits; flags are production flag changes. */
const LAUNCHDARKLY_SAMPLE_ACCESS: Record<string, { action: string; resource: string }> = {
  flag: { action: 'updateOn', resource: 'proj/default:env/production:flag/sample-flag' },
  segment: { action: 'updateIncluded', resource: 'proj/default:env/production:segment/sample-segment' },
  environment: { action: 'updateName', resource: 'proj/default:env/production' },
  project: { action: 'updateProjectName', resource: 'proj/default' },
};

function launchDarklySample(kind: string, now: number): WebhookEvent {
  const access = LAUNCHDARKLY_SAMPLE_ACCESS[kind] ?? {
    action: `update${kind[0]?.toUpperCase() ?? ''}${kind.slice(1)}`,
    resource: `${kind}/sample`,
  };
  return {
    _links: { canonical: { href: '/api/v2/flags/default/sample-flag', type: 'application/json' } },
    _id: hex(12),
    _accountId: 'webhook-dispatcher',
    date: now,
    kind,
    type: kind,
    name: `sample ${kind}`,
    description: `* A test event from webhook-dispatcher (${kind})\n`,
    shortDescription: '',
    accesses: [access],
    member: { ...SAMPLE_MEMBER },
    titleVerb: 'changed',
    title: `A test event changed the ${kind} sample ${kind}`,
    target: { name: `sample ${kind}`, resources: [access.resource] },
    test: true,
  };
}

/**
 * A realistic event of `type` for `dispatcher.test()`: a copy of the type's `sample` when it has one, else an event
 * shaped like the catalog's format (Unleash event, LaunchDarkly change-history entry with `type` set to its kind, or
 * `{ id, type, createdAt, data }`). Every sample carries `test: true`.
 *
 * @throws {WebhookValidationError} (field `type`) when `type` is not a type of the catalog.
 */
export function sampleEventFrom(
  catalog: EventCatalog,
  type: string,
  options: { now?: number } = {},
): WebhookEvent {
  if (!catalog.has(type)) {
    const hint = suggest(type, catalog);
    throw new WebhookValidationError(
      'type',
      `Expected \`type\` to be an event type of the "${catalog.name}" catalog, got ${describe(type)}${hint === undefined ? '' : `; did you mean ${JSON.stringify(hint)}?`}`,
    );
  }
  const now = options.now ?? Date.now();
  const own = catalog.types[type]?.sample;
  if (own !== undefined) return { ...structuredClone(own as WebhookEvent), type, test: true };
  if (catalog.format === 'unleash') return unleashSample(type, new Date(now));
  if (catalog.format === 'launchdarkly') return launchDarklySample(type, now);
  return { id: `test-${hex(6)}`, type, createdAt: new Date(now), data: {}, test: true };
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

import { describe, isPlainObject, OptionsError } from '../core/errors.js';
import type { WebhookEvent } from '../core/types.js';
import { compileGlob } from '../routing/policy/glob.js';

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

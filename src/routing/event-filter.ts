import { describe, WebhookValidationError } from '../core/errors.js';
import { compileGlobList, isMatchAll, MAX_GLOB_LENGTH } from './policy/glob.js';

/** A compiled `events` filter of a webhook. */
export interface EventFilter {
  /**
   * True when an event of this type passes. An event without a type (`undefined`) passes only a filter that
   * accepts every type.
   */
  matches(type: string | undefined): boolean;
  /**
   * The exact types this filter accepts, deduplicated, when it has no glob; `undefined` when it accepts every
   * type or contains a glob such as `change-request-*`. Lets a dispatcher index webhooks by type.
   */
  readonly literalTypes: readonly string[] | undefined;
}

const ALL_TYPES: EventFilter = Object.freeze({ matches: () => true, literalTypes: undefined });

/**
 * Compiles a webhook's event-type filter. Absent, `[]` or `['*']` accept every event, including events without
 * a `type`; otherwise each entry is an exact type (`feature-created`) or a glob in which `*` matches any run of
 * characters but `/` (`change-request-*`), and matching is case-sensitive. Each entry is at most
 * {@link MAX_GLOB_LENGTH} characters; matching is linear in the event type's length whatever the globs are.
 *
 * @param field Path named in errors.
 * @throws {WebhookValidationError} when `events` is not an array of non-empty strings without whitespace, or an
 *   entry is too long.
 */
export function compileEventFilter(events: readonly string[] | undefined, field = 'events'): EventFilter {
  if (events === undefined) return ALL_TYPES;
  if (!Array.isArray(events)) {
    throw new WebhookValidationError(
      field,
      `Expected \`${field}\` to be an array of event types such as ["feature-created"], got ${describe(events)}.`,
    );
  }
  let all = events.length === 0;
  let literalOnly = true;
  for (let i = 0; i < events.length; i++) {
    const type: unknown = events[i];
    const path = `${field}[${i}]`;
    if (typeof type !== 'string' || type.length === 0) {
      throw new WebhookValidationError(
        path,
        `Expected \`${path}\` to be an event type or glob such as "feature-created" or "change-request-*", got ${describe(type)}.`,
      );
    }
    if (type.length > MAX_GLOB_LENGTH) {
      throw new WebhookValidationError(
        path,
        `Expected \`${path}\` to be an event type or glob of at most ${MAX_GLOB_LENGTH} characters, got ${type.length} characters.`,
      );
    }
    for (let at = 0; at < type.length; at++) {
      const code = type.charCodeAt(at);
      if (code <= 0x20 || code === 0x7f) {
        throw new WebhookValidationError(
          path,
          `Invalid event type ${JSON.stringify(type)} in \`${path}\`: unexpected ${JSON.stringify(type[at])} at position ${at}.`,
        );
      }
    }
    if (isMatchAll(type)) all = true;
    else if (type.includes('*')) literalOnly = false;
  }
  if (all) return ALL_TYPES;
  const test = compileGlobList(events);
  return Object.freeze({
    matches: (type: string | undefined) => type !== undefined && test(type),
    literalTypes: literalOnly ? Object.freeze([...new Set(events)]) : undefined,
  });
}

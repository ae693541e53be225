import { randomUUID } from 'node:crypto';
import { InvalidEventError, kindOf } from '../core/errors.js';
import { findUnstorable, unstorableExpectation } from '../core/storable-text.js';
import type { PolicyAccess, WebhookEvent } from '../core/types.js';

/**
 * The most accesses one event may carry (`event.accesses.length`). Matching costs (accesses x policies) at most,
 * so the cap bounds the work one emit can ask for; LaunchDarkly change-history entries carry one or a few.
 * An event over the cap is refused with an `InvalidEventError` before anything is matched.
 */
export const MAX_ACCESSES = 1000;

/** Checks the parts of an event the dispatcher reads; everything else is the host's business. */
export function assertEvent(event: unknown, method: string): asserts event is WebhookEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidEventError(`${method}: expected the event to be a plain object, got ${kindOf(event)}`);
  }
  const { type, accesses } = event as WebhookEvent;
  if (type !== undefined && type !== null && typeof type !== 'string') {
    throw new InvalidEventError(`${method}: expected \`event.type\` to be a string, got ${kindOf(type)}`);
  }
  assertStorableIds(event as WebhookEvent, method);
  if (accesses !== undefined && accesses !== null) {
    if (!Array.isArray(accesses)) {
      throw new InvalidEventError(
        `${method}: expected \`event.accesses\` to be an array, got ${kindOf(accesses)}`,
      );
    }
    if (accesses.length > MAX_ACCESSES) {
      throw new InvalidEventError(
        `${method}: expected \`event.accesses\` to hold at most ${MAX_ACCESSES} accesses, got ${accesses.length}; split the change into several events`,
      );
    }
    for (let i = 0; i < accesses.length; i++) {
      const access = accesses[i] as Partial<PolicyAccess> | null;
      if (typeof access?.action !== 'string' || typeof access.resource !== 'string') {
        throw new InvalidEventError(
          `${method}: expected \`event.accesses[${i}]\` to be { action: string, resource: string }`,
        );
      }
    }
  }
}

/**
 * The event's identifiers are stored as they are (delivery log, queue rows): a NUL or a lone surrogate in them is
 * refused. The rest of the event is data, sent as JSON, which escapes both.
 */
function assertStorableIds(event: WebhookEvent, method: string): void {
  for (const field of ['type', 'id', '_id'] as const) {
    const value = event[field];
    const found = typeof value === 'string' ? findUnstorable(value) : undefined;
    if (found) {
      throw new InvalidEventError(`${method}: expected \`event.${field}\` ${unstorableExpectation(found)}`);
    }
  }
}

/** `event.id ?? event._id`, else a generated UUID. */
export function eventIdOf(event: WebhookEvent): string {
  const id = event.id ?? event._id;
  return id === undefined || id === null || id === '' ? randomUUID() : String(id);
}

/**
 * The accesses the policy reads: `event.accesses`, or for an Unleash-shaped event with a `project` one derived
 * access `{ action: type, resource: proj/<project>[:env/<environment>][:flag/<featureName>] }`.
 */
export function accessesOf(event: WebhookEvent): readonly PolicyAccess[] {
  if (Array.isArray(event.accesses)) return event.accesses;
  if (typeof event.project !== 'string' || event.project === '') return [];
  let resource = `proj/${event.project}`;
  if (typeof event.environment === 'string' && event.environment !== '')
    resource += `:env/${event.environment}`;
  if (typeof event.featureName === 'string' && event.featureName !== '')
    resource += `:flag/${event.featureName}`;
  return [{ action: typeof event.type === 'string' ? event.type : '', resource }];
}

/** JSON of the event (Dates become ISO-8601 through `Date#toJSON`). Unserializable events fail fast. */
export function serializeEvent(event: WebhookEvent, method: string): string {
  try {
    return JSON.stringify(event);
  } catch (error) {
    throw new InvalidEventError(
      `${method}: the event cannot be serialized to JSON: ${(error as Error).message}`,
    );
  }
}

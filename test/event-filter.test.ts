import { describe, expect, it } from 'vitest';
import { WebhookValidationError } from '../src/core/errors.js';
import { compileEventFilter } from '../src/routing/event-filter.js';

describe('compileEventFilter', () => {
  it.each([
    ['absent', undefined],
    ['empty', []],
    ['["*"]', ['*']],
    ['a "*" among names', ['feature-created', '*']],
  ])('lets every type through when %s, including events without a type', (_case, events) => {
    const filter = compileEventFilter(events);
    expect(filter.matches('feature-created')).toBe(true);
    expect(filter.matches('anything-else')).toBe(true);
    expect(filter.matches(undefined)).toBe(true);
    expect(filter.literalTypes).toBeUndefined();
  });

  it('matches exact names only, case-sensitively', () => {
    const filter = compileEventFilter(['feature-created', 'feature-archived']);
    expect(filter.matches('feature-created')).toBe(true);
    expect(filter.matches('feature-archived')).toBe(true);
    expect(filter.matches('feature-updated')).toBe(false);
    expect(filter.matches('Feature-Created')).toBe(false);
    expect(filter.matches('feature-created-x')).toBe(false);
  });

  it('matches a single exact name', () => {
    const filter = compileEventFilter(['feature-created']);
    expect(filter.matches('feature-created')).toBe(true);
    expect(filter.matches('feature-updated')).toBe(false);
    expect(filter.literalTypes).toEqual(['feature-created']);
  });

  it('does not let an event without a type through a filter with names', () => {
    expect(compileEventFilter(['feature-created']).matches(undefined)).toBe(false);
    expect(compileEventFilter(['a', 'b']).matches(undefined)).toBe(false);
    expect(compileEventFilter(['change-request-*']).matches(undefined)).toBe(false);
  });

  it('matches globs such as change-request-*', () => {
    const filter = compileEventFilter(['change-request-*', 'feature-created']);
    expect(filter.matches('change-request-created')).toBe(true);
    expect(filter.matches('change-request-approved')).toBe(true);
    expect(filter.matches('feature-created')).toBe(true);
    expect(filter.matches('feature-updated')).toBe(false);
    expect(filter.matches('change-requests')).toBe(false);
  });

  it('treats "." and other characters in a glob literally', () => {
    const filter = compileEventFilter(['flag.*']);
    expect(filter.matches('flag.updated')).toBe(true);
    expect(filter.matches('flagXupdated')).toBe(false);
  });

  it('accepts an entry of exactly 256 characters', () => {
    const type = 'x'.repeat(256);
    expect(compileEventFilter([type]).matches(type)).toBe(true);
  });

  it('keeps `*` within one `/`-separated part of a type', () => {
    const filter = compileEventFilter(['flag/*']);
    expect(filter.matches('flag/created')).toBe(true);
    expect(filter.matches('flag/')).toBe(true);
    expect(filter.matches('flag/a/b')).toBe(false);
  });

  it('lists deduplicated literal types for indexing, and none when a glob is present', () => {
    expect(compileEventFilter(['a', 'b', 'a']).literalTypes).toEqual(['a', 'b']);
    expect(compileEventFilter(['a', 'b*']).literalTypes).toBeUndefined();
  });

  it('returns a frozen filter', () => {
    const filter = compileEventFilter(['a', 'b']);
    expect(Object.isFrozen(filter)).toBe(true);
    expect(Object.isFrozen(filter.literalTypes)).toBe(true);
  });

  // [case, events, field, message fragment]
  const invalid: [string, unknown, string, string][] = [
    ['not an array', 'feature-created', 'events', 'Expected `events` to be an array of event types'],
    ['null', null, 'events', 'got null'],
    ['an empty string', ['a', 'b', ''], 'events[2]', 'Expected `events[2]` to be an event type or glob'],
    ['a number', ['a', 3], 'events[1]', 'got 3'],
    ['whitespace', ['feature created'], 'events[0]', 'unexpected " " at position 7'],
    [
      'an entry longer than 256 characters',
      ['a', `${'*a'.repeat(128)}b`],
      'events[1]',
      'Expected `events[1]` to be an event type or glob of at most 256 characters, got 257 characters.',
    ],
  ];
  it.each(invalid)('refuses %s, naming the entry', (_case, events, field, fragment) => {
    let error: unknown;
    try {
      compileEventFilter(events as string[]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WebhookValidationError);
    expect((error as WebhookValidationError).code).toBe('ERR_INVALID_WEBHOOK');
    expect((error as WebhookValidationError).field).toBe(field);
    expect((error as Error).message).toContain(fragment);
  });

  it('names errors under a custom field', () => {
    expect(() => compileEventFilter([''], 'patch.events')).toThrow(/`patch\.events\[0\]`/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  accessResourceOf,
  MAX_SPECIFIER_LENGTH,
  parseAccessResource,
  parseResourceSpecifier,
  tryParseAccessResource,
} from '../src/routing/policy/resource.js';
import { thrown } from './helpers/thrown.js';

describe('parseResourceSpecifier', () => {
  it('splits a specifier into kind/key segments in chain order', () => {
    const parsed = parseResourceSpecifier('proj/*:env/production:flag/ops_*');
    expect(parsed.segments).toEqual([
      { kind: 'proj', key: '*', tags: [], properties: [] },
      { kind: 'env', key: 'production', tags: [], properties: [] },
      { kind: 'flag', key: 'ops_*', tags: [], properties: [] },
    ]);
    expect(parsed.source).toBe('proj/*:env/production:flag/ops_*');
    expect(parsed.scope).toBe('proj/*');
  });

  it('reads comma-separated tags after ";" and lower-cases them', () => {
    const parsed = parseResourceSpecifier('proj/*;Mobile,qa_*:env/*');
    expect(parsed.segments[0]?.tags).toEqual(['mobile', 'qa_*']);
    expect(parsed.segments[1]?.tags).toEqual([]);
  });

  it('keeps key case as written, because keys are case-sensitive', () => {
    expect(parseResourceSpecifier('proj/Default:env/Production').segments.map((s) => s.key)).toEqual([
      'Default',
      'Production',
    ]);
  });

  it('reads property selectors, whose ":" does not end the segment', () => {
    const parsed = parseResourceSpecifier('proj/*:env/*;{critical:true}:flag/*');
    expect(parsed.segments).toHaveLength(3);
    expect(parsed.segments[1]).toEqual({
      kind: 'env',
      key: '*',
      tags: [],
      properties: [{ name: 'critical', value: 'true' }],
    });
  });

  it('mixes tags and several properties in one segment', () => {
    const parsed = parseResourceSpecifier('env/*;qa,{critical:true,tier:gold}');
    expect(parsed.segments[0]?.tags).toEqual(['qa']);
    expect(parsed.segments[0]?.properties).toEqual([
      { name: 'critical', value: 'true' },
      { name: 'tier', value: 'gold' },
    ]);
  });

  it('accepts bare kinds such as acct, with no key', () => {
    const parsed = parseResourceSpecifier('acct');
    expect(parsed.segments).toEqual([{ kind: 'acct', key: undefined, tags: [], properties: [] }]);
    expect(parsed.scope).toBe('acct');
  });

  it('accepts hyphenated kinds and keys with dots, tildes and hyphens', () => {
    const parsed = parseResourceSpecifier('relay-proxy-config/a.b~c-d');
    expect(parsed.segments[0]).toMatchObject({ kind: 'relay-proxy-config', key: 'a.b~c-d' });
  });

  it('returns frozen results', () => {
    const parsed = parseResourceSpecifier('proj/*;a');
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.segments)).toBe(true);
    expect(Object.isFrozen(parsed.segments[0])).toBe(true);
    expect(Object.isFrozen(parsed.segments[0]?.tags)).toBe(true);
  });

  // [specifier, 0-based position, text the message must contain]
  const errors: [string, number, string][] = [
    ['', 0, 'expected a resource kind such as "proj" at position 0, got the end'],
    ['/proj/*', 0, 'expected a resource kind such as "proj" at position 0, got "/"'],
    [
      'proj/*:env/*;qa_*:/flag/*',
      18,
      'expected a resource kind such as "env" or "flag" after ":" at position 18, got "/"',
    ],
    ['proj/*::env/*', 7, 'expected a resource kind such as "env" or "flag" after ":" at position 7, got ":"'],
    ['proj/*:', 7, 'at position 7, got the end'],
    ['*/x', 0, 'expected a resource kind such as "proj" at position 0, got "*"'],
    ['9proj/x', 0, 'got "9"'],
    ['proj/', 5, 'expected a key or "*" after "/" at position 5, got the end'],
    ['proj//x', 5, 'expected a key or "*" after "/" at position 5, got "/"'],
    ['proj/a/b', 6, 'expected ";", ":" or the end at position 6, got "/"'],
    ['proj/a b', 6, 'expected ";", ":" or the end at position 6, got " "'],
    [' proj/a', 0, 'got " "'],
    [
      'proj/a;',
      7,
      'expected a tag or a property selector such as "{critical:true}" at position 7, got the end',
    ],
    ['proj/a;x,,y', 9, 'expected a tag or a property selector'],
    ['proj/a;x;y', 8, 'expected ",", ":" or the end at position 8, got ";"'],
    ['proj*', 4, 'expected "/", ";", ":" or the end at position 4, got "*"'],
    ['proj/{x}', 5, 'expected a key or "*" after "/" at position 5, got "{"'],
    ['env/*;{}', 7, 'expected a property name such as "critical" at position 7, got "}"'],
    ['env/*;{critical}', 15, 'expected ":" after the property name at position 15, got "}"'],
    ['env/*;{critical:}', 16, 'expected a property value such as "true" at position 16, got "}"'],
    ['env/*;{critical:true', 20, 'expected "," or "}" in the property selector at position 20, got the end'],
    ['env/*;{critical:tr*e}', 18, 'expected "," or "}" in the property selector at position 18, got "*"'],
    ['env/*;{critical:true}x', 21, 'expected ",", ":" or the end at position 21, got "x"'],
  ];

  it.each(errors)('refuses %j at position %i', (specifier, position, text) => {
    const error = thrown(() => parseResourceSpecifier(specifier, 'statements[1].resources[0]'));
    expect(error.code).toBe('ERR_INVALID_POLICY');
    expect(error.field).toBe('statements[1].resources[0]');
    expect(error.position).toBe(position);
    expect(error.message).toContain(text);
    expect(error.message).toContain(`${JSON.stringify(specifier)} in \`statements[1].resources[0]\``);
  });

  it('rejects the documented typo proj/*:env/*;qa_*:/flag/* and suggests the fix', () => {
    const error = thrown(() =>
      parseResourceSpecifier('proj/*:env/*;qa_*:/flag/*', 'statements[0].resources[0]'),
    );
    expect(error.position).toBe(18);
    expect(error.message).toBe(
      'Invalid resource specifier "proj/*:env/*;qa_*:/flag/*" in `statements[0].resources[0]`: expected a resource ' +
        'kind such as "env" or "flag" after ":" at position 18, got "/". Did you mean "proj/*:env/*;qa_*:flag/*"?',
    );
  });

  it('suggests a fix for a leading stray "/" too', () => {
    expect(thrown(() => parseResourceSpecifier('/proj/*')).message).toContain('Did you mean "proj/*"?');
  });

  it('does not suggest a fix that would not parse either', () => {
    expect(thrown(() => parseResourceSpecifier('proj/*://')).message).not.toContain('Did you mean');
  });

  it('refuses a value that is not a string, naming the field', () => {
    const error = thrown(() => parseResourceSpecifier(42, 'statements[0].resources[2]'));
    expect(error.field).toBe('statements[0].resources[2]');
    expect(error.message).toBe(
      'Expected `statements[0].resources[2]` to be a resource specifier string such as "proj/*:env/production:flag/*", got number.',
    );
  });
});

describe('parseAccessResource', () => {
  it('parses a concrete resource with tags on any segment', () => {
    const parsed = parseAccessResource('proj/app;Mobile:env/production;QA_test,eu');
    expect(parsed.segments).toEqual([
      { kind: 'proj', key: 'app', tags: ['mobile'], properties: [] },
      { kind: 'env', key: 'production', tags: ['qa_test', 'eu'], properties: [] },
    ]);
    expect(parsed.scope).toBe('proj/app');
  });

  it('parses properties on a concrete resource', () => {
    expect(parseAccessResource('proj/p:env/e;{critical:true}').segments[1]?.properties).toEqual([
      { name: 'critical', value: 'true' },
    ]);
  });

  it('accepts key characters outside LaunchDarkly keys, such as "@"', () => {
    expect(parseAccessResource('member/jane@example.com').segments[0]?.key).toBe('jane@example.com');
  });

  it('refuses globs in a concrete resource', () => {
    const error = thrown(() => parseAccessResource('proj/*:env/production', 'accesses[0].resource'));
    expect(error.field).toBe('accesses[0].resource');
    expect(error.position).toBe(5);
    expect(error.message).toContain('expected a key after "/" at position 5, got "*"');
    expect(error.message).toContain('A concrete resource cannot contain globs.');
  });

  it('refuses a glob tag in a concrete resource', () => {
    expect(thrown(() => parseAccessResource('proj/a;mob*')).position).toBe(10);
  });
});

describe('tryParseAccessResource', () => {
  it('returns undefined for a malformed resource instead of throwing', () => {
    expect(tryParseAccessResource('proj/*:env/*')).toBeUndefined();
    expect(tryParseAccessResource('proj/a:')).toBeUndefined();
    expect(tryParseAccessResource('')).toBeUndefined();
    expect(tryParseAccessResource('proj/p:env/e')?.segments[1]?.key).toBe('e');
  });
});

describe('accessResourceOf', () => {
  it('parses an access object once and answers later calls from the same parse', () => {
    const access = { action: 'updateOn', resource: 'proj/cache-test:env/production:flag/f' };
    const first = accessResourceOf(access);
    expect(first?.scope).toBe('proj/cache-test');
    expect(accessResourceOf(access)).toBe(first);
    expect(accessResourceOf({ ...access })).not.toBe(first);
    expect(accessResourceOf({ ...access })).toEqual(first);
  });

  it('parses again when the access was edited since', () => {
    const access = { action: 'updateOn', resource: 'proj/a:env/e' };
    expect(accessResourceOf(access)?.scope).toBe('proj/a');
    access.resource = 'proj/b:env/e';
    expect(accessResourceOf(access)?.scope).toBe('proj/b');
    access.resource = 'proj/*';
    expect(accessResourceOf(access)).toBeUndefined();
    expect(accessResourceOf(access)).toBeUndefined();
    access.resource = 'proj/c';
    expect(accessResourceOf(access)?.scope).toBe('proj/c');
  });

  it('returns undefined for a malformed or non-string resource', () => {
    expect(accessResourceOf({ resource: 'proj/a:' })).toBeUndefined();
    expect(accessResourceOf({ resource: 42 })).toBeUndefined();
  });
});

describe('specifier length', () => {
  it(`refuses a specifier longer than ${MAX_SPECIFIER_LENGTH} characters, naming the field`, () => {
    const long = `proj/${'a'.repeat(MAX_SPECIFIER_LENGTH)}`;
    const error = thrown(() => parseResourceSpecifier(long, 'statements[0].resources[0]'));
    expect(error.code).toBe('ERR_INVALID_POLICY');
    expect(error.field).toBe('statements[0].resources[0]');
    expect(error.message).toBe(
      `Expected \`statements[0].resources[0]\` to be a resource specifier of at most ${MAX_SPECIFIER_LENGTH} characters, got ${long.length} characters.`,
    );
    expect(parseResourceSpecifier(long.slice(0, MAX_SPECIFIER_LENGTH)).scope).toHaveLength(
      MAX_SPECIFIER_LENGTH,
    );
  });
});

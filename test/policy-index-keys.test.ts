import { describe, expect, it } from 'vitest';
import { PolicyError } from '../src/core/errors.js';
import type { Statement } from '../src/core/types.js';
import { DEFAULT_STATEMENTS } from '../src/routing/policy/defaults.js';
import { accessIndexKey, policyIndexKeys } from '../src/routing/policy/index-keys.js';
import { createPolicyMatcher } from '../src/routing/policy/matcher.js';

const allow = (...resources: string[]): Statement => ({ effect: 'allow', actions: ['*'], resources });

describe('policyIndexKeys', () => {
  // [case, statements, keys]
  const table: [string, Statement[], string[] | undefined][] = [
    ['literal project keys', [allow('proj/p123:env/production:flag/*')], ['proj/p123']],
    [
      'several literal keys, deduplicated and sorted',
      [allow('proj/b:env/*', 'proj/a:env/*'), allow('proj/b')],
      ['proj/a', 'proj/b'],
    ],
    ['tags on the first segment are dropped', [allow('proj/app;mobile:env/*')], ['proj/app']],
    ['property selectors on the first segment are dropped', [allow('env/e;{critical:true}')], ['env/e']],
    ['a bare kind', [allow('acct')], ['acct']],
    ['any kind, not only proj', [allow('member/569f:token/*')], ['member/569f']],
    ['a wildcard key can match anything', [allow('proj/*:env/production:flag/*')], undefined],
    ['a glob key can match anything', [allow('proj/mobile-*')], undefined],
    ['one wildcard statement widens the whole policy', [allow('proj/a'), allow('proj/*')], undefined],
    [
      'notResources in an allow can match anything',
      [{ effect: 'allow', actions: ['*'], notResources: ['proj/a'] }],
      undefined,
    ],
    [
      'deny statements do not widen',
      [allow('proj/a:env/*'), { effect: 'deny', actions: ['*'], notResources: ['proj/*'] }],
      ['proj/a'],
    ],
    [
      'deny statements with wildcards do not widen',
      [allow('proj/a:env/*'), { effect: 'deny', actions: ['*'], resources: ['proj/*'] }],
      ['proj/a'],
    ],
    ['a deny-only policy matches nothing', [{ effect: 'deny', actions: ['*'], resources: ['proj/*'] }], []],
    ['an empty policy matches nothing', [], []],
    [
      'notActions do not change the scope',
      [{ effect: 'allow', notActions: ['x'], resources: ['proj/a'] }],
      ['proj/a'],
    ],
  ];
  it.each(table)('%s', (_case, statements, keys) => {
    expect(policyIndexKeys(statements)).toEqual(keys);
  });

  it('is undefined for the default policy', () => {
    expect(policyIndexKeys(DEFAULT_STATEMENTS)).toBeUndefined();
  });

  it('validates like createPolicyMatcher', () => {
    expect(() => policyIndexKeys([allow('proj/*:env/*;qa_*:/flag/*')])).toThrow(PolicyError);
  });
});

describe('accessIndexKey', () => {
  it('gives the first segment without tags or properties', () => {
    expect(accessIndexKey('proj/default:env/production:flag/f')).toBe('proj/default');
    expect(accessIndexKey('proj/app;mobile,ios:env/production')).toBe('proj/app');
    expect(accessIndexKey('proj/app;{critical:true}')).toBe('proj/app');
    expect(accessIndexKey('acct')).toBe('acct');
  });

  it('keeps the key case, as keys are case-sensitive', () => {
    expect(accessIndexKey('proj/Default:env/e')).toBe('proj/Default');
  });

  it('is undefined for a malformed resource', () => {
    expect(accessIndexKey('proj/*')).toBeUndefined();
    expect(accessIndexKey('proj/a:')).toBeUndefined();
    expect(accessIndexKey(42 as unknown as string)).toBeUndefined();
  });
});

describe('index soundness', () => {
  it('never excludes a policy from an access it allows (randomized cross-check with the matcher)', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;
    const kinds = ['proj', 'env', 'flag', 'acct'];
    const keys = ['a', 'b', 'A', 'a.b'];
    const keyGlobs = [...keys, '*', 'a*', '*b'];
    const tags = ['m', 'q', 'M'];
    const tagGlobs = [...tags, '*', 'q*'];

    const segment = (globs: boolean) => {
      const kind = pick(kinds);
      if (kind === 'acct' && random(2) === 0) return kind;
      let text = `${kind}/${pick(globs ? keyGlobs : keys)}`;
      if (random(3) === 0) text += `;${pick(globs ? tagGlobs : tags)}`;
      return text;
    };
    const chain = () => Array.from({ length: 1 + random(3) }, () => segment(true)).join(':');
    /** A concrete resource near a specifier: its globs filled in, sometimes a key, kind, tag or length changed. */
    const near = (specifier: string) => {
      const parts = specifier.split(':').map((part) => {
        const [head, tagList] = part.split(';') as [string, string | undefined];
        let [kind, key] = head.split('/') as [string, string | undefined];
        if (random(8) === 0) kind = pick(kinds);
        if (key !== undefined && (key.includes('*') || random(6) === 0)) key = pick(keys);
        if (key === undefined && random(6) === 0) key = pick(keys);
        const concreteTags = (tagList ?? '')
          .split(',')
          .filter(Boolean)
          .map((tag) => (tag.includes('*') ? `${tag.replace(/\*/g, '')}x` : tag));
        if (random(3) === 0) concreteTags.push(pick(tags));
        if (random(6) === 0) concreteTags.shift();
        return `${kind}${key === undefined ? '' : `/${key}`}${concreteTags.length > 0 ? `;${concreteTags.join(',')}` : ''}`;
      });
      if (random(8) === 0) parts.pop();
      if (random(8) === 0) parts.push(`flag/${pick(keys)}`);
      return parts.length > 0 ? parts.join(':') : 'proj/a';
    };
    const statement = (): Statement => {
      const specifiers = Array.from({ length: 1 + random(2) }, chain);
      const actions = [pick(['*', 'updateOn', 'update*', 'createFlag'])];
      const base = random(2) === 0 ? { actions } : { notActions: actions };
      return {
        effect: random(3) === 0 ? 'deny' : 'allow',
        ...base,
        ...(random(5) === 0 ? { notResources: specifiers } : { resources: specifiers }),
      };
    };

    let indexedSeen = 0;
    let allowedIndexed = 0;
    for (let p = 0; p < 1500; p++) {
      const statements = Array.from({ length: 1 + random(3) }, statement);
      const allows = createPolicyMatcher(statements);
      const indexKeys = policyIndexKeys(statements);
      if (indexKeys !== undefined) indexedSeen++;
      for (let a = 0; a < 60; a++) {
        const source = pick(statements);
        const specifiers = source.resources ?? source.notResources ?? [];
        const resource = random(4) === 0 ? chain().replace(/\*/g, 'a') : near(pick(specifiers));
        const action = pick(['updateOn', 'updateName', 'createFlag', 'deleteFlag']);
        if (!allows({ action, resource })) continue;
        if (indexKeys !== undefined) {
          allowedIndexed++;
          expect(indexKeys, `${JSON.stringify(statements)} allows ${action} ${resource}`).toContain(
            accessIndexKey(resource),
          );
        }
      }
    }
    // The generator must produce indexed policies that allow accesses, or the check proves nothing.
    expect(indexedSeen).toBeGreaterThan(300);
    expect(allowedIndexed).toBeGreaterThan(400);
  });
});

import { describe, expect, it } from 'vitest';
import { compileGlob, isMatchAll } from '../src/policy/glob.js';

/** Reference semantics: `*` is any run of characters but `/` (as in resource specifiers), everything else literal. */
function reference(pattern: string): RegExp {
  if (/^\*+$/.test(pattern)) return /^[\s\S]*$/; // a pattern of stars alone matches everything
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${source}$`);
}

describe('compileGlob', () => {
  const cases: [string, string, boolean][] = [
    ['updateOn', 'updateOn', true],
    ['updateOn', 'updateon', false],
    ['update*', 'updateOn', true],
    ['update*', 'update', true],
    ['update*', 'createFlag', false],
    ['*Flag', 'createFlag', true],
    ['*Flag', 'createFlags', false],
    ['ops_*', 'ops_kill', true],
    ['ops_*', 'opsxkill', false],
    ['a.b*', 'a.bc', true],
    ['a.b*', 'axbc', false],
    ['*-prod', '-prod', true],
    // picomatch's dot-segment rule: `*` never produces a lone `.` or `..` (never a valid LaunchDarkly key).
    ['*.', '..', false],
    ['*.', 'a.', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['ab*ba', 'aba', false],
    ['ab*ba', 'abba', true],
    ['a*a*a', 'aa', false],
    ['a*a*a', 'aaa', true],
    ['x*', 'x/y', false],
    ['x*y', 'x\ny', true],
    ['(a)*', 'ax', false],
    ['(a)*', '(a)x', true],
    ['[ab]*', 'a', false],
    ['a?*', 'ab', false],
    ['*', '', true],
  ];

  it.each(cases)('%j against %j is %s', (pattern, subject, expected) => {
    expect(compileGlob(pattern)(subject)).toBe(expected);
  });

  it('agrees with a reference regular expression on random patterns and subjects', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = 'ab.-/';
    const word = (max: number, extra = '') => {
      let text = '';
      const chars = alphabet + extra;
      for (let i = random(max + 1); i > 0; i--) text += chars[random(chars.length)];
      return text;
    };
    for (let i = 0; i < 5000; i++) {
      const pattern = word(7, '**');
      const subject = word(9);
      // Dot segments are not keys, tags, actions or event types anyone uses; picomatch never matches them.
      if (subject.split('/').some((segment) => segment === '.' || segment === '..')) continue;
      expect(compileGlob(pattern)(subject), `${pattern} vs ${subject}`).toBe(
        reference(pattern).test(subject),
      );
    }
  });
});

describe('isMatchAll', () => {
  it('is true for patterns made only of "*"', () => {
    expect(isMatchAll('*')).toBe(true);
    expect(isMatchAll('***')).toBe(true);
    expect(isMatchAll('')).toBe(false);
    expect(isMatchAll('*a')).toBe(false);
  });
});

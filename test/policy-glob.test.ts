import { describe, expect, it } from 'vitest';
import { compileGlob, isMatchAll } from '../src/routing/policy/glob.js';

/**
 * Reference semantics: `*` is any run of characters but `/` (as in resource specifiers), everything else literal,
 * and a `/`-separated part `.` or `..` of the subject is matched only literally.
 */
function reference(pattern: string): RegExp {
  if (/^\*+$/.test(pattern)) return /^[\s\S]*$/; // a pattern of stars alone matches everything
  const source = pattern
    .split('/')
    .map((segment) => {
      const body = segment
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*');
      return segment.includes('*') ? `(?!\\.\\.?(?:/|$))${body}` : body;
    })
    .join('\\/');
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
    // The dot-segment rule: `*` never produces a lone `.` or `..` (never a valid LaunchDarkly key).
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
    ['*', 'a/b', true],
    ['*/*', 'a/', true],
    ['*/*', '/', true],
    ['a/*', 'a/b/', false],
    ['*.*', 'a.', true],
    ['*.*', 'a.b/', false],
    ['.*', '.', false],
    ['.*', '..', false],
    ['a/*', 'a/..', false],
    ['a/..', 'a/..', true],
    ['*a', '\na', true],
    ['*b', '\u2028b', true],
    ['a**b', 'ab', true],
    ['a**b', 'a/b', false],
    ['*ab*ab*', 'abab', true],
    ['*ab*ab*', 'aba', false],
    ['a*aa', 'aaa', true],
    ['a*aa', 'aa', false],
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
    for (let i = 0; i < 20_000; i++) {
      const pattern = word(7, '**');
      const subject = word(9);
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

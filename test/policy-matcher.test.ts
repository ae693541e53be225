import { describe, expect, it } from 'vitest';
import type { PolicyAccess, Statement } from '../src/core/types.js';
import { DEFAULT_STATEMENTS } from '../src/routing/policy/defaults.js';
import { createPolicyMatcher } from '../src/routing/policy/matcher.js';
import { thrown } from './helpers/thrown.js';

const allowAll = (resources: string[]): Statement => ({ effect: 'allow', actions: ['*'], resources });
const access = (resource: string, action = 'updateOn'): PolicyAccess => ({ action, resource });

describe('resource specifiers (the reference table)', () => {
  // [specifier, resource, allowed]
  const table: [string, string, boolean][] = [
    ['proj/*:env/production:flag/*', 'proj/default:env/production:flag/test-flag', true],
    ['proj/*:env/production:flag/*', 'proj/default:env/test:flag/test-flag', false],
    ['proj/*:env/*:flag/ops_*', 'proj/a:env/b:flag/ops_kill', true],
    ['proj/*;mobile', 'proj/app;mobile', true],
    ['proj/*:env/*;qa_*', 'proj/p:env/qa1;qa_test', true],
    ['proj/*:env/*;qa_*', 'proj/p:env/qa1:flag/f', false],
    ['proj/*', 'proj/p:env/e', false],
    ['member/*:token/*', 'member/569f:token/t1', true],
  ];
  it.each(table)('%s against %s is %s', (specifier, resource, expected) => {
    expect(createPolicyMatcher([allowAll([specifier])])(access(resource))).toBe(expected);
  });
});

describe('resource matching rules', () => {
  // [rule, specifier, resource, allowed]
  const table: [string, string, string, boolean][] = [
    ['key globs match a prefix', 'proj/mobile-*', 'proj/mobile-ios', true],
    ['key globs match nothing else', 'proj/mobile-*', 'proj/web-ios', false],
    ['keys are case-sensitive', 'proj/*:env/Production', 'proj/p:env/production', false],
    ['keys are case-sensitive (globs too)', 'proj/Mobile-*', 'proj/mobile-ios', false],
    ['"." in a key is literal', 'proj/a.b', 'proj/axb', false],
    ['"." in a key matches itself', 'proj/a.b', 'proj/a.b', true],
    ['"." in a key glob is literal', 'proj/v1.*', 'proj/v1x2', false],
    ['a shorter resource does not match a longer chain', 'proj/*:env/*:flag/*', 'proj/p:env/e', false],
    ['a longer resource does not match a shorter chain', 'proj/*:env/*', 'proj/p:env/e:flag/f', false],
    ['kinds must be equal at every level', 'proj/*:env/*:segment/*', 'proj/p:env/e:flag/f', false],
    ['kinds are case-sensitive', 'proj/*', 'Proj/p', false],
    ['a bare kind matches the bare resource', 'acct', 'acct', true],
    ['a bare kind does not match a keyed resource', 'acct', 'acct/x', false],
    ['a key glob does not match a bare resource', 'acct/*', 'acct', false],
    ['a tag must be present on the resource', 'proj/*;mobile', 'proj/app', false],
    ['tags are on the segment they are written on', 'proj/*;mobile:env/*', 'proj/app:env/e;mobile', false],
    ['tags are case-insensitive (specifier upper-case)', 'proj/*;MOBILE', 'proj/app;mobile', true],
    ['tags are case-insensitive (resource upper-case)', 'proj/*;mobile', 'proj/app;Mobile', true],
    ['tag globs are case-insensitive', 'proj/*:env/*;QA_*', 'proj/p:env/e;qa_1', true],
    ['tag globs need a matching tag', 'proj/*:env/*;qa_*', 'proj/p:env/e;prod', false],
    ['tags are ANDed: all present', 'proj/*;mobile,ios', 'proj/app;ios,web,mobile', true],
    ['tags are ANDed: one missing', 'proj/*;mobile,ios', 'proj/app;mobile,web', false],
    ['extra tags on the resource do not matter', 'proj/*', 'proj/app;mobile', true],
    [
      'a property selector matches an equal property',
      'proj/*:env/*;{critical:true}',
      'proj/p:env/e;{critical:true}',
      true,
    ],
    ['a property selector needs the property', 'proj/*:env/*;{critical:true}', 'proj/p:env/e', false],
    [
      'property values are compared exactly',
      'proj/*:env/*;{critical:true}',
      'proj/p:env/e;{critical:false}',
      false,
    ],
    ['properties and tags combine', 'env/*;qa,{critical:true}', 'env/e;QA,{critical:true}', true],
  ];
  it.each(table)('%s', (_rule, specifier, resource, expected) => {
    expect(createPolicyMatcher([allowAll([specifier])])(access(resource))).toBe(expected);
  });

  it('matches when any of several specifiers matches', () => {
    const allows = createPolicyMatcher([allowAll(['proj/a:env/*', 'proj/b:env/*:flag/*'])]);
    expect(allows(access('proj/a:env/x'))).toBe(true);
    expect(allows(access('proj/b:env/x:flag/f'))).toBe(true);
    expect(allows(access('proj/b:env/x'))).toBe(false);
  });
});

describe('statements', () => {
  const flagInProd = 'proj/default:env/production:flag/f';
  const flagInTest = 'proj/default:env/test:flag/f';
  // [rule, statements, access, allowed]
  const table: [string, Statement[], PolicyAccess, boolean][] = [
    ['default is deny: no statement', [], access(flagInProd), false],
    ['default is deny: no allow matches', [allowAll(['proj/other:env/*:flag/*'])], access(flagInProd), false],
    ['an allow statement allows', [allowAll(['proj/*:env/*:flag/*'])], access(flagInProd), true],
    [
      'deny overrides allow',
      [
        allowAll(['proj/*:env/*:flag/*']),
        { effect: 'deny', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
      ],
      access(flagInProd),
      false,
    ],
    [
      'deny overrides allow whatever the order',
      [
        { effect: 'deny', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
        allowAll(['proj/*:env/*:flag/*']),
      ],
      access(flagInProd),
      false,
    ],
    [
      'a deny that does not match leaves the allow',
      [
        allowAll(['proj/*:env/*:flag/*']),
        { effect: 'deny', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
      ],
      access(flagInTest),
      true,
    ],
    [
      'deny alone denies everything',
      [{ effect: 'deny', actions: ['*'], resources: ['proj/*:env/*:flag/*'] }],
      access(flagInTest),
      false,
    ],
    [
      'notResources: the reference example allows non-production',
      [{ effect: 'allow', notResources: ['proj/*:env/production:flag/*'], actions: ['*'] }],
      access(flagInTest),
      true,
    ],
    [
      'notResources: the reference example refuses production',
      [{ effect: 'allow', notResources: ['proj/*:env/production:flag/*'], actions: ['*'] }],
      access(flagInProd),
      false,
    ],
    [
      'notResources with several specifiers excludes each',
      [{ effect: 'allow', actions: ['*'], notResources: ['proj/a:env/*', 'proj/b:env/*'] }],
      access('proj/b:env/x'),
      false,
    ],
    [
      'actions: an exact action',
      [{ effect: 'allow', actions: ['updateOn'], resources: ['proj/*:env/*:flag/*'] }],
      access(flagInProd, 'updateOn'),
      true,
    ],
    [
      'actions are case-sensitive',
      [{ effect: 'allow', actions: ['updateon'], resources: ['proj/*:env/*:flag/*'] }],
      access(flagInProd, 'updateOn'),
      false,
    ],
    [
      'actions: update* matches updateTargets',
      [{ effect: 'allow', actions: ['update*'], resources: ['proj/*:env/*:flag/*'] }],
      access(flagInProd, 'updateTargets'),
      true,
    ],
    [
      'actions: update* does not match createFlag',
      [{ effect: 'allow', actions: ['update*'], resources: ['proj/*:env/*:flag/*'] }],
      access(flagInProd, 'createFlag'),
      false,
    ],
    [
      'actions: globs and names mix',
      [{ effect: 'allow', actions: ['createFlag', 'update*'], resources: ['proj/*:env/*:flag/*'] }],
      access(flagInProd, 'createFlag'),
      true,
    ],
    [
      'notActions allows every other action',
      [{ effect: 'allow', notActions: ['deleteFlag'], resources: ['proj/*:env/*:flag/*'] }],
      access(flagInProd, 'updateOn'),
      true,
    ],
    [
      'notActions refuses the listed action',
      [{ effect: 'allow', notActions: ['deleteFlag'], resources: ['proj/*:env/*:flag/*'] }],
      access(flagInProd, 'deleteFlag'),
      false,
    ],
    [
      'deny + notActions: denies every action but the listed ones',
      [
        allowAll(['proj/*:env/*:flag/*']),
        { effect: 'deny', notActions: ['updateOn'], resources: ['proj/*:env/*:flag/*'] },
      ],
      access(flagInProd, 'updateTargets'),
      false,
    ],
    [
      'deny + notActions: the listed action stays allowed',
      [
        allowAll(['proj/*:env/*:flag/*']),
        { effect: 'deny', notActions: ['updateOn'], resources: ['proj/*:env/*:flag/*'] },
      ],
      access(flagInProd, 'updateOn'),
      true,
    ],
    [
      'deny + notActions + notResources: only production is narrowed',
      [
        allowAll(['proj/*:env/*:flag/*']),
        { effect: 'deny', notActions: ['updateOn'], notResources: ['proj/*:env/test:flag/*'] },
      ],
      access(flagInTest, 'deleteFlag'),
      true,
    ],
    [
      'deny + notActions + notResources: production non-updateOn is denied',
      [
        allowAll(['proj/*:env/*:flag/*']),
        { effect: 'deny', notActions: ['updateOn'], notResources: ['proj/*:env/test:flag/*'] },
      ],
      access(flagInProd, 'deleteFlag'),
      false,
    ],
    [
      'the action is judged together with the resource',
      [
        { effect: 'allow', actions: ['updateName'], resources: ['proj/*:env/*'] },
        allowAll(['proj/*:env/*:segment/*']),
      ],
      access(flagInProd, 'updateName'),
      false,
    ],
    [
      'never the kill-switch project: an allow with a deny of one project',
      [
        allowAll(['proj/*:env/production:flag/*']),
        { effect: 'deny', actions: ['*'], resources: ['proj/kill-switch:env/*:flag/*'] },
      ],
      access('proj/kill-switch:env/production:flag/f'),
      false,
    ],
  ];
  it.each(table)('%s', (_rule, statements, input, expected) => {
    expect(createPolicyMatcher(statements)(input)).toBe(expected);
  });
});

describe('accesses', () => {
  const allows = createPolicyMatcher(DEFAULT_STATEMENTS);

  it('judges each access of a multi-access createFlag entry on its own', () => {
    const accesses = [
      access('proj/default:env/test:flag/new-flag', 'createFlag'),
      access('proj/default:env/production:flag/new-flag', 'createFlag'),
      access('proj/default:env/staging:flag/new-flag', 'createFlag'),
    ];
    expect(accesses.map(allows)).toEqual([false, true, false]);
    expect(accesses.some(allows)).toBe(true);
  });

  it('denies an access with a malformed resource instead of throwing', () => {
    const all = createPolicyMatcher([{ effect: 'allow', actions: ['*'], notResources: ['x/y'] }]);
    expect(all(access('proj/p:env/e'))).toBe(true);
    expect(all(access('proj/p:'))).toBe(false);
    expect(all(access('proj/*'))).toBe(false);
  });

  it('denies an access that is not an object or lacks strings', () => {
    expect(allows(null as unknown as PolicyAccess)).toBe(false);
    expect(allows({ action: 'updateOn' } as unknown as PolicyAccess)).toBe(false);
    expect(allows({ action: 1, resource: 'proj/p:env/production:flag/f' } as unknown as PolicyAccess)).toBe(
      false,
    );
  });

  it('is not affected by later changes to the statements it was compiled from', () => {
    const statements: Statement[] = [allowAll(['proj/a'])];
    const compiled = createPolicyMatcher(statements);
    statements[0]!.resources![0] = 'proj/b';
    expect(compiled(access('proj/a'))).toBe(true);
    expect(compiled(access('proj/b'))).toBe(false);
  });
});

describe('DEFAULT_STATEMENTS', () => {
  it('allows every production flag change, as LaunchDarkly does', () => {
    const allows = createPolicyMatcher(DEFAULT_STATEMENTS);
    expect(allows(access('proj/default:env/production:flag/test-flag', 'updateOn'))).toBe(true);
    expect(allows(access('proj/default:env/test:flag/test-flag', 'updateOn'))).toBe(false);
    expect(allows(access('proj/default:env/production', 'updateName'))).toBe(false);
  });

  it('is deeply frozen', () => {
    expect(DEFAULT_STATEMENTS).toEqual([
      { effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
    ]);
    expect(Object.isFrozen(DEFAULT_STATEMENTS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_STATEMENTS[0])).toBe(true);
    expect(Object.isFrozen(DEFAULT_STATEMENTS[0]?.actions)).toBe(true);
    expect(Object.isFrozen(DEFAULT_STATEMENTS[0]?.resources)).toBe(true);
  });
});

describe('validation', () => {
  const ok = { effect: 'allow', actions: ['*'], resources: ['proj/*'] };
  // [case, statements, field, message fragment, position]
  const table: [string, unknown, string, string, number | undefined][] = [
    [
      'statements not an array',
      { effect: 'allow' },
      'statements',
      'Expected `statements` to be an array',
      undefined,
    ],
    [
      'a statement that is not an object',
      [ok, 'allow'],
      'statements[1]',
      'to be a statement object',
      undefined,
    ],
    ['a statement that is an array', [[]], 'statements[0]', 'to be a statement object', undefined],
    [
      'an unknown key',
      [{ ...ok, Effect: 'deny' }],
      'statements[0].Effect',
      'unknown key "Effect"',
      undefined,
    ],
    [
      'a missing effect',
      [{ actions: ['*'], resources: ['proj/*'] }],
      'statements[0].effect',
      '"allow" or "deny", got undefined',
      undefined,
    ],
    ['a wrong-case effect', [{ ...ok, effect: 'Allow' }], 'statements[0].effect', 'got "Allow"', undefined],
    [
      'an action longer than 256 characters',
      [{ ...ok, actions: ['updateOn', `update${'*x'.repeat(126)}`] }],
      'statements[0].actions[1]',
      'Expected `statements[0].actions[1]` to be an action name or glob of at most 256 characters, got 258 characters.',
      undefined,
    ],
    [
      'a resource specifier longer than 1024 characters',
      [{ ...ok, notResources: [`proj/${'*a'.repeat(510)}`], resources: undefined }],
      'statements[0].notResources[0]',
      'to be a resource specifier of at most 1024 characters, got 1025 characters.',
      undefined,
    ],
    [
      'both actions and notActions',
      [{ ...ok, notActions: ['x'] }],
      'statements[0]',
      'sets both `actions` and `notActions`',
      undefined,
    ],
    [
      'neither actions nor notActions',
      [{ effect: 'allow', resources: ['proj/*'] }],
      'statements[0]',
      'needs `actions` or `notActions`',
      undefined,
    ],
    [
      'both resources and notResources',
      [{ ...ok, notResources: ['x/y'] }],
      'statements[0]',
      'sets both `resources` and `notResources`',
      undefined,
    ],
    [
      'neither resources nor notResources',
      [{ effect: 'deny', actions: ['*'] }],
      'statements[0]',
      'needs `resources` or `notResources`',
      undefined,
    ],
    [
      'empty actions',
      [{ ...ok, actions: [] }],
      'statements[0].actions',
      'to be a non-empty array',
      undefined,
    ],
    [
      'actions not an array',
      [{ ...ok, actions: '*' }],
      'statements[0].actions',
      'to be a non-empty array',
      undefined,
    ],
    [
      'empty notResources',
      [{ effect: 'allow', actions: ['*'], notResources: [] }],
      'statements[0].notResources',
      'non-empty array',
      undefined,
    ],
    [
      'an empty action',
      [{ ...ok, actions: ['updateOn', ''] }],
      'statements[0].actions[1]',
      'action name or glob',
      undefined,
    ],
    ['a non-string action', [{ ...ok, actions: [3] }], 'statements[0].actions[0]', 'got 3', undefined],
    [
      'an action with a space',
      [{ ...ok, actions: ['update On'] }],
      'statements[0].actions[0]',
      'unexpected " " at position 6',
      6,
    ],
    [
      'a non-string notAction',
      [{ effect: 'allow', notActions: [null], resources: ['proj/*'] }],
      'statements[0].notActions[0]',
      'got null',
      undefined,
    ],
    [
      'a non-string resource',
      [ok, { ...ok, resources: ['proj/*', 7] }],
      'statements[1].resources[1]',
      'resource specifier string',
      undefined,
    ],
    [
      'a malformed resource',
      [ok, { ...ok, resources: ['proj/*:env/*;qa_*:/flag/*'] }],
      'statements[1].resources[0]',
      'at position 18',
      18,
    ],
    [
      'a malformed notResource',
      [{ effect: 'deny', actions: ['*'], notResources: ['proj/a b'] }],
      'statements[0].notResources[0]',
      'at position 6',
      6,
    ],
  ];
  it.each(table)('refuses %s', (_case, statements, field, fragment, position) => {
    const error = thrown(() => createPolicyMatcher(statements as Statement[]));
    expect(error.code).toBe('ERR_INVALID_POLICY');
    expect(error.field).toBe(field);
    expect(error.message).toContain(fragment);
    expect(error.position).toBe(position);
  });

  it('prefixes field paths with options.field', () => {
    const error = thrown(() =>
      createPolicyMatcher([{ effect: 'allow', actions: ['*'], resources: ['proj/'] }], {
        field: 'defaultStatements',
      }),
    );
    expect(error.field).toBe('defaultStatements[0].resources[0]');
    expect(error.message).toContain('`defaultStatements[0].resources[0]`');
  });

  it('treats an undefined pair member as absent', () => {
    const allows = createPolicyMatcher([
      { effect: 'allow', actions: undefined, notActions: ['x'], resources: ['proj/*'] },
    ]);
    expect(allows(access('proj/p', 'y'))).toBe(true);
  });

  it('accepts an empty statement list, which allows nothing', () => {
    expect(createPolicyMatcher([])(access('proj/p'))).toBe(false);
  });
});

import type { PolicyAccess, Statement } from '../../core/types.js';
import { parseStatements } from './matcher.js';
import { accessResourceOf, tryParseAccessResource } from './resource.js';

/**
 * The literal first-segment scopes (`proj/p123`, or a bare kind such as `acct`) of which an access's resource
 * must have one for any `allow` statement of the policy to match it. The dispatcher can index webhooks by these
 * and look up only the webhooks whose scope equals {@link accessIndexKey} of an access.
 *
 * - `undefined`: the policy may allow accesses under any scope (a key glob such as `proj/*` or `proj/mobile-*`
 *   in a first segment, or a `notResources` allow statement), so it must be checked against every access.
 * - `[]`: the policy has no `allow` statement and allows nothing.
 *
 * Deny statements only narrow a policy, so they never change the answer. Tags and property selectors of the
 * first segment are dropped (they narrow too).
 *
 * @throws {PolicyError} like {@link createPolicyMatcher} when the statements are malformed.
 */
export function policyIndexKeys(
  statements: readonly Statement[],
  field = 'statements',
): string[] | undefined {
  const keys = new Set<string>();
  for (const statement of parseStatements(statements, field)) {
    if (statement.effect !== 'allow') continue;
    if (statement.negateResources) return undefined;
    for (const resource of statement.resources) {
      const first = resource.segments[0]!;
      if (first.key?.includes('*')) return undefined;
      keys.add(resource.scope);
    }
  }
  return [...keys].sort();
}

/**
 * The scope of a concrete access resource, comparable with {@link policyIndexKeys}: its first segment without
 * tags or properties (`proj/app;mobile:env/production` gives `proj/app`). `undefined` for a malformed resource,
 * which no policy allows.
 */
export function accessIndexKey(resource: string): string | undefined {
  if (typeof resource !== 'string') return undefined;
  return tryParseAccessResource(resource)?.scope;
}

/** {@link accessIndexKey} of an access, from its resource parsed once per access object (see `accessResourceOf`). */
export function accessScope(access: PolicyAccess): string | undefined {
  if (access === null || typeof access !== 'object') return undefined;
  return accessResourceOf(access)?.scope;
}

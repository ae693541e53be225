import { describe, isPlainObject, PolicyError } from '../../core/errors.js';
import type { PolicyAccess, Statement } from '../../core/types.js';
import { compileGlob, compileGlobList, type GlobTest, MAX_GLOB_LENGTH } from './glob.js';
import {
  accessResourceOf,
  type ParsedResource,
  parseResourceSpecifier,
  type ResourceProperty,
  type ResourceSegment,
} from './resource.js';

/** Decides whether a policy allows one access. */
export type PolicyMatcher = (access: PolicyAccess) => boolean;

export interface PolicyMatcherOptions {
  /**
   * Path of the statements in error messages (`webhook.statements` gives `webhook.statements[1].resources[0]`).
   * @default 'statements'
   */
  field?: string;
}

/** A validated statement with its specifiers parsed. */
export interface ParsedStatement {
  effect: 'allow' | 'deny';
  /** Action names or globs. */
  actions: readonly string[];
  /** True for `notActions`: the statement targets every action not matched by `actions`. */
  negateActions: boolean;
  resources: readonly ParsedResource[];
  /** True for `notResources`. */
  negateResources: boolean;
}

const STATEMENT_KEYS = new Set(['effect', 'actions', 'notActions', 'resources', 'notResources']);

/**
 * At most this many statements in a policy, and actions or resources in a statement: saved values bound what
 * one emit (and `explain`) can cost. LaunchDarkly's own policies have a handful.
 */
export const MAX_POLICY_ITEMS = 100;

/** Picks exactly one of `name` / `notName`; `undefined` values count as absent. */
function pickOne(
  statement: Record<string, unknown>,
  name: 'actions' | 'resources',
  field: string,
): { key: string; list: unknown; negate: boolean } {
  const notName = name === 'actions' ? 'notActions' : 'notResources';
  const has = statement[name] !== undefined;
  const hasNot = statement[notName] !== undefined;
  if (has && hasNot) {
    throw new PolicyError(
      field,
      `\`${field}\` sets both \`${name}\` and \`${notName}\`; use exactly one of them.`,
    );
  }
  if (!has && !hasNot) throw new PolicyError(field, `\`${field}\` needs \`${name}\` or \`${notName}\`.`);
  return has
    ? { key: name, list: statement[name], negate: false }
    : { key: notName, list: statement[notName], negate: true };
}

function expectList(list: unknown, field: string, example: string): readonly unknown[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new PolicyError(
      field,
      `Expected \`${field}\` to be a non-empty array such as ${example}, got ${describe(list)}.`,
    );
  }
  assertAtMost(list, field, 'entries');
  return list;
}

function assertAtMost(list: readonly unknown[], field: string, what: string): void {
  if (list.length > MAX_POLICY_ITEMS) {
    throw new PolicyError(
      field,
      `Expected \`${field}\` to have at most ${MAX_POLICY_ITEMS} ${what}, got ${list.length}.`,
    );
  }
}

function parseAction(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new PolicyError(
      field,
      `Expected \`${field}\` to be an action name or glob such as "updateOn" or "update*", got ${describe(value)}.`,
    );
  }
  if (value.length > MAX_GLOB_LENGTH) {
    throw new PolicyError(
      field,
      `Expected \`${field}\` to be an action name or glob of at most ${MAX_GLOB_LENGTH} characters, got ${value.length} characters.`,
    );
  }
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) {
      throw new PolicyError(
        field,
        `Invalid action ${JSON.stringify(value)} in \`${field}\`: unexpected ${JSON.stringify(value[i])} at position ${i}.`,
        i,
      );
    }
  }
  return value;
}

/**
 * Validates statements and parses their resource specifiers.
 *
 * @throws {PolicyError} naming the offending field (`statements[1].resources[0]`).
 */
export function parseStatements(statements: unknown, field = 'statements'): ParsedStatement[] {
  if (!Array.isArray(statements)) {
    throw new PolicyError(
      field,
      `Expected \`${field}\` to be an array of policy statements, got ${describe(statements)}.`,
    );
  }
  assertAtMost(statements, field, 'statements');
  const parsed: ParsedStatement[] = [];
  for (let s = 0; s < statements.length; s++) {
    const path = `${field}[${s}]`;
    const statement: unknown = statements[s];
    if (!isPlainObject(statement)) {
      throw new PolicyError(
        path,
        `Expected \`${path}\` to be a statement object such as {"effect":"allow","actions":["*"],"resources":["proj/*"]}, got ${describe(statement)}.`,
      );
    }
    for (const key of Object.keys(statement)) {
      if (!STATEMENT_KEYS.has(key)) {
        throw new PolicyError(
          `${path}.${key}`,
          `\`${path}\` has an unknown key ${JSON.stringify(key)}; a statement has effect, actions or notActions, and resources or notResources.`,
        );
      }
    }
    const effect = statement.effect;
    if (effect !== 'allow' && effect !== 'deny') {
      throw new PolicyError(
        `${path}.effect`,
        `Expected \`${path}.effect\` to be "allow" or "deny", got ${describe(effect)}.`,
      );
    }

    const actions = pickOne(statement, 'actions', path);
    const actionsPath = `${path}.${actions.key}`;
    const actionList = expectList(actions.list, actionsPath, '["*"] or ["updateOn"]').map((value, i) =>
      parseAction(value, `${actionsPath}[${i}]`),
    );

    const resources = pickOne(statement, 'resources', path);
    const resourcesPath = `${path}.${resources.key}`;
    const resourceList = expectList(resources.list, resourcesPath, '["proj/*:env/production:flag/*"]').map(
      (value, i) => parseResourceSpecifier(value, `${resourcesPath}[${i}]`),
    );

    parsed.push({
      effect,
      actions: actionList,
      negateActions: actions.negate,
      resources: resourceList,
      negateResources: resources.negate,
    });
  }
  return parsed;
}

interface CompiledSegment {
  kind: string;
  /** `undefined`: a bare kind, which matches only a segment without a key. */
  key: GlobTest | undefined;
  tags: readonly GlobTest[];
  properties: readonly ResourceProperty[];
}

function compileSegment(segment: ResourceSegment): CompiledSegment {
  return {
    kind: segment.kind,
    key: segment.key === undefined ? undefined : compileGlob(segment.key),
    tags: segment.tags.map(compileGlob),
    properties: segment.properties,
  };
}

function segmentMatches(spec: CompiledSegment, segment: ResourceSegment): boolean {
  if (spec.kind !== segment.kind) return false;
  if (spec.key === undefined) {
    if (segment.key !== undefined) return false;
  } else if (segment.key === undefined || !spec.key(segment.key)) {
    return false;
  }
  // Every tag of the specifier must be present (AND); tags are lower-cased on both sides at parse time.
  for (const tag of spec.tags) {
    let found = false;
    for (const candidate of segment.tags) {
      if (tag(candidate)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  for (const wanted of spec.properties) {
    let found = false;
    for (const property of segment.properties) {
      if (property.name === wanted.name && property.value === wanted.value) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

type ResourceTest = (resource: ParsedResource) => boolean;

/** Specifiers grouped by chain length: a resource is only compared with specifiers of its own length. */
function compileResources(specifiers: readonly ParsedResource[]): ResourceTest {
  const byLength: CompiledSegment[][][] = [];
  for (const specifier of specifiers) {
    const length = specifier.segments.length;
    const group = byLength[length] ?? [];
    byLength[length] = group;
    group.push(specifier.segments.map(compileSegment));
  }
  return (resource) => {
    const segments = resource.segments;
    const group = byLength[segments.length];
    if (group === undefined) return false;
    outer: for (const spec of group) {
      for (let i = 0; i < spec.length; i++) if (!segmentMatches(spec[i]!, segments[i]!)) continue outer;
      return true;
    }
    return false;
  };
}

type StatementTest = (action: string, resource: ParsedResource) => boolean;

function compileStatement(statement: ParsedStatement): StatementTest {
  const action = compileGlobList(statement.actions);
  const resource = compileResources(statement.resources);
  const negateActions = statement.negateActions;
  const negateResources = statement.negateResources;
  return (name, parsed) => action(name) !== negateActions && resource(parsed) !== negateResources;
}

/**
 * Compiles LaunchDarkly policy statements into a matcher of single accesses.
 *
 * An access is allowed when at least one `allow` statement matches it and no `deny` statement does; with no
 * matching allow it is denied, and statement order does not matter. A statement matches when its actions (or
 * notActions) and its resources (or notResources) both match. An access whose resource does not parse is
 * denied. Everything is validated and compiled here, once; the returned function only compares. Its cost is
 * linear in the access's length: globs never backtrack, and an access object's resource is parsed once however
 * many policies check it.
 *
 * @example
 * const allows = createPolicyMatcher([
 *   { effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
 *   { effect: 'deny', actions: ['*'], resources: ['proj/kill-switch:env/*:flag/*'] },
 * ]);
 * allows({ action: 'updateOn', resource: 'proj/default:env/production:flag/f' }); // true
 *
 * @throws {PolicyError} when a statement or specifier is malformed; `field` names it
 * (`statements[1].resources[0]`) and `position` is the 0-based offset in the specifier.
 */
export function createPolicyMatcher(
  statements: readonly Statement[],
  options: PolicyMatcherOptions = {},
): PolicyMatcher {
  const parsed = parseStatements(statements, options.field ?? 'statements');
  const allows = parsed.filter((s) => s.effect === 'allow').map(compileStatement);
  const denies = parsed.filter((s) => s.effect === 'deny').map(compileStatement);
  if (allows.length === 0) return () => false;

  return (access) => {
    if (access === null || typeof access !== 'object') return false;
    const action = access.action;
    if (typeof action !== 'string') return false;
    const parsedResource = accessResourceOf(access);
    if (parsedResource === undefined) return false;
    let allowed = false;
    for (const allow of allows) {
      if (allow(action, parsedResource)) {
        allowed = true;
        break;
      }
    }
    if (!allowed) return false;
    for (const deny of denies) if (deny(action, parsedResource)) return false;
    return true;
  };
}

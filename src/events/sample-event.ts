import { randomBytes } from 'node:crypto';
import type { CompiledWebhook } from '../core/compiled-webhook.js';
import type { PolicyAccess, WebhookEvent } from '../core/types.js';
import { accessesOf } from '../routing/event.js';
import { compileGlob } from '../routing/policy/glob.js';
import { parseResourceSpecifier, type ResourceSegment } from '../routing/policy/resource.js';

/** Unleash event types (reference/unleash.md), tried in order when a webhook subscribes with a glob. */
const UNLEASH_TYPES = [
  'feature-created',
  'feature-updated',
  'feature-metadata-updated',
  'feature-environment-enabled',
  'feature-environment-disabled',
  'feature-strategy-update',
  'feature-strategy-add',
  'feature-strategy-remove',
  'feature-variants-updated',
  'feature-project-change',
  'feature-archived',
  'feature-revived',
  'feature-stale-on',
  'feature-stale-off',
  'feature-potentially-stale-on',
  'feature-completed',
  'feature-tagged',
  'feature-untagged',
  'change-request-created',
  'change-request-approved',
  'change-request-approval-added',
  'change-request-applied',
  'change-request-discarded',
  'change-request-cancelled',
  'change-request-sent-to-review',
  'change-request-scheduled',
  'change-request-scheduled-application-success',
  'change-request-scheduled-application-failure',
  'change-request-schedule-suspended',
  'change-added',
  'change-discarded',
];

/** LaunchDarkly actions (reference/launchdarkly.md), tried in order for action globs and `notActions`. */
const LD_ACTIONS = [
  'updateOn',
  'updateRules',
  'updateTargets',
  'updateFallthrough',
  'updateName',
  'updateDescription',
  'updateTags',
  'updateFlagVariations',
  'updateOffVariation',
  'updatePrerequisites',
  'createFlag',
  'deleteFlag',
  'cloneFlag',
  'updateGlobalArchived',
  'createApprovalRequest',
  'applyApprovalRequest',
  'createSegment',
  'updateIncluded',
  'createEnvironment',
  'updateApiKey',
  'createProject',
  'updateProjectName',
];

/** Concrete resources tried after those built from the statements (they serve `notResources` policies). */
const COMMON_RESOURCES = [
  'proj/default:env/production:flag/sample-flag',
  'proj/default:env/staging:flag/sample-flag',
  'proj/default:env/test:flag/sample-flag',
  'proj/sample-project:env/development:flag/sample-flag',
];

const FALLBACK_ACCESS: PolicyAccess = { action: 'updateOn', resource: COMMON_RESOURCES[0]! };

/** Replacements for a `*` in a key, by kind: a realistic one first, then another in case a deny hits the first. */
const KEY_FILL: Record<string, readonly [string, string]> = {
  proj: ['default', 'sample-project'],
  env: ['production', 'staging'],
  flag: ['sample-flag', 'other-flag'],
};
const OTHER_FILL: readonly [string, string] = ['sample', 'other'];

/** A concrete resource matched by the specifier's segment chain: globs filled in, tags and properties kept. */
function concreteSegments(segments: readonly ResourceSegment[], variant: 0 | 1): string {
  return segments
    .map((segment) => {
      const fill = (KEY_FILL[segment.kind] ?? OTHER_FILL)[variant];
      let text = segment.kind;
      if (segment.key !== undefined) {
        text += `/${segment.key === '*' ? fill : segment.key.replace(/\*/g, OTHER_FILL[variant])}`;
      }
      const items = segment.tags.map((tag) => tag.replace(/\*/g, OTHER_FILL[variant]));
      if (segment.properties.length > 0) {
        items.push(`{${segment.properties.map((p) => `${p.name}:${p.value}`).join(',')}}`);
      }
      return items.length > 0 ? `${text};${items.join(',')}` : text;
    })
    .join(':');
}

function concreteActions(pattern: string): string[] {
  const matches = compileGlob(pattern);
  const known = LD_ACTIONS.filter(matches);
  return known.length > 0 ? known : [pattern.replace(/\*/g, 'Sample')];
}

function pushUnique(list: string[], ...items: string[]): void {
  for (const item of items) if (!list.includes(item)) list.push(item);
}

/**
 * An access this webhook's policy allows. Candidates come from the webhook's own allow statements (globs filled in
 * twice, so a deny on one filling still leaves the other), then common flag resources and actions. `preferred`
 * (the event type, for an Unleash event) is tried first as the action, so the event's derived access can match.
 */
function allowedAccess(compiled: CompiledWebhook, preferred: string | undefined): PolicyAccess {
  const policy = compiled.policy;
  if (!policy) return preferred === undefined ? FALLBACK_ACCESS : { ...FALLBACK_ACCESS, action: preferred };
  const resources: string[] = [];
  const actions: string[] = preferred === undefined ? [] : [preferred];
  for (const statement of compiled.webhook.statements ?? []) {
    if (statement.effect !== 'allow') continue;
    for (const specifier of statement.resources ?? []) {
      const { segments } = parseResourceSpecifier(specifier);
      pushUnique(resources, concreteSegments(segments, 0), concreteSegments(segments, 1));
    }
    for (const action of statement.actions ?? []) pushUnique(actions, ...concreteActions(action));
  }
  pushUnique(resources, ...COMMON_RESOURCES);
  pushUnique(actions, ...LD_ACTIONS);
  // An access with the event type as its action is what an Unleash event's derived access looks like: try it first.
  if (preferred !== undefined) {
    for (const resource of resources) {
      if (policy.allows({ action: preferred, resource })) return { action: preferred, resource };
    }
  }
  for (const resource of resources) {
    for (const action of actions) {
      if (policy.allows({ action, resource })) return { action, resource };
    }
  }
  // The policy allows nothing we can think of (e.g. it has no allow statement): send the fallback anyway.
  return FALLBACK_ACCESS;
}

/** The event type to send: an exact type the webhook lists, else a known Unleash type its globs accept. */
function sampleType(compiled: CompiledWebhook): string | undefined {
  if (compiled.types.matches(undefined)) return undefined;
  const events = compiled.webhook.events;
  const exact = events.find((type) => !type.includes('*'));
  if (exact !== undefined) return exact;
  const known = UNLEASH_TYPES.find((type) => compiled.types.matches(type));
  return known ?? events[0]?.replace(/\*/g, 'sample');
}

interface Scope {
  project?: string;
  environment?: string;
  flag?: string;
  /** Kind of the last segment: what the resource is. */
  kind: string;
}

/** Reads `proj/<p>[:env/<e>][:flag/<f>]` out of a concrete resource. */
function scopeOf(resource: string): Scope {
  const scope: Scope = { kind: 'flag' };
  for (const segment of resource.split(':')) {
    const slash = segment.indexOf('/');
    const kind = slash === -1 ? segment.split(';')[0]! : segment.slice(0, slash);
    const key = slash === -1 ? undefined : segment.slice(slash + 1).split(';')[0];
    scope.kind = kind;
    if (kind === 'proj') scope.project = key;
    else if (kind === 'env') scope.environment = key;
    else if (kind === 'flag') scope.flag = key;
  }
  return scope;
}

const LD_KINDS: Record<string, string> = { proj: 'project', env: 'environment' };

/** Random hex, for the ids of sample events. */
export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Who made a sample change (LaunchDarkly's `member` of a change-history entry). */
export const SAMPLE_MEMBER = {
  _id: 'webhook-dispatcher',
  email: 'test@webhook-dispatcher.invalid',
  firstName: 'Webhook',
  lastName: 'Test',
} as const;

/**
 * A realistic event that this webhook's filters accept, for `dispatcher.test()`.
 *
 * - A webhook that filters by event type gets an Unleash event of a type it lists (for a glob such as
 *   `change-request-*`, a real Unleash type it matches: `change-request-created`). When the webhook also has
 *   statements that the event's derived access (`action` = type) does not pass, the event carries an explicit
 *   `accesses` entry they allow.
 * - Otherwise it gets a LaunchDarkly change-history entry whose access its policy allows.
 *
 * Every sample carries `test: true`. A policy that allows nothing (no allow statement) cannot be satisfied: the
 * sample then uses a production flag change, which that webhook's filters refuse.
 */
export function sampleEventFor(compiled: CompiledWebhook, now: number): WebhookEvent {
  const type = sampleType(compiled);
  const access = allowedAccess(compiled, type);
  const scope = scopeOf(access.resource);
  const project = scope.project ?? 'default';
  const flag = scope.flag ?? 'sample-flag';
  const date = new Date(now);

  if (type !== undefined) {
    const event: WebhookEvent = {
      id: `test-${hex(6)}`,
      type,
      createdBy: 'webhook-dispatcher test',
      createdAt: date,
      createdByUserId: -1,
      featureName: flag,
      project,
      environment: scope.environment ?? null,
      data: { name: flag, project, type: 'release', stale: false, enabled: true },
      preData: { name: flag, project, type: 'release', stale: false, enabled: false },
      tags: [],
      test: true,
    };
    const policy = compiled.policy;
    if (policy && !accessesOf(event).some((derived) => policy.allows(derived))) event.accesses = [access];
    return event;
  }

  const environment = scope.environment ?? 'production';
  return {
    _links: { canonical: { href: `/api/v2/flags/${project}/${flag}`, type: 'application/json' } },
    _id: hex(12),
    _accountId: 'webhook-dispatcher',
    date: now,
    kind: LD_KINDS[scope.kind] ?? scope.kind,
    name: flag,
    description: '* Turned the flag on (test event from webhook-dispatcher)\n',
    shortDescription: '',
    accesses: [access],
    member: { ...SAMPLE_MEMBER },
    titleVerb: 'turned on the flag',
    title: `A test event turned on the flag ${flag} in \`${environment}\``,
    target: { name: flag, resources: [access.resource] },
    previousVersion: { key: flag, _version: 1, environments: { [environment]: { on: false } } },
    currentVersion: { key: flag, _version: 2, environments: { [environment]: { on: true } } },
    test: true,
  };
}

import { randomBytes } from 'node:crypto';
import type { PolicyAccess, WebhookEvent } from './types.js';
import type { CompiledWebhook } from './webhook.js';

const FALLBACK_ACCESS: PolicyAccess = {
  action: 'updateOn',
  resource: 'proj/default:env/production:flag/sample-flag',
};

/** Turns a specifier into a concrete resource it matches: globs become `sample`, property selectors go. */
function concreteResource(specifier: string): string {
  return specifier.replace(/;\{[^}]*\}/g, '').replace(/\*/g, 'sample');
}

function concreteAction(action: string): string {
  return action === '*' ? 'updateOn' : action.replace(/\*/g, 'Sample');
}

/** An access this webhook's policy allows, found from its own allow statements; the default one otherwise. */
function allowedAccess(compiled: CompiledWebhook): PolicyAccess {
  const policy = compiled.policy;
  if (!policy) return FALLBACK_ACCESS;
  const candidates: PolicyAccess[] = [FALLBACK_ACCESS];
  for (const statement of compiled.webhook.statements ?? []) {
    if (statement.effect !== 'allow' || !statement.resources) continue;
    const actions = statement.actions ?? ['updateOn', 'createFlag', 'deleteFlag', 'updateName'];
    for (const resource of statement.resources) {
      for (const action of actions) {
        candidates.push({ action: concreteAction(action), resource: concreteResource(resource) });
      }
    }
  }
  return candidates.find((access) => policy.allows(access)) ?? FALLBACK_ACCESS;
}

function sampleType(compiled: CompiledWebhook): string | undefined {
  const events = compiled.webhook.events.filter((type) => type !== '*');
  const first = events[0];
  if (first === undefined) return undefined;
  return events.find((type) => !type.includes('*')) ?? first.replace(/\*/g, 'sample');
}

/** Reads `proj/<p>[:env/<e>][:flag/<f>]` out of a concrete resource. */
function scopeOf(resource: string): { project?: string; environment?: string; flag?: string } {
  const scope: { project?: string; environment?: string; flag?: string } = {};
  for (const segment of resource.split(':')) {
    const [kind, rest = ''] = segment.split('/', 2) as [string, string?];
    const key = rest.split(';')[0];
    if (kind === 'proj') scope.project = key;
    else if (kind === 'env') scope.environment = key;
    else if (kind === 'flag') scope.flag = key;
  }
  return scope;
}

/**
 * A realistic event that this webhook's filters accept, for `dispatcher.test()`: an Unleash event when the webhook
 * filters by event type, otherwise a LaunchDarkly change-history entry whose access its policy allows.
 */
export function sampleEventFor(compiled: CompiledWebhook, now: number): WebhookEvent {
  const type = sampleType(compiled);
  const access = allowedAccess(compiled);
  const { project = 'default', environment = 'production', flag = 'sample-flag' } = scopeOf(access.resource);
  const date = new Date(now);
  if (type !== undefined) {
    return {
      id: `test-${randomBytes(6).toString('hex')}`,
      type,
      createdBy: 'webhook-dispatcher test',
      createdAt: date,
      createdByUserId: -1,
      featureName: flag,
      project,
      environment,
      data: { name: flag, project, type: 'release', stale: false, enabled: true },
      preData: { name: flag, project, type: 'release', stale: false, enabled: false },
      tags: [],
      test: true,
    };
  }
  return {
    _id: randomBytes(12).toString('hex'),
    date: now,
    kind: 'flag',
    name: flag,
    description: '* Turned the flag on (test event from webhook-dispatcher)\n',
    shortDescription: '',
    accesses: [access],
    titleVerb: 'turned on the flag',
    title: `A test event turned on the flag ${flag} in \`${environment}\``,
    target: { name: flag, resources: [access.resource] },
    previousVersion: { key: flag, _version: 1, environments: { [environment]: { on: false } } },
    currentVersion: { key: flag, _version: 2, environments: { [environment]: { on: true } } },
    test: true,
  };
}

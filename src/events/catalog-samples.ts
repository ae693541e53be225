// Sample events shaped like a catalog's own (Unleash, LaunchDarkly, generic), for `test()` and `preview()`.
import { describe, WebhookValidationError } from '../core/errors.js';
import type { WebhookEvent } from '../core/types.js';
import { suggest } from './catalog-checks.js';
import type { EventCatalog } from './event-catalog.js';
import { hex, SAMPLE_MEMBER } from './sample-event.js';

/** An Unleash event of `type`: a feature event names a flag, an environment event an environment too. */
function unleashSample(type: string, date: Date): WebhookEvent {
  const featureEvent =
    type.startsWith('feature-') ||
    type.startsWith('change') ||
    type.startsWith('strategy-') ||
    type.startsWith('release-plan-');
  const environmentEvent =
    type.includes('environment') ||
    type.includes('strategy') ||
    type.startsWith('change') ||
    type.startsWith('release-plan-');
  const projectEvent = featureEvent || type.startsWith('project-');
  const flag = 'sample-flag';
  return {
    id: `test-${hex(6)}`,
    type,
    createdBy: 'webhook-dispatcher test',
    createdAt: date,
    createdByUserId: -1,
    featureName: featureEvent ? flag : null,
    project: projectEvent ? 'default' : null,
    environment: environmentEvent ? 'production' : null,
    data: featureEvent
      ? { name: flag, project: 'default', type: 'release', stale: false, enabled: true }
      : {},
    preData: featureEvent
      ? { name: flag, project: 'default', type: 'release', stale: false, enabled: false }
      : null,
    tags: [],
    test: true,
  };
}

/** Resources by change-history kind, with an action that fits; flags are production flag changes. */
const LAUNCHDARKLY_SAMPLE_ACCESS: Record<string, { action: string; resource: string }> = {
  flag: { action: 'updateOn', resource: 'proj/default:env/production:flag/sample-flag' },
  segment: { action: 'updateIncluded', resource: 'proj/default:env/production:segment/sample-segment' },
  environment: { action: 'updateName', resource: 'proj/default:env/production' },
  project: { action: 'updateProjectName', resource: 'proj/default' },
};

function launchDarklySample(kind: string, now: number): WebhookEvent {
  const access = LAUNCHDARKLY_SAMPLE_ACCESS[kind] ?? {
    action: `update${kind[0]?.toUpperCase() ?? ''}${kind.slice(1)}`,
    resource: `${kind}/sample`,
  };
  return {
    _links: { canonical: { href: '/api/v2/flags/default/sample-flag', type: 'application/json' } },
    _id: hex(12),
    _accountId: 'webhook-dispatcher',
    date: now,
    kind,
    type: kind,
    name: `sample ${kind}`,
    description: `* A test event from webhook-dispatcher (${kind})\n`,
    shortDescription: '',
    accesses: [access],
    member: { ...SAMPLE_MEMBER },
    titleVerb: 'changed',
    title: `A test event changed the ${kind} sample ${kind}`,
    target: { name: `sample ${kind}`, resources: [access.resource] },
    test: true,
  };
}

/**
 * A realistic event of `type` for `dispatcher.test()`: a copy of the type's `sample` when it has one, else an event
 * shaped like the catalog's format (Unleash event, LaunchDarkly change-history entry with `type` set to its kind, or
 * `{ id, type, createdAt, data }`). Every sample carries `test: true`.
 *
 * @throws {WebhookValidationError} (field `type`) when `type` is not a type of the catalog.
 */
export function sampleEventFrom(
  catalog: EventCatalog,
  type: string,
  options: { now?: number } = {},
): WebhookEvent {
  if (!catalog.has(type)) {
    const hint = suggest(type, catalog);
    throw new WebhookValidationError(
      'type',
      `Expected \`type\` to be an event type of the "${catalog.name}" catalog, got ${describe(type)}${hint === undefined ? '' : `; did you mean ${JSON.stringify(hint)}?`}`,
    );
  }
  const now = options.now ?? Date.now();
  const own = catalog.types[type]?.sample;
  if (own !== undefined) return { ...structuredClone(own as WebhookEvent), type, test: true };
  if (catalog.format === 'unleash') return unleashSample(type, new Date(now));
  if (catalog.format === 'launchdarkly') return launchDarklySample(type, now);
  return { id: `test-${hex(6)}`, type, createdAt: new Date(now), data: {}, test: true };
}

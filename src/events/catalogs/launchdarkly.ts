import { defineEventCatalog, type EventTypeDefinition } from '../event-catalog.js';

/** JSON Schema of a LaunchDarkly change-history entry (the body LaunchDarkly's webhooks send). */
export const LAUNCHDARKLY_ENTRY_SCHEMA = Object.freeze({
  type: 'object',
  required: ['_id', 'date', 'accesses', 'kind', 'name'],
  properties: {
    _id: { type: 'string' },
    _accountId: { type: 'string' },
    _links: { type: 'object' },
    date: { type: 'integer', description: 'Epoch milliseconds; receivers reorder by it.' },
    accesses: {
      type: 'array',
      items: {
        type: 'object',
        required: ['action', 'resource'],
        properties: { action: { type: 'string' }, resource: { type: 'string' } },
      },
    },
    kind: { type: 'string' },
    type: { type: 'string', description: 'The kind again, set by the host for `events` filters.' },
    name: { type: 'string' },
    description: { type: 'string' },
    shortDescription: { type: 'string' },
    comment: { type: 'string' },
    member: {
      type: 'object',
      properties: {
        _id: { type: 'string' },
        email: { type: 'string' },
        firstName: { type: 'string' },
        lastName: { type: 'string' },
      },
    },
    titleVerb: { type: 'string' },
    title: { type: 'string' },
    target: {
      type: 'object',
      properties: { name: { type: 'string' }, resources: { type: 'array', items: { type: 'string' } } },
    },
    test: { type: 'boolean', description: 'true on the sample events of test().' },
    parent: { type: 'object' },
    delta: {},
    token: { type: 'object' },
    app: { type: 'object' },
    subject: { type: 'object' },
    previousVersion: {},
    currentVersion: {},
  },
} as const);

// Change-history `kind`s: the documented ones (flag, environment, project, segment, metric, member, webhook) and
// the other resource kinds of LaunchDarkly's resource specifiers, named as the API names them.
const KINDS: Record<string, string> = {
  flag: 'A feature flag changed (created, targeting, rules, variations, archived, ...).',
  segment: 'A segment changed.',
  environment: 'An environment changed.',
  project: 'A project changed.',
  metric: 'A metric changed.',
  'metric-group': 'A metric group changed.',
  member: 'An account member changed.',
  token: "A member's access token changed.",
  role: 'A custom role changed.',
  team: 'A team changed.',
  webhook: 'A webhook changed.',
  integration: 'An integration changed.',
  destination: 'A Data Export destination changed.',
  experiment: 'An experiment changed.',
  holdout: 'A holdout changed.',
  layer: 'An experiment layer changed.',
  'release-pipeline': 'A release pipeline changed.',
  'context-kind': 'A context kind changed.',
  'relay-proxy-config': 'A Relay Proxy configuration changed.',
  'code-reference-repository': 'A code references repository changed.',
  application: 'An application changed.',
  'service-token': 'A service token changed.',
  template: 'A flag template changed.',
  view: 'A view changed.',
  aiconfig: 'An AI config changed.',
  account: 'Account settings changed.',
};

const kinds: Record<string, EventTypeDefinition> = {};
for (const [kind, description] of Object.entries(KINDS))
  kinds[kind] = { description, schema: LAUNCHDARKLY_ENTRY_SCHEMA };

/**
 * LaunchDarkly change-history kinds as event types. The `events` filter reads `event.type`, so emit entries as
 * `{ ...entry, type: entry.kind }` to filter them by kind; samples carry both.
 *
 * @example createWebhookDispatcher({ eventTypes: LAUNCHDARKLY_EVENT_KINDS })
 */
export const LAUNCHDARKLY_EVENT_KINDS = defineEventCatalog({
  name: 'launchdarkly-kinds',
  format: 'launchdarkly',
  types: kinds,
});

// Actions of policy statements (`actions`, `notActions`). Names are shared between kinds (`updateName`, `updateTags`).
const ACTIONS: Record<string, string> = {
  createFlag: 'Create a flag (one access per environment).',
  cloneFlag: 'Clone a flag.',
  deleteFlag: 'Delete a flag.',
  updateOn: 'Turn targeting on or off.',
  updatePrerequisites: "Change a flag's prerequisites.",
  updateTargets: "Change a flag's individual targets.",
  updateRules: 'Change targeting rules (flags) or segment rules.',
  updateFallthrough: "Change a flag's default rule.",
  updateOffVariation: "Change a flag's off variation.",
  updateExpiringTargets: "Change a flag's scheduled target removals.",
  updateScheduledChanges: "Change a flag's scheduled changes.",
  updateName: 'Rename a flag or an environment.',
  updateDescription: "Change a flag's description.",
  updateTemporary: 'Mark a flag temporary or permanent.',
  updateTags: 'Change the tags of a flag, an environment or a project.',
  updateMaintainer: "Change a flag's maintainer.",
  updateFlagVariations: "Change a flag's variations.",
  updateFlagDefaultVariations: "Change a flag's default variations.",
  updateGlobalArchived: 'Archive or restore a flag.',
  updateTriggers: "Change a flag's triggers.",
  copyFlagConfigFrom: "Copy a flag's configuration from another environment.",
  copyFlagConfigTo: "Copy a flag's configuration to another environment.",
  createApprovalRequest: 'Request approval of a flag change.',
  reviewApprovalRequest: 'Review an approval request.',
  applyApprovalRequest: 'Apply an approved change.',
  createSegment: 'Create a segment.',
  deleteSegment: 'Delete a segment.',
  updateIncluded: "Change a segment's included targets.",
  updateExcluded: "Change a segment's excluded targets.",
  createEnvironment: 'Create an environment.',
  deleteEnvironment: 'Delete an environment.',
  updateApiKey: "Reset an environment's SDK key.",
  createProject: 'Create a project.',
  deleteProject: 'Delete a project.',
  updateProjectName: 'Rename a project.',
};

/**
 * LaunchDarkly policy actions, for `suggest()` over statements' `actions` (`suggest('updateOnn', LAUNCHDARKLY_ACTIONS)`
 * is `'updateOn'`). Not meant as `eventTypes`: an entry's actions are in its `accesses`, not its type.
 */
export const LAUNCHDARKLY_ACTIONS = defineEventCatalog({
  name: 'launchdarkly-actions',
  format: 'launchdarkly',
  types: ACTIONS,
});

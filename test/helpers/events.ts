import type { Webhook, WebhookEvent } from '../../src/core/types.js';

/** A LaunchDarkly change-history entry (reference/launchdarkly.md), in the given environment. */
export function ldEvent(environment = 'production', overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    _links: { canonical: { href: '/api/v2/flags/default/test-flag', type: 'application/json' } },
    _id: `6710b8f3a1b2c3d4e5f6${Math.floor(Math.random() * 0xffff)
      .toString(16)
      .padStart(4, '0')}`,
    _accountId: '569f514156e003339cfd3917',
    date: 1729123867537,
    accesses: [{ action: 'updateOn', resource: `proj/default:env/${environment}:flag/test-flag` }],
    kind: 'flag',
    name: 'test flag',
    description: '* Turned the flag on\n',
    shortDescription: '',
    titleVerb: 'turned on the flag',
    title: `Michelle Doe turned on the flag test flag in \`${environment}\``,
    ...overrides,
  };
}

/** An Unleash event (reference/unleash.md). */
export function unleashEvent(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    id: 27332,
    type: 'feature-created',
    createdBy: 'user@getunleash.io',
    createdAt: '2024-10-03T11:09:53.225Z',
    createdByUserId: 110,
    data: { name: 'test-flag', description: null, type: 'release', project: 'test-project', stale: false },
    preData: null,
    tags: [],
    featureName: 'test-flag',
    project: 'test-project',
    environment: null,
    ...overrides,
  };
}

/** A stored webhook record as a store holds it (written around the dispatcher, so not validated). */
export function webhookRecord(fields: Partial<Webhook> = {}): Webhook {
  return {
    id: 'stored',
    url: 'https://example.com/',
    on: true,
    signatureScheme: 'launchdarkly',
    events: [],
    contentType: 'application/json',
    headers: {},
    tags: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

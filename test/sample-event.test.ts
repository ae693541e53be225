import { describe, expect, it } from 'vitest';
import type { WebhookEvent, WebhookInput } from '../src/core/types.js';
import { sampleEventFor } from '../src/events/sample-event.js';
import { accessesOf } from '../src/routing/event.js';
import { DEFAULT_STATEMENTS } from '../src/routing/policy/defaults.js';
import { createAddressPolicy } from '../src/transport/ssrf.js';
import {
  buildWebhook,
  type CompiledWebhook,
  compilePolicy,
  compileWebhook,
} from '../src/webhooks/webhook.js';

const NOW = Date.UTC(2024, 9, 3, 11, 9, 53, 225);

function compiled(input: Omit<WebhookInput, 'url'>): CompiledWebhook {
  const webhook = buildWebhook(
    { url: 'https://hooks.example.com/x', ...input },
    { id: 'w1', now: new Date(NOW).toISOString(), addressPolicy: createAddressPolicy({}) },
  );
  return compileWebhook(webhook, 0, {
    defaultPolicy: compilePolicy([...DEFAULT_STATEMENTS], 'defaultStatements'),
    addressPolicy: createAddressPolicy({}),
    policies: new Map(),
  });
}

/** The dispatcher's filters: event type, then the policy over the event's (explicit or derived) accesses. */
function accepts(hook: CompiledWebhook, event: WebhookEvent): boolean {
  if (!hook.types.matches(typeof event.type === 'string' ? event.type : undefined)) return false;
  const policy = hook.policy;
  return !policy || accessesOf(event).some((access) => policy.allows(access));
}

/** The event as the receiver gets it (Dates become strings): it must still pass. */
const roundTrip = (event: WebhookEvent): WebhookEvent => JSON.parse(JSON.stringify(event));

describe('sampleEventFor', () => {
  const cases: [string, Omit<WebhookInput, 'url'>][] = [
    ['a default webhook (production flag changes)', {}],
    [
      'statements only: update* on mobile-* projects in staging',
      {
        statements: [
          { effect: 'allow', actions: ['update*'], resources: ['proj/mobile-*:env/staging:flag/*'] },
        ],
      },
    ],
    ['events only: change-request-*', { events: ['change-request-*'] }],
    [
      'events and statements whose actions the event type is not',
      {
        events: ['change-request-*'],
        statements: [
          { effect: 'allow', actions: ['update*'], resources: ['proj/mobile-*:env/staging:flag/*'] },
        ],
      },
    ],
    [
      'events and statements whose actions include the event type',
      {
        events: ['feature-environment-*'],
        statements: [{ effect: 'allow', actions: ['feature-*'], resources: ['proj/web:env/*:flag/*'] }],
      },
    ],
    ['exact event types', { events: ['feature-archived', 'feature-created'] }],
    ['events: ["*"] (every type, no policy)', { events: ['*'] }],
    [
      'notResources: everything but production',
      { statements: [{ effect: 'allow', actions: ['*'], notResources: ['proj/*:env/production:flag/*'] }] },
    ],
    [
      'notActions: every action but updateOn',
      { statements: [{ effect: 'allow', notActions: ['updateOn'], resources: ['proj/*:env/*:flag/*'] }] },
    ],
    [
      'a deny that hits the first filling of every glob',
      {
        statements: [
          { effect: 'allow', actions: ['*'], resources: ['proj/*:env/*:flag/*'] },
          {
            effect: 'deny',
            actions: ['*'],
            resources: ['proj/default:env/*:flag/*', 'proj/*:env/production:flag/*'],
          },
        ],
      },
    ],
    [
      'tags and tag globs',
      {
        statements: [{ effect: 'allow', actions: ['*'], resources: ['proj/*;mobile,ios:env/*;qa_*:flag/*'] }],
      },
    ],
    [
      'property selectors',
      {
        statements: [{ effect: 'allow', actions: ['*'], resources: ['proj/*:env/*;{critical:true}:flag/*'] }],
      },
    ],
    [
      'an environment, not a flag',
      { statements: [{ effect: 'allow', actions: ['createEnvironment'], resources: ['proj/*:env/*'] }] },
    ],
    [
      'a segment resource with an action glob',
      {
        statements: [
          { effect: 'allow', actions: ['updateInc*'], resources: ['proj/p:env/e:segment/beta-*'] },
        ],
      },
    ],
  ];

  it.each(cases)('builds an event that passes the filters of %s', (_name, input) => {
    const hook = compiled(input);
    const event = sampleEventFor(hook, NOW);
    expect(accepts(hook, event)).toBe(true);
    expect(accepts(hook, roundTrip(event))).toBe(true);
    expect(event.test).toBe(true);
  });

  it('sends a LaunchDarkly change-history entry to a webhook without an event-type filter', () => {
    const event = sampleEventFor(compiled({}), NOW);
    expect(event).toMatchObject({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      date: NOW,
      kind: 'flag',
      accesses: [{ action: 'updateOn', resource: 'proj/default:env/production:flag/sample-flag' }],
      target: { resources: ['proj/default:env/production:flag/sample-flag'] },
    });
    expect(event.type).toBeUndefined();
  });

  it('fills globs realistically: a known action for update*, the key prefix for mobile-*', () => {
    const hook = compiled({
      statements: [
        { effect: 'allow', actions: ['update*'], resources: ['proj/mobile-*:env/staging:flag/*'] },
      ],
    });
    expect(sampleEventFor(hook, NOW).accesses).toEqual([
      { action: 'updateOn', resource: 'proj/mobile-sample:env/staging:flag/sample-flag' },
    ]);
  });

  it('sends an Unleash event of a real type matched by a glob, with a Date createdAt', () => {
    const event = sampleEventFor(compiled({ events: ['change-request-*'] }), NOW);
    expect(event).toMatchObject({
      id: expect.stringMatching(/^test-/),
      type: 'change-request-created',
      featureName: 'sample-flag',
      project: 'default',
      environment: 'production',
    });
    expect(event.createdAt).toEqual(new Date(NOW));
    expect(event.accesses).toBeUndefined();
  });

  it('prefers an exact type the webhook lists over a glob', () => {
    expect(sampleEventFor(compiled({ events: ['feature-*', 'feature-archived'] }), NOW).type).toBe(
      'feature-archived',
    );
  });

  it('adds explicit accesses to an Unleash event only when its derived access would not pass', () => {
    const derived = sampleEventFor(
      compiled({
        events: ['feature-created'],
        statements: [{ effect: 'allow', actions: ['feature-*'], resources: ['proj/web:env/*:flag/*'] }],
      }),
      NOW,
    );
    expect(derived.accesses).toBeUndefined();
    expect(derived).toMatchObject({ project: 'web', environment: 'production', featureName: 'sample-flag' });

    const explicit = sampleEventFor(
      compiled({
        events: ['change-request-*'],
        statements: [
          { effect: 'allow', actions: ['update*'], resources: ['proj/mobile-*:env/staging:flag/*'] },
        ],
      }),
      NOW,
    );
    expect(explicit.accesses).toEqual([
      { action: 'updateOn', resource: 'proj/mobile-sample:env/staging:flag/sample-flag' },
    ]);
    expect(explicit).toMatchObject({ project: 'mobile-sample', environment: 'staging' });
  });

  it('gives every sample a fresh id', () => {
    const hook = compiled({});
    expect(sampleEventFor(hook, NOW)._id).not.toBe(sampleEventFor(hook, NOW)._id);
  });

  it('falls back to a production flag change when the policy allows nothing', () => {
    const hook = compiled({ statements: [{ effect: 'deny', actions: ['*'], resources: ['proj/*'] }] });
    const event = sampleEventFor(hook, NOW);
    expect(event.accesses).toEqual([
      { action: 'updateOn', resource: 'proj/default:env/production:flag/sample-flag' },
    ]);
    expect(accepts(hook, event)).toBe(false);
  });
});

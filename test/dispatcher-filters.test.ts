import { describe, expect, it } from 'vitest';
import { createWebhookDispatcher, type Statement, type WebhookInput } from '../src/index.js';
import { ldEvent, unleashEvent } from './helpers/events.js';
import { startReceiver } from './helpers/receiver.js';
import { open } from './helpers/setup.js';

/** Registers the given webhooks and returns, for an event, the names of those it reached. */
async function reach(webhooks: Record<string, Omit<WebhookInput, 'url'>>, options = {}) {
  const receiver = await startReceiver();
  const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true, ...options });
  open.push(dispatcher, receiver);
  const names = new Map<string, string>();
  for (const [name, input] of Object.entries(webhooks)) {
    const hook = await dispatcher.webhooks.create({ url: `${receiver.url}/${name}`, ...input });
    names.set(hook.id, name);
  }
  return async (event: Parameters<typeof dispatcher.emit>[0]) => {
    const results = await dispatcher.emit(event);
    return results.map((r) => names.get(r.webhookId)).sort();
  };
}

const prodOnly: Statement[] = [
  { effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
];
const notKillSwitch: Statement[] = [
  { effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
  { effect: 'deny', actions: ['*'], resources: ['proj/kill-switch:env/*:flag/*'] },
];

describe('events x statements in the dispatcher', () => {
  it('combines the event-type filter and the policy (both must pass)', async () => {
    const emit = await reach({
      defaults: {},
      typesOnly: { events: ['feature-environment-enabled'] },
      policyOnly: { statements: prodOnly },
      both: { events: ['feature-environment-enabled'], statements: prodOnly },
      bothOtherType: { events: ['feature-archived'], statements: prodOnly },
    });
    // Unleash event in production: the derived access is proj/p:env/production:flag/f.
    const enabledInProd = unleashEvent({
      type: 'feature-environment-enabled',
      project: 'p',
      environment: 'production',
    });
    expect(await emit(enabledInProd)).toEqual(['both', 'defaults', 'policyOnly', 'typesOnly']);
    // Same type in development: only the type-only webhook.
    expect(await emit({ ...enabledInProd, environment: 'development' })).toEqual(['typesOnly']);
    // A LaunchDarkly entry has no `type`: it reaches only webhooks that filter no types.
    expect(await emit(ldEvent('production'))).toEqual(['defaults', 'policyOnly']);
  });

  it('treats events [] and ["*"] as every type, with the default policy only when events is unset or []', async () => {
    const emit = await reach({ empty: { events: [] }, star: { events: ['*'] } });
    expect(await emit(unleashEvent({ type: 'feature-created', environment: null }))).toEqual(['star']);
    expect(await emit(ldEvent('production'))).toEqual(['empty', 'star']);
  });

  it('delivers an event without resources to a url-only webhook, by its type filter only', async () => {
    const emit = await reach({
      urlOnly: {},
      typed: { events: ['invoice.*'] },
      otherType: { events: ['feature-*'] },
      policy: { statements: prodOnly },
    });
    expect(await emit({ id: 'inv-1', type: 'invoice.paid' })).toEqual(['typed', 'urlOnly']);
    expect(await emit({ id: 'x-1' })).toEqual(['urlOnly']);
    // An event with resources keeps LaunchDarkly's default: production flag changes only.
    expect(await emit(ldEvent('staging'))).toEqual([]);
    expect(await emit(unleashEvent({ type: 'invoice.paid', project: 'p', environment: 'dev' }))).toEqual([
      'typed',
    ]);
  });

  it('delivers an event without resources under dispatcher-wide defaultStatements with a literal scope', async () => {
    const emit = await reach(
      { urlOnly: {} },
      {
        defaultStatements: [
          { effect: 'allow', actions: ['*'], resources: ['proj/p1:env/production:flag/*'] },
        ],
      },
    );
    expect(await emit({ id: 'inv-1', type: 'invoice.paid' })).toEqual(['urlOnly']);
    expect(await emit(ldEvent('production'))).toEqual([]);
  });

  it('matches event-type globs such as change-request-*', async () => {
    const emit = await reach({ cr: { events: ['change-request-*'] } });
    expect(await emit(unleashEvent({ type: 'change-request-approved' }))).toEqual(['cr']);
    expect(await emit(unleashEvent({ type: 'change-added' }))).toEqual([]);
  });

  it('lets a deny statement veto an allowed access (never the kill-switch project)', async () => {
    const emit = await reach({ guarded: { statements: notKillSwitch } });
    expect(await emit(ldEvent('production'))).toEqual(['guarded']);
    const killSwitch = ldEvent('production', {
      accesses: [{ action: 'updateOn', resource: 'proj/kill-switch:env/production:flag/x' }],
    });
    expect(await emit(killSwitch)).toEqual([]);
  });

  it('passes an event when at least one of several accesses is allowed', async () => {
    const emit = await reach({ prod: { statements: prodOnly } });
    const createFlag = ldEvent('production', {
      accesses: [
        { action: 'createFlag', resource: 'proj/default:env/test:flag/f' },
        { action: 'createFlag', resource: 'proj/default:env/production:flag/f' },
      ],
    });
    expect(await emit(createFlag)).toEqual(['prod']);
    expect(await emit({ ...createFlag, accesses: [createFlag.accesses![0]!] })).toEqual([]);
  });

  it('uses the dispatcher-wide defaultStatements for webhooks without a policy', async () => {
    const emit = await reach(
      { defaults: {} },
      { defaultStatements: [{ effect: 'allow', actions: ['*'], resources: ['proj/*:env/staging:flag/*'] }] },
    );
    expect(await emit(ldEvent('staging'))).toEqual(['defaults']);
    expect(await emit(ldEvent('production'))).toEqual([]);
  });

  it('honours tags carried by concrete resources', async () => {
    const emit = await reach({
      mobile: {
        statements: [{ effect: 'allow', actions: ['*'], resources: ['proj/*;mobile:env/*:flag/*'] }],
      },
    });
    const tagged = ldEvent('production', {
      accesses: [{ action: 'updateOn', resource: 'proj/app;Mobile,ios:env/production:flag/f' }],
    });
    expect(await emit(tagged)).toEqual(['mobile']);
    expect(await emit(ldEvent('production'))).toEqual([]);
  });

  it('treats statements: [] like an unset policy', async () => {
    const emit = await reach({ empty: { statements: [] } });
    expect(await emit(ldEvent('production'))).toEqual(['empty']);
    expect(await emit(ldEvent('test'))).toEqual([]);
  });

  it('refuses a malformed policy at save time, naming the path and position', async () => {
    const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true });
    open.push(dispatcher);
    const error = await dispatcher.webhooks
      .create({
        url: 'http://127.0.0.1:1/',
        statements: [
          prodOnly[0]!,
          { effect: 'allow', actions: ['*'], resources: ['proj/*:env/*;qa_*:/flag/*'] },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_INVALID_POLICY',
      field: 'statements[1].resources[0]',
      position: 18,
    });
    expect((error as Error).message).toContain('proj/*:env/*;qa_*:flag/*');
    expect(await dispatcher.webhooks.list()).toEqual([]);
  });

  it('finds the one matching webhook among thousands', async () => {
    const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true });
    const receiver = await startReceiver();
    open.push(dispatcher, receiver);
    for (let i = 0; i < 2000; i++) {
      await dispatcher.webhooks.create({
        url: `${receiver.url}/${i}`,
        statements: [{ effect: 'allow', actions: ['*'], resources: [`proj/p${i}:env/production:flag/*`] }],
      });
    }
    const event = ldEvent('production', {
      accesses: [{ action: 'updateOn', resource: 'proj/p1234:env/production:flag/f' }],
    });
    const results = await dispatcher.emit(event);
    expect(results).toHaveLength(1);
    expect(receiver.requests.map((r) => r.url)).toEqual(['/1234']);
  });
});

import { describe, expect, it } from 'vitest';
import type { Webhook } from '../src/core/types.js';
import { DEFAULT_STATEMENTS } from '../src/routing/policy/defaults.js';
import { WebhookIndex } from '../src/routing/webhook-index.js';
import { createAddressPolicy } from '../src/transport/ssrf.js';
import { type CompileContext, compilePolicy, compileWebhook } from '../src/webhooks/webhook.js';
import { webhookRecord } from './helpers/events.js';

const context = (): CompileContext => ({
  defaultPolicy: compilePolicy([...DEFAULT_STATEMENTS], 'defaultStatements'),
  addressPolicy: createAddressPolicy({ allowPrivateNetworks: true }),
  policies: new Map(),
});

const webhook = (id: string, fields: Partial<Webhook> = {}) => webhookRecord({ id, ...fields });

const access = (project: string) => [
  { action: 'updateOn', resource: `proj/${project}:env/production:flag/f` },
];

describe('WebhookIndex', () => {
  it('returns only the webhooks whose literal project scope or event type can match', () => {
    const ctx = context();
    const index = new WebhookIndex();
    for (let i = 0; i < 1000; i++) {
      const statements = [
        { effect: 'allow' as const, actions: ['*'], resources: [`proj/p${i}:env/*:flag/*`] },
      ];
      index.set(compileWebhook(webhook(`w${i}`, { statements }), i, ctx));
    }
    index.set(compileWebhook(webhook('typed', { events: ['feature-created'] }), 1000, ctx));
    index.set(compileWebhook(webhook('defaults'), 1001, ctx));

    expect(index.candidates(undefined, access('p42')).map((c) => c.webhook.id)).toEqual(['w42', 'defaults']);
    expect(index.candidates('feature-created', access('p7')).map((c) => c.webhook.id)).toEqual([
      'w7',
      'typed',
      'defaults',
    ]);
    expect(index.candidates('feature-archived', []).map((c) => c.webhook.id)).toEqual(['defaults']);
  });

  it('lists a webhook indexed under several scopes once, and forgets deleted and replaced webhooks', () => {
    const ctx = context();
    const index = new WebhookIndex();
    const statements = [
      { effect: 'allow' as const, actions: ['*'], resources: ['proj/a:env/*', 'proj/b:env/*'] },
    ];
    index.set(compileWebhook(webhook('ab', { statements }), 0, ctx));
    const both = [...access('a'), ...access('b')];
    expect(index.candidates(undefined, both).map((c) => c.webhook.id)).toEqual(['ab']);

    const first = compileWebhook(webhook('ab', { statements }), 0, ctx);
    const replaced = compileWebhook(
      webhook('ab', { statements: [{ ...statements[0]!, resources: ['proj/c:env/*'] }] }),
      0,
      ctx,
    );
    index.delete(first);
    index.set(replaced);
    expect(index.candidates(undefined, both)).toEqual([]);
    expect(index.candidates(undefined, access('c'))).toHaveLength(1);
    index.delete(replaced);
    expect(index.candidates(undefined, access('c'))).toEqual([]);
    expect(index.size).toBe(0);
  });
});

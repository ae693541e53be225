import { afterEach, describe, expect, it } from 'vitest';
import {
  createWebhookDispatcher,
  memoryStore,
  type Transport,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../src/index.js';
import { storeOver } from './helpers/stores.js';

const open: WebhookDispatcher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close({ deadlineMs: 50 })));
});

function recorder() {
  const urls: string[] = [];
  const transport: Transport = {
    async send(request) {
      urls.push(request.url);
      return { status: 200 };
    },
  };
  return { transport, urls };
}

function dispatcherWith(transport: Transport, options: WebhookDispatcherOptions = {}) {
  const dispatcher = createWebhookDispatcher({ transport, retry: 0, ...options });
  open.push(dispatcher);
  return dispatcher;
}

/** The policies a hostile customer would save to see everyone's events. */
const GREEDY = [
  { statements: [{ effect: 'allow' as const, actions: ['*'], resources: ['proj/*:env/*:flag/*'] }] },
  { statements: [{ effect: 'allow' as const, actions: ['*'], resources: ['proj/*'] }] },
  { statements: [{ effect: 'allow' as const, notActions: ['nothing'], notResources: ['nothing/*'] }] },
  { events: ['*'] },
];

const ldEvent = (id: string) => ({
  _id: id,
  kind: 'flag',
  accesses: [{ action: 'updateOn', resource: 'proj/default:env/production:flag/f' }],
});

describe('tenants: isolation', () => {
  it('an emit with a tenant reaches only that tenant, whatever the other tenants\u2019 policies say', async () => {
    const { transport, urls } = recorder();
    const dispatcher = dispatcherWith(transport);
    // Tenant ids that look alike are different tenants: nothing matches loosely.
    const tenants = ['acme', 'ACME', 'acme-corp', 'acm', 'other'];
    for (const tenant of tenants) {
      for (const [i, fields] of GREEDY.entries()) {
        await dispatcher.webhooks.create({
          url: `https://${tenant.toLowerCase()}-${i}.example.com/${tenant}`,
          tenant,
          ...fields,
        });
      }
    }
    await dispatcher.webhooks.create({ url: 'https://untenanted.example.com/', ...GREEDY[0] });

    const results = await dispatcher.emit(ldEvent('e1'), { tenant: 'acme' });
    // Every greedy policy but `proj/*` (which matches no deeper kind chain) matches this event.
    expect(results).toHaveLength(GREEDY.length - 1);
    expect(results.every((r) => r.tenant === 'acme' && r.ok)).toBe(true);
    expect(urls.every((url) => url.endsWith('/acme'))).toBe(true);
  });

  it('an emit without a tenant reaches only webhooks without one', async () => {
    const { transport, urls } = recorder();
    const dispatcher = dispatcherWith(transport);
    for (const fields of GREEDY)
      await dispatcher.webhooks.create({ url: 'https://t.example.com/t', tenant: 't', ...fields });
    await dispatcher.webhooks.create({ url: 'https://none.example.com/', events: ['*'] });
    const results = await dispatcher.emit({ id: 'e', type: 'x', project: 'default' });
    expect(results).toHaveLength(1);
    expect(urls).toEqual(['https://none.example.com/']);
  });

  it('a tenant cannot be changed, spoofed with look-alike spellings, or left blank', async () => {
    const dispatcher = dispatcherWith(recorder().transport);
    const hook = await dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant: 'acme' });
    await expect(dispatcher.webhooks.update(hook.id, { tenant: 'other' } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_WEBHOOK',
      field: 'tenant',
    });
    for (const tenant of ['', ' acme', 'acme ', 'acme\u200b', 'ac\nme', 42]) {
      await expect(
        dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant } as never),
      ).rejects.toMatchObject({
        field: 'tenant',
      });
      await expect(dispatcher.emit({ id: 'x' }, { tenant } as never)).rejects.toMatchObject({
        field: 'tenant',
      });
    }
  });

  it('test() and retries stay within the webhook\u2019s tenant', async () => {
    const { transport } = recorder();
    const dispatcher = dispatcherWith(transport);
    const hook = await dispatcher.webhooks.create({
      url: 'https://a.example.com/',
      tenant: 'acme',
      events: ['*'],
    });
    expect(await dispatcher.test(hook.id)).toMatchObject({ ok: true, tenant: 'acme' });
  });

  it('lists one tenant\u2019s webhooks, oldest first', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const dispatcher = dispatcherWith(recorder().transport, { now: () => (now += 1000) });
    for (let i = 0; i < 5; i++)
      await dispatcher.webhooks.create({ url: `https://a${i}.example.com/`, tenant: 'acme', name: `a${i}` });
    await dispatcher.webhooks.create({ url: 'https://b.example.com/', tenant: 'beta' });
    await dispatcher.webhooks.create({ url: 'https://c.example.com/' });

    expect((await dispatcher.webhooks.list({ tenant: 'acme' })).map((w) => w.name)).toEqual([
      'a0',
      'a1',
      'a2',
      'a3',
      'a4',
    ]);
    expect(await dispatcher.webhooks.list({ tenant: null })).toHaveLength(1);
    expect(await dispatcher.webhooks.list()).toHaveLength(7);
    // One way to list: `list` answers every match; paging is the admin API's (`GET /webhooks?limit&cursor`).
    expect(Object.keys(dispatcher.webhooks)).not.toContain('page');
  });

  it('maxWebhooksPerTenant refuses one more with ERR_TENANT_LIMIT', async () => {
    const dispatcher = dispatcherWith(recorder().transport, { maxWebhooksPerTenant: 2 });
    await dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant: 'acme' });
    await dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant: 'acme' });
    await expect(
      dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant: 'acme' }),
    ).rejects.toMatchObject({
      code: 'ERR_TENANT_LIMIT',
    });
    await dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant: 'beta' });
  });

  it("a store's createWithinTenantLimit decides instead of this process's count", async () => {
    const inner = memoryStore();
    let answer: unknown = false;
    const asked: [string | undefined, number][] = [];
    const store = storeOver(inner, {
      async createWithinTenantLimit(webhook, max) {
        asked.push([webhook.tenant, max]);
        if (answer === true) await inner.create(webhook);
        return answer as boolean;
      },
    });
    const dispatcher = dispatcherWith(recorder().transport, { store, maxWebhooksPerTenant: 3 });
    // The store says the tenant is full (other replicas' webhooks), though this process has none.
    await expect(
      dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant: 'acme' }),
    ).rejects.toMatchObject({
      code: 'ERR_TENANT_LIMIT',
      message: 'tenant "acme" already has 3 webhooks, the most allowed',
    });
    answer = 'yes';
    await expect(
      dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant: 'acme' }),
    ).rejects.toMatchObject({ code: 'ERR_STORE_FAILED' });
    answer = true;
    await dispatcher.webhooks.create({ url: 'https://a.example.com/', tenant: 'acme' });
    // Without a tenant there is no limit to ask about.
    await dispatcher.webhooks.create({ url: 'https://a.example.com/' });
    expect(asked).toEqual([
      ['acme', 3],
      ['acme', 3],
      ['acme', 3],
    ]);
    expect(await inner.list()).toHaveLength(2);
  });
});

describe('explain()', () => {
  it('says why a webhook created with only a url gets a generic event, and why not a staging flag change', async () => {
    const dispatcher = dispatcherWith(recorder().transport);
    const hook = await dispatcher.webhooks.create({ url: 'https://a.example.com/' });
    const why = await dispatcher.explain(hook.id, { id: 'i1', type: 'invoice.paid' });
    expect(why.matched).toBe(true);
    expect(why.reasons.find((r) => r.check === 'policy')).toMatchObject({ ok: true });
    expect(why.reasons.find((r) => r.check === 'policy')?.message).toMatch(
      /no resources.*default statements/,
    );
    const staging = await dispatcher.explain(hook.id, {
      id: 'i2',
      accesses: [{ action: 'updateOn', resource: 'proj/p:env/staging:flag/f' }],
    });
    expect(staging.matched).toBe(false);
    expect(staging.reasons.find((r) => r.check === 'policy')?.message).toMatch(
      /default statements \(production flag changes.*allow none of the event's 1 access/,
    );
  });

  it('spells out each statement x access decision, tenant and on/off', async () => {
    const dispatcher = dispatcherWith(recorder().transport);
    const hook = await dispatcher.webhooks.create({
      url: 'https://a.example.com/',
      tenant: 'acme',
      statements: [
        { effect: 'allow', actions: ['*'], resources: ['proj/*:env/*:flag/*'] },
        { effect: 'deny', actions: ['*'], resources: ['proj/*:env/test:flag/*'] },
      ],
    });
    const event = {
      id: 'e',
      accesses: [
        { action: 'updateOn', resource: 'proj/p:env/test:flag/f' },
        { action: 'updateOn', resource: 'proj/p:env/production:flag/f' },
      ],
    };
    const yes = await dispatcher.explain(hook.id, event, { tenant: 'acme' });
    expect(yes.matched).toBe(true);
    const statements = yes.reasons.filter((r) => r.check === 'statement');
    expect(statements).toHaveLength(4);
    expect(statements.find((r) => r.statement === 1 && r.access === 0)).toMatchObject({ ok: false });
    const wrongTenant = await dispatcher.explain(hook.id, event);
    expect(wrongTenant.matched).toBe(false);
    expect(wrongTenant.reasons[0]).toMatchObject({ check: 'tenant', ok: false });
    await dispatcher.webhooks.update(hook.id, { on: false });
    expect((await dispatcher.explain(hook.id, event, { tenant: 'acme' })).matched).toBe(false);
  });

  it('agrees with emit on a mixed set of webhooks and events', async () => {
    const { transport } = recorder();
    const dispatcher = dispatcherWith(transport);
    const hooks = [
      await dispatcher.webhooks.create({ url: 'https://a.example.com/' }),
      await dispatcher.webhooks.create({ url: 'https://a.example.com/', events: ['feature-*'] }),
      await dispatcher.webhooks.create({
        url: 'https://a.example.com/',
        events: ['feature-created'],
        statements: GREEDY[1]?.statements,
      }),
    ];
    const events = [
      { id: '1', type: 'feature-created', project: 'p', environment: 'production', featureName: 'f' },
      { id: '2', type: 'feature-archived', project: 'p' },
      ldEvent('3'),
      { id: '4' },
    ];
    for (const event of events) {
      const delivered = new Set((await dispatcher.emit(event)).map((r) => r.webhookId));
      for (const hook of hooks)
        expect((await dispatcher.explain(hook.id, event)).matched).toBe(delivered.has(hook.id));
    }
  });
});

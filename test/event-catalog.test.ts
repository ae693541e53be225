import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import {
  isEventCatalog,
  LAUNCHDARKLY_ACTIONS,
  OptionsError,
  sampleEventFrom,
  suggest,
  validateEventTypes,
  validateTemplateFields,
} from '../src/extend.js';
import {
  defineEventCatalog,
  LAUNCHDARKLY_EVENT_KINDS,
  UNLEASH_EVENT_TYPES,
  WebhookValidationError,
} from '../src/index.js';

function refusal(events: unknown[], catalog = UNLEASH_EVENT_TYPES): WebhookValidationError {
  try {
    validateEventTypes(events, catalog);
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookValidationError);
    return error as WebhookValidationError;
  }
  throw new Error(`expected ${JSON.stringify(events)} to be refused`);
}

describe('UNLEASH_EVENT_TYPES', () => {
  it("holds Unleash's full current list, the newer release-plan and safeguard types included", () => {
    expect(UNLEASH_EVENT_TYPES.names).toHaveLength(177);
    for (const type of [
      'feature-created',
      'feature-environment-enabled',
      'change-request-scheduled-application-failure',
      'release-plan-progressions-paused',
      'release-plan-milestone-started',
      'safeguard-triggered',
      'feature-link-added',
      'remote-mcp-server-settings-updated',
    ]) {
      expect(UNLEASH_EVENT_TYPES.has(type), type).toBe(true);
    }
    expect(new Set(UNLEASH_EVENT_TYPES.names).size).toBe(177);
  });

  it('describes every type and marks feature-updated deprecated', () => {
    for (const type of UNLEASH_EVENT_TYPES.names) {
      expect(UNLEASH_EVENT_TYPES.types[type]?.description, type).toMatch(/^[A-Z].+\.$/);
    }
    expect(UNLEASH_EVENT_TYPES.types['feature-updated']?.deprecated).toBe(true);
    expect(UNLEASH_EVENT_TYPES.types['feature-created']?.deprecated).toBeUndefined();
  });

  it('selects the types a glob matches', () => {
    expect(UNLEASH_EVENT_TYPES.select('release-plan-template-*')).toEqual([
      'release-plan-template-created',
      'release-plan-template-updated',
      'release-plan-template-deleted',
      'release-plan-template-archived',
    ]);
    expect(UNLEASH_EVENT_TYPES.select('feature-created')).toEqual(['feature-created']);
    expect(UNLEASH_EVENT_TYPES.select('nothing-*')).toEqual([]);
    expect(UNLEASH_EVENT_TYPES.has('constructor')).toBe(false);
    expect(UNLEASH_EVENT_TYPES.has('__proto__')).toBe(false);
  });
});

describe('validateEventTypes', () => {
  it('accepts types, globs that match a type, and *', () => {
    expect(() =>
      validateEventTypes(['feature-created', 'change-request-*', '*-deleted', '*'], UNLEASH_EVENT_TYPES),
    ).not.toThrow();
    expect(() => validateEventTypes([], UNLEASH_EVENT_TYPES)).not.toThrow();
  });

  it('refuses a typo, naming events[i] and suggesting the type', () => {
    const error = refusal(['feature-created', 'feature-creatd']);
    expect(error.field).toBe('events[1]');
    expect(error.code).toBe('ERR_INVALID_WEBHOOK');
    expect(error.message).toBe(
      'Expected `events[1]` to be an event type of the "unleash" catalog, got "feature-creatd"; did you mean "feature-created"?',
    );
  });

  it('refuses a glob that matches no type and suggests a close glob', () => {
    const error = refusal(['change-requests-*']);
    expect(error.field).toBe('events[0]');
    expect(error.message).toContain('a glob that matches a type of the "unleash" catalog');
    expect(error.message).toContain('did you mean "change-request-*"?');
  });

  it('suggests nothing when nothing is close', () => {
    const error = refusal(['invoice-paid-and-settled']);
    expect(error.message).not.toContain('did you mean');
  });

  it('is case-sensitive and says which case is right', () => {
    expect(refusal(['Feature-Created']).message).toContain('did you mean "feature-created"?');
  });

  it('refuses entries that are not strings', () => {
    expect(refusal(['feature-created', 42]).field).toBe('events[1]');
    expect(refusal(['']).field).toBe('events[0]');
  });
});

describe('suggest', () => {
  it('finds case slips, typos, transpositions and a unique longer name', () => {
    expect(suggest('FEATURE-ARCHIVED', UNLEASH_EVENT_TYPES)).toBe('feature-archived');
    expect(suggest('feature-revivd', UNLEASH_EVENT_TYPES)).toBe('feature-revived');
    expect(suggest('feature-stael-on', UNLEASH_EVENT_TYPES)).toBe('feature-stale-on');
    expect(suggest('strategy-add', UNLEASH_EVENT_TYPES)).toBe('feature-strategy-add');
    expect(suggest('feature_*', UNLEASH_EVENT_TYPES)).toBe('feature-*');
    expect(suggest('updateOnn', LAUNCHDARKLY_ACTIONS)).toBe('updateOn');
    expect(suggest('flags', LAUNCHDARKLY_EVENT_KINDS)).toBe('flag');
  });

  it('works over a plain list and answers undefined when nothing is close', () => {
    expect(suggest('invoice.payd', ['invoice.paid', 'invoice.voided'])).toBe('invoice.paid');
    expect(suggest('zzzzzzzz', UNLEASH_EVENT_TYPES)).toBeUndefined();
    expect(suggest('', UNLEASH_EVENT_TYPES)).toBeUndefined();
  });
});

describe('defineEventCatalog', () => {
  it('takes descriptions or definitions and can extend a shipped catalog', () => {
    const catalog = defineEventCatalog({
      name: 'unleash+',
      format: 'unleash',
      types: { ...UNLEASH_EVENT_TYPES.types, 'my-type': 'Mine.' },
    });
    expect(isEventCatalog(catalog)).toBe(true);
    expect(isEventCatalog({ ...catalog })).toBe(false);
    expect(catalog.names).toHaveLength(178);
    expect(catalog.types['my-type']).toEqual({ description: 'Mine.' });
    expect(Object.isFrozen(catalog.types)).toBe(true);
  });

  it.each([
    [{ types: {} }, 'eventTypes.types'],
    [{ types: { 'a b': 'x' } }, 'eventTypes.types["a b"]'],
    [{ types: { 'a*': 'x' } }, 'eventTypes.types["a*"]'],
    [{ types: { a: 5 } }, 'eventTypes.types["a"]'],
    [{ types: { a: { description: 'x', color: 'red' } } }, 'eventTypes.types["a"].color'],
    [{ types: { a: { description: 'x', schema: 'nope' } } }, 'eventTypes.types["a"].schema'],
    [{ format: 'xml', types: { a: 'x' } }, 'eventTypes.format'],
  ])('refuses %j naming %s', (definition, field) => {
    try {
      defineEventCatalog(definition as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OptionsError);
      expect((error as OptionsError).field).toBe(field);
      expect((error as OptionsError).message).toMatch(/^(Expected|Unknown field)/);
    }
  });
});

describe('sampleEventFrom', () => {
  it('builds an Unleash event of the type, with a flag and environment where the type has them', () => {
    const event = sampleEventFrom(UNLEASH_EVENT_TYPES, 'feature-environment-enabled', { now: 0 });
    expect(event).toMatchObject({
      type: 'feature-environment-enabled',
      featureName: 'sample-flag',
      project: 'default',
      environment: 'production',
      test: true,
    });
    expect(event.createdAt).toEqual(new Date(0));
    expect(sampleEventFrom(UNLEASH_EVENT_TYPES, 'user-created')).toMatchObject({
      type: 'user-created',
      featureName: null,
      environment: null,
    });
  });

  it('builds a LaunchDarkly change-history entry whose type is its kind', () => {
    const entry = sampleEventFrom(LAUNCHDARKLY_EVENT_KINDS, 'flag', { now: 1729123867537 });
    expect(entry).toMatchObject({ kind: 'flag', type: 'flag', date: 1729123867537, test: true });
    expect(entry.accesses).toEqual([
      { action: 'updateOn', resource: 'proj/default:env/production:flag/sample-flag' },
    ]);
  });

  it("sends a copy of the type's own sample", () => {
    const catalog = defineEventCatalog({
      types: { 'invoice.paid': { description: 'Paid.', sample: { id: 'in_1', amount: 5 } } },
    });
    const sample = sampleEventFrom(catalog, 'invoice.paid');
    expect(sample).toEqual({ id: 'in_1', amount: 5, type: 'invoice.paid', test: true });
    sample.amount = 6;
    expect(catalog.types['invoice.paid']?.sample).toEqual({ id: 'in_1', amount: 5 });
  });

  it('refuses a type that is not in the catalog, suggesting one', () => {
    expect(() => sampleEventFrom(UNLEASH_EVENT_TYPES, 'feature-creatd')).toThrow(
      /did you mean "feature-created"/,
    );
  });
});

describe('validateTemplateFields', () => {
  const check = (template: string, events: string[], catalog = UNLEASH_EVENT_TYPES) =>
    validateTemplateFields(Mustache.parse(template), events, catalog);

  it('accepts fields of the event schema, open levels below them, and other roots', () => {
    expect(() =>
      check(
        '{"flag":"{{event.featureName}}","by":"{{event.createdBy}}","name":"{{event.data.name}}","t":{{{eventJson}}},"w":"{{webhook.name}}"}',
        ['feature-created'],
      ),
    ).not.toThrow();
    expect(() => check('{{#event.tags}}{{value}}{{/event.tags}} {{event.tags.0.value}}', [])).not.toThrow();
  });

  it('refuses a typo in an event field, naming bodyTemplate and suggesting the field', () => {
    try {
      check('{"flag":"{{event.featureNam}}"}', ['feature-*']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookValidationError);
      expect((error as WebhookValidationError).field).toBe('bodyTemplate');
      expect((error as Error).message).toContain('`{{event.featureNam}}`');
      expect((error as Error).message).toContain('did you mean "event.featureName"?');
    }
    expect(() => check('{{event.tags.0.valeu}}', ['feature-created'])).toThrow(
      /did you mean "event.tags.0.value"/,
    );
  });

  it('checks nothing for types without a schema', () => {
    const catalog = defineEventCatalog({ types: { a: 'No schema.' } });
    expect(() => check('{{event.anything.at.all}}', ['a'], catalog)).not.toThrow();
  });

  it('accepts a field that one of several schemas has', () => {
    const catalog = defineEventCatalog({
      types: {
        a: { description: 'A.', schema: { type: 'object', properties: { onlyA: { type: 'string' } } } },
        b: { description: 'B.', schema: { type: 'object', properties: { onlyB: { type: 'string' } } } },
      },
    });
    expect(() => check('{{event.onlyA}} {{event.onlyB}}', ['*'], catalog)).not.toThrow();
    expect(() => check('{{event.onlyB}}', ['a'], catalog)).toThrow(WebhookValidationError);
  });
});

describe('the catalog in the dispatcher', () => {
  it('refuses an unknown type at save with a did-you-mean, and test() sends a sample of a subscribed type', async () => {
    const { createWebhookDispatcher, UNLEASH_EVENT_TYPES } = await import('../src/index.js');
    const sent: string[] = [];
    const dispatcher = createWebhookDispatcher({
      eventTypes: UNLEASH_EVENT_TYPES,
      transport: {
        async send(request) {
          sent.push(request.body);
          return { status: 200 };
        },
      },
    });
    await expect(
      dispatcher.webhooks.create({ url: 'https://a.example.com/', events: ['feature-creatd'] }),
    ).rejects.toMatchObject({
      field: 'events[0]',
      message: expect.stringMatching(/did you mean "feature-created"/),
    });
    await expect(
      dispatcher.webhooks.create({
        url: 'https://a.example.com/',
        events: ['feature-created'],
        bodyTemplate: '{"f":"{{event.featureNam}}"}',
      }),
    ).rejects.toMatchObject({ field: 'bodyTemplate' });
    const hook = await dispatcher.webhooks.create({
      url: 'https://a.example.com/',
      events: ['release-plan-*'],
    });
    expect(dispatcher.eventTypes).toBe(UNLEASH_EVENT_TYPES);
    expect(await dispatcher.test(hook.id)).toMatchObject({ ok: true });
    expect(JSON.parse(sent[0] as string).type).toMatch(/^release-plan-/);
    await dispatcher.close();
  });
});

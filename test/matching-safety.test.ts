import { describe, expect, it } from 'vitest';
import { InvalidEventError, PolicyError } from '../src/extend.js';
import {
  createWebhookDispatcher,
  type Statement,
  type WebhookDispatcherOptions,
  type WebhookEvent,
  type WebhookInput,
  WebhookValidationError,
} from '../src/index.js';
import { compileTemplate, MAX_RENDER_STEPS, TemplateBudgetError } from '../src/rendering/template.js';
import { MAX_ACCESSES } from '../src/routing/event.js';
import { compileEventFilter } from '../src/routing/event-filter.js';
import { compileGlob } from '../src/routing/policy/glob.js';
import { createPolicyMatcher } from '../src/routing/policy/matcher.js';
import { startReceiver } from './helpers/receiver.js';
import { open } from './helpers/setup.js';

// Each of these took from 10 s to minutes before matching was made linear and now takes milliseconds to a few
// hundred (cold, on a loaded machine); the bound is generous on purpose, far from both.
const BUDGET_MS = 2000;

/** A glob that makes a backtracking matcher take exponential time on a long run of `a`. */
const HOSTILE = `${'*a'.repeat(10)}*b`;

async function timed<T>(work: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/**
 * A dispatcher delivering to a real loopback receiver, or through `transport` when given (to time matching
 * without the network); `reach(event)` answers the names of the webhooks reached.
 */
async function dispatcherWith(
  webhooks: Record<string, Omit<WebhookInput, 'url'>>,
  transport?: WebhookDispatcherOptions['transport'],
) {
  const receiver = await startReceiver();
  const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true, deliveryLog: false, transport });
  open.push(dispatcher, receiver);
  const names = new Map<string, string>();
  for (const [name, input] of Object.entries(webhooks)) {
    const hook = await dispatcher.webhooks.create({ url: `${receiver.url}/${name}`, ...input });
    names.set(hook.id, name);
  }
  const reach = async (event: WebhookEvent) => {
    const results = await dispatcher.emit(event);
    for (const result of results) expect(result.ok, JSON.stringify(result.error)).toBe(true);
    return results.map((result) => names.get(result.webhookId)).sort();
  };
  return { dispatcher, receiver, reach };
}

const access = (action: string, resource: string) => ({ accesses: [{ action, resource }] });

describe('hostile globs are matched in linear time', () => {
  it('in `events`', async () => {
    const { reach } = await dispatcherWith({ hostile: { events: [HOSTILE, 'other'] } });
    const { value, ms } = await timed(async () => [
      await reach({ type: 'a'.repeat(20_000) }),
      await reach({ type: `${'a'.repeat(10_000)}b` }),
      await reach({ type: 'ab' }),
    ]);
    expect(value).toEqual([[], ['hostile'], []]);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('in `actions`', async () => {
    const statements: Statement[] = [
      { effect: 'allow', actions: [HOSTILE], resources: ['proj/*:env/*:flag/*'] },
    ];
    const { reach } = await dispatcherWith({ hostile: { statements } });
    const resource = 'proj/p:env/production:flag/f';
    const { value, ms } = await timed(async () => [
      await reach(access('a'.repeat(20_000), resource)),
      await reach(access(`${'a'.repeat(10_000)}b`, resource)),
    ]);
    expect(value).toEqual([[], ['hostile']]);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('in resource keys, case-sensitively', async () => {
    const statements: Statement[] = [
      { effect: 'allow', actions: ['*'], resources: [`proj/${HOSTILE}:env/*:flag/*`] },
    ];
    const { reach } = await dispatcherWith({ hostile: { statements } });
    const { value, ms } = await timed(async () => [
      await reach(access('updateOn', `proj/${'a'.repeat(20_000)}:env/e:flag/f`)),
      await reach(access('updateOn', `proj/${'a'.repeat(10_000)}b:env/e:flag/f`)),
      await reach(access('updateOn', `proj/${'A'.repeat(10_000)}B:env/e:flag/f`)),
    ]);
    expect(value).toEqual([[], ['hostile'], []]);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('in tags, case-insensitively', async () => {
    const statements: Statement[] = [
      { effect: 'allow', actions: ['*'], resources: [`proj/*;${HOSTILE}:env/*:flag/*`] },
    ];
    const { reach } = await dispatcherWith({ hostile: { statements } });
    const { value, ms } = await timed(async () => [
      await reach(access('updateOn', `proj/p;x,${'a'.repeat(20_000)}:env/e:flag/f`)),
      await reach(access('updateOn', `proj/p;x,${'A'.repeat(10_000)}B:env/e:flag/f`)),
    ]);
    expect(value).toEqual([[], ['hostile']]);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('for many hostile shapes at once, with the same answers as a reference', () => {
    const shapes = [
      HOSTILE,
      `${'a*'.repeat(60)}b`,
      `*${'ab*'.repeat(40)}c`,
      `${'*'.repeat(100)}x${'*'.repeat(100)}`,
      `a/${'*a'.repeat(30)}*b/${'*a'.repeat(30)}`,
    ];
    const subjects = [
      'a'.repeat(50_000),
      `${'a'.repeat(50_000)}b`,
      'ab'.repeat(20_000),
      `${'ab'.repeat(20_000)}c`,
      `a/${'a'.repeat(20_000)}b/${'a'.repeat(30)}`,
      `a/${'a'.repeat(20_000)}/b`,
    ];
    const expected = [
      [false, true, true, false, false, false],
      [false, true, true, false, false, false],
      [false, false, false, true, false, false],
      [false, false, false, false, false, false],
      [false, false, false, false, true, false],
    ];
    const { value, ms } = (() => {
      const started = performance.now();
      const answers = shapes.map((shape) => {
        const glob = compileGlob(shape);
        return subjects.map((subject) => glob(subject));
      });
      return { value: answers, ms: performance.now() - started };
    })();
    expect(value).toEqual(expected);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('refuses over-long globs at save, naming the field', async () => {
    const { dispatcher } = await dispatcherWith({});
    const url = 'http://127.0.0.1:9/hook';
    const long = '*a'.repeat(129);
    const events = await dispatcher.webhooks.create({ url, events: ['ok', long] }).catch((error) => error);
    expect(events).toBeInstanceOf(WebhookValidationError);
    expect(events.field).toBe('events[1]');
    expect(events.message).toBe(
      'Expected `events[1]` to be an event type or glob of at most 256 characters, got 258 characters.',
    );
    const statements = [{ effect: 'allow' as const, actions: [long], resources: ['proj/*'] }];
    const actions = await dispatcher.webhooks.create({ url, statements }).catch((error) => error);
    expect(actions).toBeInstanceOf(PolicyError);
    expect(actions.field).toBe('statements[0].actions[0]');
    const resources = [`proj/${'*a'.repeat(600)}`];
    const keys = await dispatcher.webhooks
      .create({ url, statements: [{ effect: 'allow', actions: ['*'], resources }] })
      .catch((error) => error);
    expect(keys).toBeInstanceOf(PolicyError);
    expect(keys.field).toBe('statements[0].resources[0]');
    expect(keys.message).toContain('at most 1024 characters, got 1205 characters');
    expect(await dispatcher.webhooks.list()).toEqual([]);
  });

  it('refuses more than 100 statements, actions or resources and more than 1,000 events or tags, naming the field', async () => {
    const { dispatcher } = await dispatcherWith({});
    const url = 'http://127.0.0.1:9/hook';
    const statement = { effect: 'allow' as const, actions: ['*'], resources: ['proj/*'] };
    const refused = async (input: Omit<WebhookInput, 'url'>) =>
      dispatcher.webhooks.create({ url, ...input }).then(
        () => undefined,
        (error) => error,
      );
    const many = await refused({ statements: Array.from({ length: 101 }, () => statement) });
    expect(many).toBeInstanceOf(PolicyError);
    expect(many.field).toBe('statements');
    expect(many.message).toBe('Expected `statements` to have at most 100 statements, got 101.');
    const actions = await refused({
      statements: [{ ...statement, actions: Array.from({ length: 101 }, (_, i) => `a${i}`) }],
    });
    expect(actions.field).toBe('statements[0].actions');
    const resources = await refused({
      statements: [{ ...statement, resources: Array.from({ length: 101 }, (_, i) => `proj/p${i}`) }],
    });
    expect(resources.field).toBe('statements[0].resources');
    const events = await refused({ events: Array.from({ length: 1001 }, (_, i) => `type-${i}`) });
    expect(events).toBeInstanceOf(WebhookValidationError);
    expect(events.message).toBe('Expected `events` to have at most 1000 entries, got 1001.');
    const tags = await refused({ tags: Array.from({ length: 1001 }, (_, i) => `t${i}`) });
    expect(tags.field).toBe('tags');
    // The limits themselves are accepted.
    expect(await refused({ statements: Array.from({ length: 100 }, () => statement) })).toBeUndefined();
  });

  it('explain() spells out at most 200 statement x access pairs, and counts the rest', async () => {
    const statements = Array.from({ length: 100 }, (_, i) => ({
      effect: 'allow' as const,
      actions: ['*'],
      resources: [`proj/p${i}`],
    }));
    const { dispatcher } = await dispatcherWith({ big: { statements } });
    const [hook] = await dispatcher.webhooks.list();
    const accesses = Array.from({ length: MAX_ACCESSES }, (_, i) => ({
      action: 'updateOn',
      resource: `proj/x${i}`,
    }));
    const { value, ms } = await timed(() => dispatcher.explain(hook!.id, { accesses }));
    const pairs = value.reasons.filter((r) => r.check === 'statement');
    expect(pairs).toHaveLength(201);
    expect(pairs.at(-1)?.message).toBe(
      `${100 * MAX_ACCESSES - 200} more statement x access pairs not listed (at most 200 are)`,
    );
    expect(value.matched).toBe(false);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('keeps an event filter over the longest accepted globs fast', () => {
    const filter = compileEventFilter(Array.from({ length: 50 }, (_, i) => `${'*a'.repeat(127)}${i}`));
    const { value, ms } = (() => {
      const started = performance.now();
      const answers = [filter.matches('a'.repeat(100_000)), filter.matches(`${'a'.repeat(200)}49`)];
      return { value: answers, ms: performance.now() - started };
    })();
    expect(value).toEqual([false, true]);
    expect(ms).toBeLessThan(BUDGET_MS);
  });
});

describe('events with many accesses', () => {
  it(`refuses more than ${MAX_ACCESSES} accesses at once, before matching anything`, async () => {
    const { dispatcher, receiver } = await dispatcherWith({ all: { statements: [] } });
    const accesses = Array.from({ length: 8000 }, (_, i) => ({
      action: 'updateOn',
      resource: `proj/p${i}:env/production:flag/f${i}`,
    }));
    const { value: error, ms } = await timed(() => dispatcher.emit({ accesses }).catch((caught) => caught));
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error.code).toBe('ERR_INVALID_EVENT');
    expect(error.message).toBe(
      `emit: expected \`event.accesses\` to hold at most ${MAX_ACCESSES} accesses, got 8000; split the change into several events`,
    );
    expect(ms).toBeLessThan(BUDGET_MS);
    await expect(dispatcher.preview((await dispatcher.webhooks.list())[0]!.id, { accesses })).rejects.toThrow(
      InvalidEventError,
    );
    expect(receiver.requests).toHaveLength(0);
  });

  it(`matches ${MAX_ACCESSES} distinct accesses against indexed and glob policies in linear time`, async () => {
    const webhooks: Record<string, Omit<WebhookInput, 'url'>> = {};
    for (let i = 0; i < 50; i++) {
      // Indexed by a literal project (only `proj/p7` is in the event), and a glob that cannot be indexed.
      webhooks[`indexed${i}`] = {
        statements: [
          { effect: 'allow', actions: ['*'], resources: [`proj/p${i * 7}:env/production:flag/*`] },
        ],
      };
      webhooks[`glob${i}`] = {
        statements: [{ effect: 'allow', actions: ['update*'], resources: [`proj/g${i}-*:env/*:flag/*`] }],
      };
    }
    const sent: string[] = [];
    const recorder = {
      async send(request: { url: string }) {
        sent.push(new URL(request.url).pathname);
        return { status: 204 };
      },
    };
    const { reach } = await dispatcherWith(webhooks, recorder);
    const accesses = Array.from({ length: MAX_ACCESSES }, (_, i) => ({
      action: 'createFlag',
      resource: i === MAX_ACCESSES - 1 ? 'proj/g42-eu:env/e:flag/f' : `proj/x${i}:env/production:flag/f${i}`,
    }));
    accesses[3] = { action: 'updateOn', resource: 'proj/p7:env/production:flag/f' };
    accesses[MAX_ACCESSES - 2] = { action: 'updateOn', resource: 'proj/g49-us:env/e:flag/f' };
    const { value, ms } = await timed(async () => [
      await reach({ accesses }),
      await reach({ accesses: accesses.map(({ resource }) => ({ action: 'createFlag', resource })) }),
    ]);
    expect(value).toEqual([['glob49', 'indexed1'], ['indexed1']]);
    expect(sent.sort()).toEqual(['/glob49', '/indexed1', '/indexed1']);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('checks a policy against every access of an event (any allowed access passes)', () => {
    const allows = createPolicyMatcher([
      { effect: 'allow', actions: ['*'], resources: ['proj/*:env/production:flag/*'] },
      { effect: 'deny', actions: ['delete*'], resources: ['proj/*:env/*:flag/*'] },
    ]);
    const accesses = Array.from({ length: MAX_ACCESSES }, (_, i) => ({
      action: i % 2 === 0 ? 'deleteFlag' : 'updateOn',
      resource: `proj/p${i}:env/${i % 3 === 0 ? 'production' : 'test'}:flag/f`,
    }));
    // Only odd i with i % 3 === 0 are updates in production.
    const allowed = accesses.flatMap((access, i) => (allows(access) ? [i] : []));
    expect(allowed).toEqual(accesses.flatMap((_, i) => (i % 2 === 1 && i % 3 === 0 ? [i] : [])));
    // A second pass over the same access objects answers from their parsed resources, with the same answers.
    expect(accesses.flatMap((access, i) => (allows(access) ? [i] : []))).toEqual(allowed);
  });
});

describe('template bombs', () => {
  const items = Array.from({ length: 200 }, (_, i) => ({ n: i }));
  const context = (event: WebhookEvent) => ({
    event,
    eventJson: JSON.stringify(JSON.stringify(event)),
    webhook: { id: 'wh_1', url: 'https://example.com/hook', tags: [] },
  });
  const nested = (depth: number, inner: string) =>
    `${'{{#event.items}}'.repeat(depth)}${inner}${'{{/event.items}}'.repeat(depth)}`;

  it('stops three nested sections over 200 items at the byte budget, with BODY_TOO_LARGE', async () => {
    const template = compileTemplate(nested(3, '{"n":{{n}}},'), { contentType: 'application/json' });
    const { value: error, ms } = await timed(() => {
      try {
        template.render(context({ items }), { maxBytes: 1_048_576 });
      } catch (caught) {
        return caught as TemplateBudgetError;
      }
      throw new Error('expected the render to stop');
    });
    expect(error).toBeInstanceOf(TemplateBudgetError);
    expect(error.code).toBe('BODY_TOO_LARGE');
    expect(error.limit).toBe('bytes');
    expect(error.message).toMatch(
      /^rendered body is over the 1048576-byte limit \(rendering stopped at \d+ characters\); not sent$/,
    );
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('stops sections nested over long lists that print nothing, by the work they do', async () => {
    const template = compileTemplate(nested(4, ''), { contentType: 'application/json' });
    const { value: error, ms } = await timed(() => {
      try {
        template.render(context({ items }));
      } catch (caught) {
        return caught as TemplateBudgetError;
      }
      throw new Error('expected the render to stop');
    });
    expect(error).toBeInstanceOf(TemplateBudgetError);
    expect(error.code).toBe('RENDER_FAILED');
    expect(error.limit).toBe('steps');
    expect(error.message).toContain(`stopped after ${MAX_RENDER_STEPS} steps`);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('renders one level over the same list normally', () => {
    const template = compileTemplate(`[${nested(1, '{{n}},')}0]`, { contentType: 'application/json' });
    const body = template.render(context({ items }), { maxBytes: 1_048_576 });
    expect(JSON.parse(body)).toHaveLength(201);
  });

  it('fails the delivery of a template bomb fast, and sends nothing', async () => {
    const { dispatcher, receiver } = await dispatcherWith({
      bomb: { events: ['bomb'], bodyTemplate: nested(4, '') },
    });
    const { value: results, ms } = await timed(() => dispatcher.emit({ type: 'bomb', items }));
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, attempts: 0, error: { code: 'RENDER_FAILED' } });
    expect(results[0]!.error!.message).toContain('steps');
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(receiver.requests).toHaveLength(0);
  });
});

import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import { TemplateError, WebhookError, WebhookValidationError } from '../src/core/errors.js';
import type { WebhookEvent } from '../src/core/types.js';
import {
  assertTemplateNames,
  type CompiledTemplate,
  compileTemplate,
  DEFAULT_RENDER_MAX_BYTES,
  escapeHtml,
  escapeJsonString,
  eventJsonOf,
  isJsonContentType,
  MAX_RENDER_STEPS,
  MAX_SECTION_DEPTH,
  TemplateBudgetError,
  type TemplateContext,
  templateEscapeFor,
} from '../src/rendering/template.js';

const unleashEvent: WebhookEvent = {
  id: 27332,
  type: 'feature-created',
  createdBy: 'user@getunleash.io',
  createdAt: '2024-10-03T11:09:53.225Z',
  createdByUserId: 110,
  data: {
    name: 'test-flag',
    description: null,
    type: 'release',
    project: 'test-project',
    stale: false,
    createdAt: '2024-10-03T11:09:53.201Z',
    impressionData: false,
    archived: false,
  },
  preData: null,
  tags: [],
  featureName: 'test-flag',
  project: 'test-project',
  environment: null,
};

const webhook = {
  id: 'wh_1',
  name: 'Flags to Slack',
  url: 'https://hooks.example.com/x',
  tags: ['team-a', 'prod'],
};

function contextOf(event: WebhookEvent): TemplateContext {
  return { event, eventJson: eventJsonOf(JSON.stringify(event)), webhook };
}

function render(source: string, event: WebhookEvent, contentType = 'application/json'): string {
  return compileTemplate(source, { contentType }).render(contextOf(event));
}

function compileError(
  source: string,
  options: { contentType: string; field?: string } = { contentType: 'application/json' },
) {
  try {
    compileTemplate(source, options);
  } catch (error) {
    return error as TemplateError;
  }
  throw new Error(`expected ${JSON.stringify(source)} to be refused`);
}

function thrown(action: () => void): TemplateError {
  try {
    action();
  } catch (error) {
    return error as TemplateError;
  }
  throw new Error('expected it to throw');
}

/** Deterministic PRNG (mulberry32) so a failing case can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE: Record<string, string> = {
  'double quote': 'some"user.com',
  backslash: 'C:\\temp\\new',
  'quote after backslash': '\\"',
  newline: 'line 1\nline 2',
  'carriage return and tab': 'a\r\n\tb',
  'closing script tag': '</script><script>alert(1)</script>',
  'html specials': `<b>&'"</b>`,
  emoji: 'ship it 🚀👩‍💻',
  'line separator U+2028': 'a\u2028b',
  'paragraph separator U+2029': 'a\u2029b',
  NUL: 'a\u0000b',
  'all C0 controls': Array.from({ length: 32 }, (_, code) => String.fromCharCode(code)).join(''),
  'DEL and C1': '\u007f\u0085\u009f',
  'lone high surrogate': 'x\ud83dy',
  'lone low surrogate': 'x\ude80y',
  'reversed surrogate pair': '\ude80\ud83d',
  'mustache tags in the value': '{{event.type}} {{{eventJson}}}',
  'JSON injection attempt': '", "admin": true, "x": "',
  empty: '',
};

describe('compileTemplate: Unleash compatibility', () => {
  it('renders the Unleash documentation template unchanged into valid JSON', () => {
    const template = `{
  "event": "{{event.type}}",
  "createdBy": "{{event.createdBy}}",
  "featureToggle": "{{event.data.name}}",
  "timestamp": "{{event.data.createdAt}}"
}`;
    expect(JSON.parse(render(template, unleashEvent))).toEqual({
      event: 'feature-created',
      createdBy: 'user@getunleash.io',
      featureToggle: 'test-flag',
      timestamp: '2024-10-03T11:09:53.201Z',
    });
  });

  it('renders a text/plain template without any escaping', () => {
    const event = { ...unleashEvent, createdBy: `O'Brien <ob@x.io> "admin"` };
    const body = render(
      '{{event.createdBy}} created {{event.featureName}} in {{event.project}}',
      event,
      'text/plain',
    );
    expect(body).toBe(`O'Brien <ob@x.io> "admin" created test-flag in test-project`);
  });

  it('gives eventJson as a JSON string literal that round-trips to the event', () => {
    const body = render('{\n  "json": {{{eventJson}}}\n}', unleashEvent);
    const outer = JSON.parse(body) as { json: string };
    expect(typeof outer.json).toBe('string');
    expect(JSON.parse(outer.json)).toEqual(unleashEvent);
  });

  it('round-trips eventJson for an event full of hostile strings and Dates', () => {
    const createdAt = new Date('2024-10-03T11:09:53.225Z');
    const event = { ...unleashEvent, createdAt, data: { ...HOSTILE } };
    const outer = JSON.parse(render('{"json": {{{eventJson}}}}', event)) as { json: string };
    expect(JSON.parse(outer.json)).toEqual({
      ...unleashEvent,
      createdAt: createdAt.toISOString(),
      data: HOSTILE,
    });
  });

  it('eventJsonOf wraps the JSON body as a string literal (serialized twice)', () => {
    const event = { id: 1, type: 'x' };
    expect(eventJsonOf(JSON.stringify(event))).toBe(JSON.stringify(JSON.stringify(event)));
    expect(eventJsonOf('{"a":"\\""}')).toBe('"{\\"a\\":\\"\\\\\\"\\"}"');
  });

  it('exposes the webhook id, name, url and tags', () => {
    const body = render(
      '{"id":"{{webhook.id}}","name":"{{webhook.name}}","url":"{{webhook.url}}","tags":[{{#webhook.tags}}"{{.}}",{{/webhook.tags}}null]}',
      unleashEvent,
    );
    expect(JSON.parse(body)).toEqual({ ...webhook, tags: ['team-a', 'prod', null] });
  });
});

describe('compileTemplate: JSON escaping of {{x}}', () => {
  for (const [name, value] of Object.entries(HOSTILE)) {
    it(`keeps "{{x}}" valid JSON holding exactly the value: ${name}`, () => {
      const body = render('{"value": "{{event.value}}"}', { value });
      expect(JSON.parse(body)).toEqual({ value });
    });
  }

  it('never emits a lone surrogate or raw U+2028/U+2029, so the UTF-8 body keeps the exact value', () => {
    const value = 'a\ud800b\udfffc\u2028\u2029🚀';
    const body = render('"{{event.value}}"', { value });
    expect(body).not.toMatch(/[\u2028\u2029]/);
    expect(Buffer.from(body, 'utf8').toString('utf8')).toBe(body);
    expect(JSON.parse(Buffer.from(body, 'utf8').toString('utf8'))).toBe(value);
  });

  it('holds for 5000 random strings of any UTF-16 code units (property test)', () => {
    const random = prng(20241003);
    const alphabet = [
      '"',
      '\\',
      '/',
      '\n',
      '\r',
      '\t',
      '\u0000',
      '\u001f',
      '\u2028',
      '\u2029',
      '<',
      '&',
      "'",
      '{',
      '}',
    ];
    const template = compileTemplate('{"a": "{{event.a}}", "b": ["{{event.b}}"]}', {
      contentType: 'application/json',
    });
    for (let run = 0; run < 5000; run++) {
      let value = '';
      const length = Math.floor(random() * 24);
      for (let i = 0; i < length; i++) {
        const pick = random();
        if (pick < 0.3) value += alphabet[Math.floor(random() * alphabet.length)];
        else if (pick < 0.5)
          value += String.fromCharCode(0xd800 + Math.floor(random() * 0x800)); // any surrogate
        else if (pick < 0.6) value += String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
        else if (pick < 0.7) value += String.fromCharCode(Math.floor(random() * 0x20));
        else value += String.fromCharCode(Math.floor(random() * 0x10000));
      }
      const body = template.render(contextOf({ a: value, b: value }));
      const parsed = JSON.parse(body) as { a: string; b: string[] };
      expect(parsed.a).toBe(value);
      expect(parsed.b).toEqual([value]);
      expect(Buffer.from(body, 'utf8').toString('utf8')).toBe(body);
    }
  });

  it('applies to every JSON content type, with or without parameters', () => {
    for (const contentType of [
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/vnd.api+json',
      'application/cloudevents+json; charset=UTF-8',
    ]) {
      expect(render('"{{event.v}}"', { v: 'a"b' }, contentType)).toBe('"a\\"b"');
    }
  });

  it('does not HTML-escape in JSON templates (no &quot; as Unleash sends)', () => {
    expect(JSON.parse(render('"{{event.createdBy}}"', { createdBy: 'some"user.com' }))).toBe('some"user.com');
    expect(render('"{{event.v}}"', { v: '<a href="/x">&</a>' })).toBe('"<a href=\\"/x\\">&</a>"');
  });
});

describe('compileTemplate: HTML and other content types', () => {
  it('HTML-escapes {{x}} for text/html', () => {
    const body = render(
      '<p>{{event.v}}</p>',
      { v: `<script>alert("x" & 'y')</script>` },
      'text/html; charset=utf-8',
    );
    expect(body).toBe('<p>&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;</p>');
  });

  it('leaves {{x}} unescaped for text/plain and other types', () => {
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'text/markdown; charset=utf-8',
    ]) {
      expect(render('{{event.v}}', { v: `<"a\\b">\n` }, contentType)).toBe(`<"a\\b">\n`);
    }
  });

  it('renders {{{x}}} and {{&x}} raw in every content type', () => {
    for (const contentType of ['application/json', 'text/html', 'text/plain']) {
      expect(render('{{{event.v}}}|{{&event.v}}', { v: '<"\\\n>' }, contentType)).toBe('<"\\\n>|<"\\\n>');
    }
  });
});

describe('compileTemplate: escape override', () => {
  it('uses the escape option over the content type', () => {
    const event = { v: '<"x">' };
    expect(
      compileTemplate('{{event.v}}', { contentType: 'application/json', escape: 'none' }).render(
        contextOf(event),
      ),
    ).toBe('<"x">');
    expect(
      compileTemplate('{{event.v}}', { contentType: 'text/plain', escape: 'json' }).render(contextOf(event)),
    ).toBe('<\\"x\\">');
    expect(
      compileTemplate('{{event.v}}', { contentType: 'application/json', escape: 'html' }).render(
        contextOf(event),
      ),
    ).toBe('&lt;&quot;x&quot;&gt;');
  });

  it('reports the escaping it uses', () => {
    expect(compileTemplate('', { contentType: 'application/json' }).escape).toBe('json');
    expect(compileTemplate('', { contentType: 'text/html' }).escape).toBe('html');
    expect(compileTemplate('', { contentType: 'text/plain' }).escape).toBe('none');
    expect(compileTemplate('', { contentType: 'text/html', escape: 'json' }).escape).toBe('json');
  });

  it('refuses an unknown escape with a validation error on templateEscape', () => {
    const error = (() => {
      try {
        compileTemplate('x', { contentType: 'text/plain', escape: 'xml' as never });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(WebhookValidationError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field: 'templateEscape' });
    expect((error as Error).message).toBe(
      `Expected \`templateEscape\` to be one of 'json', 'html', 'none', got "xml".`,
    );
  });
});

describe('compileTemplate: value rendering', () => {
  const event = {
    createdAt: new Date('2024-10-03T11:09:53.225Z'),
    invalidDate: new Date(Number.NaN),
    count: 42,
    ratio: 0.5,
    notANumber: Number.NaN,
    infinite: Number.POSITIVE_INFINITY,
    on: true,
    off: false,
    nothing: null,
    data: { name: 'f"1', when: new Date(0), list: [1, 'two', null] },
    list: ['a', 'b"'],
    empty: [],
  };

  it('renders Dates as ISO-8601 in {{x}}, {{{x}}} and sections', () => {
    expect(
      render(
        '{{event.createdAt}}|{{{event.createdAt}}}|{{#event.createdAt}}{{.}}{{/event.createdAt}}',
        event,
      ),
    ).toBe('2024-10-03T11:09:53.225Z|2024-10-03T11:09:53.225Z|2024-10-03T11:09:53.225Z');
  });

  it('renders Dates as ISO-8601 inside arrays iterated by a section', () => {
    const dates = [new Date(0), new Date(1000)];
    expect(render('{{#event.dates}}[{{.}}]{{/event.dates}}', { dates }, 'text/plain')).toBe(
      '[1970-01-01T00:00:00.000Z][1970-01-01T00:00:01.000Z]',
    );
  });

  it('renders an invalid Date as nothing, as JSON turns it into null', () => {
    expect(render('[{{event.invalidDate}}]', event, 'text/plain')).toBe('[]');
  });

  it('renders numbers and booleans with String(), null and missing values as nothing', () => {
    expect(render('{{event.count}} {{event.ratio}} {{event.on}} {{event.off}}', event, 'text/plain')).toBe(
      '42 0.5 true false',
    );
    const bigint = compileTemplate('{{event.big}}', { contentType: 'application/json' });
    expect(bigint.render({ event: { big: 10n }, eventJson: '""', webhook })).toBe('10');
    expect(
      render('[{{event.nothing}}][{{event.missing}}][{{event.missing.deeper}}][{{{event.nothing}}}]', event),
    ).toBe('[][][][]');
  });

  it('renders NaN and Infinity as nothing, as JSON turns them into null', () => {
    expect(render('[{{event.notANumber}}][{{event.infinite}}]', event)).toBe('[][]');
  });

  it('renders objects and arrays as their JSON text, escaped for the content type', () => {
    const body = render(
      '{"asString": "{{event.data}}", "raw": {{{event.data}}}, "list": {{{event.list}}}}',
      event,
    );
    const parsed = JSON.parse(body) as { asString: string; raw: unknown; list: unknown };
    const expected = { name: 'f"1', when: '1970-01-01T00:00:00.000Z', list: [1, 'two', null] };
    expect(JSON.parse(parsed.asString)).toEqual(expected);
    expect(parsed.raw).toEqual(expected);
    expect(parsed.list).toEqual(['a', 'b"']);
  });

  it('renders objects as JSON text in text/plain too', () => {
    expect(render('{{event.list}}', event, 'text/plain')).toBe('["a","b\\""]');
  });

  it('iterates arrays and enters objects in sections', () => {
    expect(render('{{#event.list}}<{{.}}>{{/event.list}}', event, 'text/plain')).toBe('<a><b">');
    expect(render('{{#event.data}}{{name}} at {{when}}{{/event.data}}', event, 'text/plain')).toBe(
      'f"1 at 1970-01-01T00:00:00.000Z',
    );
    expect(
      render('{{^event.empty}}no tags{{/event.empty}}{{#event.empty}}never{{/event.empty}}', event),
    ).toBe('no tags');
    expect(
      render('{{#event.nothing}}never{{/event.nothing}}{{^event.nothing}}null{{/event.nothing}}', event),
    ).toBe('null');
  });

  it('escapes each iterated value for JSON', () => {
    const body = render('[{{#event.list}}"{{.}}",{{/event.list}}"end"]', event);
    expect(JSON.parse(body)).toEqual(['a', 'b"', 'end']);
  });

  it('throws a TypeError naming the tag when a value cannot be serialized', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const template = compileTemplate('{{event.data}}', { contentType: 'application/json' });
    const context = { event: { data: circular }, eventJson: '""', webhook };
    expect(() => template.render(context)).toThrow(TypeError);
    expect(() => template.render(context)).toThrow(/^Cannot render \{\{event\.data\}\}: /);
  });

  it('renders the same compiled template for different events and webhooks', () => {
    const template: CompiledTemplate = compileTemplate('{{webhook.id}}:{{event.type}}', {
      contentType: 'text/plain',
    });
    expect(template.render(contextOf({ type: 'a' }))).toBe('wh_1:a');
    expect(
      template.render({ event: { type: 'b' }, eventJson: '""', webhook: { ...webhook, id: 'wh_2' } }),
    ).toBe('wh_2:b');
  });
});

describe('compileTemplate: render budget', () => {
  const budgetError = (work: () => unknown): TemplateBudgetError => {
    try {
      work();
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateBudgetError);
      return error as TemplateBudgetError;
    }
    throw new Error('expected the render to stop');
  };
  const event = (fields: Record<string, unknown>) => ({ type: 'x', ...fields }) as WebhookEvent;

  it('renders a body of exactly maxBytes characters and stops one character over', () => {
    const template = compileTemplate('{"v":"{{event.v}}"}', { contentType: 'application/json' });
    const ctx = contextOf(event({ v: 'a'.repeat(10) }));
    expect(template.render(ctx, { maxBytes: 18 })).toBe(`{"v":"${'a'.repeat(10)}"}`);
    const error = budgetError(() => template.render(ctx, { maxBytes: 17 }));
    expect(error.code).toBe('BODY_TOO_LARGE');
    expect(error.limit).toBe('bytes');
    expect(error.name).toBe('TemplateBudgetError');
    expect(error.message).toBe(
      'rendered body is over the 17-byte limit (rendering stopped at 18 characters); not sent',
    );
  });

  it('counts the escaped output', () => {
    const template = compileTemplate('"{{event.v}}"', { contentType: 'application/json' });
    const ctx = contextOf(event({ v: '"'.repeat(10) }));
    expect(template.render(ctx, { maxBytes: 22 })).toBe(`"${'\\"'.repeat(10)}"`);
    expect(budgetError(() => template.render(ctx, { maxBytes: 21 })).code).toBe('BODY_TOO_LARGE');
  });

  it(`stops at ${DEFAULT_RENDER_MAX_BYTES} characters when no maxBytes is given`, () => {
    const template = compileTemplate('{{{event.v}}}', { contentType: 'application/json' });
    const fits = 'a'.repeat(DEFAULT_RENDER_MAX_BYTES);
    expect(template.render(contextOf(event({ v: fits })))).toHaveLength(DEFAULT_RENDER_MAX_BYTES);
    const error = budgetError(() => template.render(contextOf(event({ v: `${fits}a` }))));
    expect(error.message).toContain(`over the ${DEFAULT_RENDER_MAX_BYTES}-byte limit`);
  });

  it(`stops after ${MAX_RENDER_STEPS} steps of work, counting each section pass`, () => {
    const template = compileTemplate('{{#event.items}}{{/event.items}}done', { contentType: 'text/plain' });
    expect(template.render(contextOf(event({ items: new Array(1000).fill(1) })))).toBe('done');
    const error = budgetError(() =>
      template.render(contextOf(event({ items: new Array(MAX_RENDER_STEPS).fill(1) }))),
    );
    expect(error.code).toBe('RENDER_FAILED');
    expect(error.limit).toBe('steps');
  });

  it('gives a render started inside another render (a host lambda) its own budget', () => {
    const inner = compileTemplate('{{#event.items}}x{{/event.items}}', { contentType: 'text/plain' });
    const innerContext = contextOf(event({ items: [1, 2, 3] }));
    const outer = compileTemplate('{{event.fn}}-{{event.fn}}', { contentType: 'text/plain' });
    const ctx = contextOf(event({ fn: () => inner.render(innerContext, { maxBytes: 3 }) }));
    expect(outer.render(ctx, { maxBytes: 7 })).toBe('xxx-xxx');
    expect(budgetError(() => outer.render(ctx, { maxBytes: 6 })).code).toBe('BODY_TOO_LARGE');
  });

  it.each([-1, Number.NaN, '10'])('refuses maxBytes %j with a TypeError', (maxBytes) => {
    const template = compileTemplate('x', { contentType: 'text/plain' });
    expect(() => template.render(contextOf(event({})), { maxBytes: maxBytes as number })).toThrow(
      /^Expected `maxBytes` to be a non-negative number, got /,
    );
  });
});

describe('compileTemplate: parse errors', () => {
  it('refuses an unclosed tag with the line and column of its opening', () => {
    const error = compileError('{\n  "event": "{{event.type"\n}');
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_TEMPLATE', field: 'bodyTemplate', line: 2, column: 13 });
    expect(error.message).toBe(
      'Expected `bodyTemplate` to be a valid Mustache template, got an error at line 2, column 13: this tag is never closed (missing "}}").',
    );
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses an unclosed triple mustache', () => {
    expect(compileError('ok {{{event.data}}')).toMatchObject({ line: 1, column: 4 });
  });

  it('refuses a section that is never closed, pointing at its opening tag', () => {
    const error = compileError('[\n{{#event.tags}}\n  "{{.}}"\n]');
    expect(error).toMatchObject({ line: 2, column: 1 });
    expect(error.message).toContain('section {{#event.tags}} is never closed (missing {{/event.tags}})');
  });

  it('refuses a closing tag without an opening section', () => {
    const error = compileError('abc\nde {{/event.tags}}');
    expect(error).toMatchObject({ line: 2, column: 4 });
    expect(error.message).toContain('{{/event.tags}} closes a section that was never opened');
  });

  it('refuses mismatched sections at the wrong closing tag', () => {
    const error = compileError('{{#a}}{{#b}}x{{/a}}{{/b}}');
    expect(error).toMatchObject({ line: 1, column: 14 });
    expect(error.message).toContain('section {{#b}} must be closed with {{/b}} before this tag');
  });

  it('counts columns in characters, so an emoji before the error counts once', () => {
    expect(compileError('🚀 {{x')).toMatchObject({ line: 1, column: 3 });
  });

  it('refuses a lookup outside sections that the render context cannot answer, naming it and where', () => {
    for (const [source, name, column] of [
      ['{"a": "{{evnt.name}}"}', 'evnt.name', 8],
      ['{"a": {{{eventJsn}}}}', 'eventJsn', 7],
      ['{{#flag}}x{{/flag}}', 'flag', 1],
      ['{{^webhook.secret}}x{{/webhook.secret}}', 'webhook.secret', 1],
    ] as const) {
      const error = thrown(() => assertTemplateNames(source));
      expect(error).toBeInstanceOf(TemplateError);
      expect(error).toMatchObject({ field: 'bodyTemplate', line: 1, column });
      expect(error.message).toContain(`{{${name}}} is not in the render context`);
    }
  });

  it('accepts every name of the render context, any event field, and item fields inside sections', () => {
    const source =
      '{{event.anything.deep}} {{{eventJson}}} {{eventMarkdown}} {{webhook.name}} {{.}}{{#event.tags}}{{value}}{{/event.tags}}{{#webhook.tags}}{{.}}{{/webhook.tags}}';
    expect(() => assertTemplateNames(source)).not.toThrow();
    // A template that does not parse is compileTemplate's to report.
    expect(() => assertTemplateNames('{{#a}}')).not.toThrow();
  });

  it('refuses partials, which could never be resolved', () => {
    const error = compileError('a\n {{> footer}}');
    expect(error).toMatchObject({ code: 'ERR_INVALID_TEMPLATE', line: 2, column: 2 });
    expect(error.message).toContain('partials ({{>footer}}) are not supported');
  });

  it(`refuses sections nested more than ${MAX_SECTION_DEPTH} deep, pointing at the first one too deep`, () => {
    const nest = (depth: number) => `${'{{#a}}'.repeat(depth)}x${'{{/a}}'.repeat(depth)}`;
    expect(compileTemplate(nest(MAX_SECTION_DEPTH), { contentType: 'text/plain' }).escape).toBe('none');
    for (const depth of [MAX_SECTION_DEPTH + 1, 50_000]) {
      const error = compileError(nest(depth));
      expect(error).toBeInstanceOf(TemplateError);
      expect(error.line).toBe(1);
      expect(error.column).toBe(MAX_SECTION_DEPTH * 6 + 1);
      expect(error.message).toBe(
        `Expected \`bodyTemplate\` to be a valid Mustache template, got an error at line 1, column ${MAX_SECTION_DEPTH * 6 + 1}: sections are nested more than ${MAX_SECTION_DEPTH} deep.`,
      );
    }
  });

  it('refuses an invalid set-delimiter tag', () => {
    const error = compileError('{{=<% =}}');
    expect(error).toBeInstanceOf(TemplateError);
    expect(error.message).toContain('invalid set-delimiter tag');
  });

  it('names the field it was given', () => {
    expect(
      compileError('{{#x}}', { contentType: 'text/plain', field: 'webhooks[3].bodyTemplate' }),
    ).toMatchObject({
      field: 'webhooks[3].bodyTemplate',
    });
  });

  it('refuses a template that is not a string', () => {
    const error = compileError(42 as never);
    expect(error).toMatchObject({ code: 'ERR_INVALID_TEMPLATE', field: 'bodyTemplate' });
    expect(error.message).toBe('Expected `bodyTemplate` to be a string, got 42.');
  });

  it('accepts set-delimiter tags and comments', () => {
    expect(render('{{! a comment }}{{=<% %>=}}"<% event.v %>"', { v: '"' })).toBe('"\\""');
  });
});

describe('compileTemplate: no global Mustache state', () => {
  it('leaves Mustache.escape and the global template cache untouched', () => {
    const escapeBefore = Mustache.escape;
    Mustache.clearCache();
    const template = compileTemplate('{{event.v}} {{#event.list}}{{.}}{{/event.list}}', {
      contentType: 'application/json',
    });
    template.render(contextOf({ v: '"', list: [1] }));
    expect(Mustache.escape).toBe(escapeBefore);
    expect(Mustache.render('{{v}}', { v: '"' })).toBe('&quot;');
    expect(Object.keys((Mustache.templateCache as unknown as { _cache: object })._cache)).toEqual([
      '{{v}}:{{:}}',
    ]);
  });

  it('ignores a host application that changes Mustache.escape or Mustache.tags globally', () => {
    const template = compileTemplate('"{{event.v}}"', { contentType: 'application/json' });
    const escapeBefore = Mustache.escape;
    const tagsBefore = Mustache.tags;
    Mustache.escape = (value: string) => `!${value}!`;
    Mustache.tags = ['<%', '%>'];
    try {
      const late = compileTemplate('"{{event.v}}"', { contentType: 'application/json' });
      expect(template.render(contextOf({ v: 'a"b' }))).toBe('"a\\"b"');
      expect(late.render(contextOf({ v: 'a"b' }))).toBe('"a\\"b"');
    } finally {
      Mustache.escape = escapeBefore;
      Mustache.tags = tagsBefore;
    }
  });
});

describe('content types and escape helpers', () => {
  it('isJsonContentType recognises application/json and +json types only', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType(' Application/JSON ; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/problem+json')).toBe(true);
    expect(isJsonContentType('application/ld+json;profile="x"')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType('application/jsonp')).toBe(false);
    expect(isJsonContentType('application/x-ndjson')).toBe(false);
    expect(isJsonContentType('+json')).toBe(false);
  });

  it('templateEscapeFor picks json, html or none', () => {
    expect(templateEscapeFor('application/vnd.x+json')).toBe('json');
    expect(templateEscapeFor('text/html; charset=utf-8')).toBe('html');
    expect(templateEscapeFor('application/xml')).toBe('none');
  });

  it('escapeJsonString escapes exactly what JSON needs plus U+2028/U+2029 and lone surrogates', () => {
    expect(escapeJsonString('plain text / </script>')).toBe('plain text / </script>');
    expect(escapeJsonString('"\\\b\f\n\r\t\u0000\u001f')).toBe('\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f');
    expect(escapeJsonString('\u2028\u2029')).toBe('\\u2028\\u2029');
    expect(escapeJsonString('\ud800🚀\udfff')).toBe('\\ud800🚀\\udfff');
  });

  it('escapeHtml escapes & < > " and \'', () => {
    expect(escapeHtml(`a & <b> "c" 'd'`)).toBe('a &amp; &lt;b&gt; &quot;c&quot; &#39;d&#39;');
    expect(escapeHtml('/=`')).toBe('/=`');
  });
});

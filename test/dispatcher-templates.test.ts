import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/core/version.js';
import { TemplateError } from '../src/extend.js';
import {
  memoryStore,
  verifySignature,
  verifyStandardWebhook,
  type WebhookDispatcherOptions,
  type WebhookEvent,
  type WebhookInput,
  WebhookValidationError,
} from '../src/index.js';
import { ldEvent, unleashEvent } from './helpers/events.js';
import type { ReceivedRequest, Responder } from './helpers/receiver.js';
import { setup as setupWith } from './helpers/setup.js';

const setup = (options: WebhookDispatcherOptions = {}, respond?: Responder) => setupWith(respond, options);

/** Creates one webhook on a fresh dispatcher + receiver, emits `event`, returns what the receiver got. */
async function deliver(input: Omit<WebhookInput, 'url'>, event: WebhookEvent) {
  const { receiver, dispatcher } = await setup();
  const hook = await dispatcher.webhooks.create({ url: `${receiver.url}/hook`, ...input });
  const results = await dispatcher.emit(event);
  expect(results).toHaveLength(1);
  expect(results[0]).toMatchObject({ ok: true, webhookId: hook.id });
  expect(receiver.requests).toHaveLength(1);
  return receiver.requests[0]!;
}

/** Headers a webhook's events pass every filter with: every type, every resource. */
const ALL: Pick<WebhookInput, 'events'> = { events: ['*'] };

const HOSTILE: [string, string][] = [
  ['double quotes', 'say "hi"'],
  ['a JSON-breaking quote and brace', '", "injected": true, "x": "'],
  ['backslashes', 'C:\\path\\to\\file \\" \\\\'],
  ['newlines, CR and tab', 'line 1\nline 2\r\nline\t3'],
  ['a closing script tag', '</script><script>alert(1)</script>'],
  ['HTML specials', `<b>&amp; 'single' & "double"</b>`],
  ['an emoji (surrogate pair)', 'ship it 🚀 👩🏽‍💻'],
  ['U+2028 and U+2029', 'before\u2028middle\u2029after'],
  ['control characters', '\u0000\u0001\u001f\u007f'],
  ['a lone surrogate', 'broken \ud800 half'],
  ['mustache tags in the value', '{{event.type}} {{{eventJson}}}'],
  ['non-ASCII text', 'Größe ändern — 日本語'],
];

describe('templates: Unleash behaviours', () => {
  it('sends the event JSON, byte for byte JSON.stringify(event), when there is no template', async () => {
    const event = unleashEvent({ createdAt: new Date(Date.UTC(2024, 9, 3, 11, 9, 53, 225)) });
    const request = await deliver(ALL, event);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.body).toBe(JSON.stringify(event));
    expect(JSON.parse(request.body).createdAt).toBe('2024-10-03T11:09:53.225Z');
  });

  it('renders the Unleash documentation template unchanged into valid JSON', async () => {
    const bodyTemplate = `{
  "event": "{{event.type}}",
  "createdBy": "{{event.createdBy}}",
  "featureToggle": "{{event.data.name}}",
  "timestamp": "{{event.data.createdAt}}"
}`;
    const event = unleashEvent({
      createdBy: 'some"user.com',
      data: { name: 'test-flag', createdAt: '2024-10-03T11:09:53.201Z' },
    });
    const request = await deliver({ ...ALL, bodyTemplate }, event);
    expect(JSON.parse(request.body)).toEqual({
      event: 'feature-created',
      createdBy: 'some"user.com',
      featureToggle: 'test-flag',
      timestamp: '2024-10-03T11:09:53.201Z',
    });
  });

  it('sends a text/plain template with its Content-Type and without any escaping', async () => {
    const event = unleashEvent({ createdBy: 'O\'Brien "ob" <ob@x.io>' });
    const request = await deliver(
      {
        ...ALL,
        contentType: 'text/plain; charset=utf-8',
        bodyTemplate: '{{event.createdBy}} created {{event.featureName}} in {{event.project}}',
      },
      event,
    );
    expect(request.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(request.body).toBe('O\'Brien "ob" <ob@x.io> created test-flag in test-project');
  });

  it('HTML-escapes {{x}} for text/html', async () => {
    const request = await deliver(
      { ...ALL, contentType: 'text/html', bodyTemplate: '<p>{{event.createdBy}}</p>' },
      unleashEvent({ createdBy: '<script>"x" & \'y\'</script>' }),
    );
    expect(request.body).toBe('<p>&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;</p>');
  });

  it('renders {{eventMarkdown}} as a Markdown summary of an Unleash event: who, what, flag, project, environment, when', async () => {
    const event = unleashEvent({
      type: 'feature-environment-enabled',
      environment: 'production',
      createdBy: 'ann_b',
    });
    const request = await deliver({ ...ALL, bodyTemplate: '{"text": "{{eventMarkdown}}"}' }, event);
    expect(JSON.parse(request.body).text).toBe(
      '**ann\\_b** feature-environment-enabled feature flag **test-flag** in project **test-project** in environment **production** at 2024-10-03T11:09:53.225Z',
    );
  });

  it('renders {{eventMarkdown}} for a LaunchDarkly change-history entry', async () => {
    const event = ldEvent('production', { member: { email: 'dev@example.com' }, titleVerb: 'turned on' });
    const request = await deliver(
      { bodyTemplate: '{{{eventMarkdown}}}', contentType: 'text/markdown' },
      event,
    );
    expect(request.body).toBe(
      `**dev@example.com** turned on feature flag **test flag** at ${new Date(event.date as number).toISOString()}`,
    );
  });

  it('keeps delivering a stored webhook whose template names something unknown (saved before the check)', async () => {
    const { receiver, dispatcher } = await setup({
      store: memoryStore([
        {
          id: 'old',
          url: 'http://127.0.0.1:9/',
          on: true,
          signatureScheme: 'launchdarkly',
          events: ['*'],
          contentType: 'text/plain',
          bodyTemplate: 'a{{flag}}b',
          headers: {},
          tags: [],
          createdAt: '2026-01-01T00:00:00.000Z',
          updatedAt: '2026-01-01T00:00:00.000Z',
        },
      ]),
    });
    await dispatcher.webhooks.update('old', { url: receiver.url, name: 'still here' });
    expect(await dispatcher.emit(unleashEvent())).toMatchObject([{ ok: true, webhookId: 'old' }]);
    expect(receiver.requests[0]!.body).toBe('ab');
    await expect(dispatcher.webhooks.update('old', { bodyTemplate: '{{flag}}' })).rejects.toMatchObject({
      field: 'bodyTemplate',
    });
  });

  it('round-trips the whole event through "json": {{{eventJson}}}', async () => {
    const event = unleashEvent({
      createdBy: HOSTILE.map(([, value]) => value).join('|'),
      createdAt: new Date(Date.UTC(2024, 9, 3, 11, 9, 53, 225)),
    });
    const request = await deliver(
      { ...ALL, bodyTemplate: '{"text": "{{event.type}}", "json": {{{eventJson}}}}' },
      event,
    );
    const body = JSON.parse(request.body);
    expect(typeof body.json).toBe('string');
    expect(body.json).toBe(JSON.stringify(event));
    expect(JSON.parse(body.json)).toEqual(JSON.parse(JSON.stringify(event)));
    expect(JSON.parse(body.json).createdAt).toBe('2024-10-03T11:09:53.225Z');
  });

  it('sends Authorization and custom headers as given, after its own headers', async () => {
    const request = await deliver(
      { ...ALL, headers: { Authorization: 'Bearer s3cr3t', 'X-Api-Key': '  k-123  ', 'X-Empty': '' } },
      unleashEvent(),
    );
    expect(request.headers.authorization).toBe('Bearer s3cr3t');
    expect(request.headers['x-api-key']).toBe('k-123');
    expect(request.headers).not.toHaveProperty('x-empty'); // blank: omitted, as Unleash does
    expect(request.headers['user-agent']).toBe(`webhook-dispatcher/${VERSION}`);
    expect(request.headers['content-type']).toBe('application/json');
  });

  it('lets a webhook replace the User-Agent, whatever its case', async () => {
    const request = await deliver({ ...ALL, headers: { 'user-AGENT': 'acme-flags/2.0' } }, unleashEvent());
    expect(request.headers['user-agent']).toBe('acme-flags/2.0');
  });

  it.each([
    'X-LD-Signature',
    'x-ld-signature',
    'webhook-id',
    'Webhook-Signature',
    'webhook-timestamp',
    'webhook-anything',
    'Content-Length',
    'Host',
    'Content-Type',
    'Transfer-Encoding',
  ])('refuses a user header %s at save, naming it', async (name) => {
    const { dispatcher } = await setup();
    const create = dispatcher.webhooks.create({ url: 'http://127.0.0.1:9/x', headers: { [name]: 'forged' } });
    await expect(create).rejects.toBeInstanceOf(WebhookValidationError);
    await expect(create).rejects.toMatchObject({
      code: 'ERR_INVALID_WEBHOOK',
      field: `headers[${JSON.stringify(name)}]`,
      message: expect.stringContaining(`\`headers[${JSON.stringify(name)}]\``),
    });
    expect(await dispatcher.webhooks.list()).toEqual([]);
  });

  it('omits a header whose value is blank instead of sending it empty, in emit and preview', async () => {
    const { receiver, dispatcher } = await setup();
    const headers = { Authorization: '', 'X-Blank': ' \t', 'X-A': '1' };
    const hook = await dispatcher.webhooks.create({ url: receiver.url, ...ALL, headers });
    expect((await dispatcher.webhooks.get(hook.id))?.headers).toEqual({
      Authorization: '',
      'X-Blank': '',
      'X-A': '1',
    });
    await dispatcher.emit(unleashEvent());
    const sent = receiver.requests[0]!.headers;
    expect(sent['x-a']).toBe('1');
    expect(sent).not.toHaveProperty('authorization');
    expect(sent).not.toHaveProperty('x-blank');
    const preview = await dispatcher.preview(hook.id, unleashEvent());
    expect(Object.keys(preview.headers).map((name) => name.toLowerCase())).not.toContain('authorization');
  });

  it('refuses a reserved user header on update and keeps the stored webhook', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      secret: 'shh',
      headers: { 'X-A': '1' },
    });
    await expect(
      dispatcher.webhooks.update(hook.id, { headers: { 'X-LD-Signature': 'forged' } }),
    ).rejects.toMatchObject({ field: 'headers["X-LD-Signature"]' });
    expect((await dispatcher.webhooks.get(hook.id))?.headers).toEqual({ 'X-A': '1' });

    await dispatcher.emit(ldEvent());
    const request = receiver.requests[0]!;
    expect(verifySignature(request.body, request.headers['x-ld-signature'] as string, 'shh')).toBe(true);
    expect(request.headers['x-a']).toBe('1');
  });
});

describe('templates: JSON safety end to end', () => {
  const bodyTemplate =
    '{"title": "{{event.title}}", "who": "{{event.member.email}}", "raw": {{{event.member}}}, "asText": "{{event.member}}"}';

  it.each(HOSTILE)('delivers valid JSON holding exactly the value: %s', async (_name, value) => {
    const member = { email: value, nested: [value, { deeper: value }] };
    const request = await deliver(
      { bodyTemplate, secret: 'shh' },
      ldEvent('production', { title: value, member }),
    );
    const body = JSON.parse(request.body);
    expect(body.title).toBe(value);
    expect(body.who).toBe(value);
    expect(body.raw).toEqual(member);
    expect(JSON.parse(body.asText)).toEqual(member);
    expect(request.body).not.toContain('&quot;');
    expect(verifySignature(request.body, request.headers['x-ld-signature'] as string, 'shh')).toBe(true);
  });

  it('keeps every hostile value at once, in sections too, for a +json content type with parameters', async () => {
    const values = HOSTILE.map(([, value]) => value);
    const request = await deliver(
      {
        ...ALL,
        contentType: 'application/vnd.acme+json; charset=utf-8',
        bodyTemplate: '{"values": [{{#event.values}}"{{.}}",{{/event.values}}"end"], "n": {{event.count}}}',
      },
      unleashEvent({ values, count: 42 }),
    );
    expect(JSON.parse(request.body)).toEqual({ values: [...values, 'end'], n: 42 });
    // {{x}} escapes U+2028/U+2029 too, which JSON allows raw but older JavaScript parsers do not.
    expect(request.body).not.toMatch(/[\u2028\u2029]/);
  });

  it('renders Dates as ISO-8601 in {{x}}, {{{x}}}, sections and the eventJson, whatever the time zone', async () => {
    const createdAt = new Date(Date.UTC(2024, 9, 3, 11, 9, 53, 225));
    const request = await deliver(
      {
        ...ALL,
        bodyTemplate:
          '{"a": "{{event.createdAt}}", "b": "{{{event.createdAt}}}", "c": "{{#event.data}}{{at}}{{/event.data}}", "json": {{{eventJson}}}}',
      },
      unleashEvent({ createdAt, data: { at: createdAt } }),
    );
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      a: '2024-10-03T11:09:53.225Z',
      b: '2024-10-03T11:09:53.225Z',
      c: '2024-10-03T11:09:53.225Z',
    });
    expect(JSON.parse(body.json).createdAt).toBe('2024-10-03T11:09:53.225Z');
  });

  it('renders missing values and null as nothing and numbers unquoted where the template says so', async () => {
    const request = await deliver(
      {
        ...ALL,
        bodyTemplate: '{"id": {{event.id}}, "env": "{{event.environment}}", "x": "{{event.nope.deeper}}"}',
      },
      unleashEvent(),
    );
    expect(JSON.parse(request.body)).toEqual({ id: 27332, env: '', x: '' });
  });

  it('exposes the webhook id, name, url and tags to the template', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/w`,
      ...ALL,
      name: 'Team "A"',
      tags: ['a', 'b'],
      bodyTemplate:
        '{"id": "{{webhook.id}}", "name": "{{webhook.name}}", "url": "{{webhook.url}}", "tags": {{{webhook.tags}}}}',
    });
    await dispatcher.emit(unleashEvent());
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual({
      id: hook.id,
      name: 'Team "A"',
      url: `${receiver.url}/w`,
      tags: ['a', 'b'],
    });
  });

  it('honours templateEscape over the content type', async () => {
    const request = await deliver(
      { ...ALL, contentType: 'text/plain', templateEscape: 'json', bodyTemplate: '"{{event.createdBy}}"' },
      unleashEvent({ createdBy: 'a"b\nc' }),
    );
    expect(JSON.parse(request.body)).toBe('a"b\nc');
  });
});

describe('templates: every save-time validation error', () => {
  const URL = 'http://127.0.0.1:9/hook';

  it.each([
    ['an unclosed tag', '{\n  "flag": "{{event.name"\n}', 2, 12, 'this tag is never closed'],
    ['an unclosed triple mustache', '{"json": {{{eventJson}}', 1, 10, 'never closed'],
    [
      'a section never closed',
      '{"tags": [{{#event.tags}}"{{.}}"]}',
      1,
      11,
      'section {{#event.tags}} is never closed',
    ],
    ['a closing tag without a section', '{"a": 1}\n{{/event.tags}}', 2, 1, 'never opened'],
    ['mismatched sections', '{{#a}}{{#b}}{{/a}}{{/b}}', 1, 13, 'must be closed with {{/b}}'],
    ['a partial', '{"a": {{> payload}}}', 1, 7, 'partials'],
    [
      'a name the render context does not have',
      '{"a": "{{evnt.name}}"}',
      1,
      8,
      '{{evnt.name}} is not in the render context',
    ],
    [
      'a webhook field templates cannot read',
      '{\n"s": "{{webhook.secret}}"}',
      2,
      7,
      'not in the render context',
    ],
  ])(
    'refuses %s at create with field bodyTemplate, line and column',
    async (_name, bodyTemplate, line, column, detail) => {
      const { dispatcher } = await setup();
      const error = await dispatcher.webhooks.create({ url: URL, bodyTemplate }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TemplateError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_TEMPLATE', field: 'bodyTemplate', line, column });
      const message = (error as Error).message;
      expect(message).toContain('`bodyTemplate`');
      expect(message).toContain(`line ${line}, column ${column}`);
      expect(message).toContain(detail);
      expect(await dispatcher.webhooks.list()).toEqual([]);
    },
  );

  it('refuses a bad template on update and keeps delivering with the stored one', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      ...ALL,
      bodyTemplate: '{"t": "{{event.type}}"}',
    });
    await expect(
      dispatcher.webhooks.update(hook.id, { bodyTemplate: '{"t": "{{event.type"}' }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_TEMPLATE',
      field: 'bodyTemplate',
      line: 1,
      column: 8,
    });
    expect((await dispatcher.webhooks.get(hook.id))?.bodyTemplate).toBe('{"t": "{{event.type}}"}');
    await dispatcher.emit(unleashEvent());
    expect(receiver.requests[0]!.body).toBe('{"t": "feature-created"}');
  });

  it('refuses a template that is not a string', async () => {
    const { dispatcher } = await setup();
    await expect(dispatcher.webhooks.create({ url: URL, bodyTemplate: 42 as never })).rejects.toMatchObject({
      field: 'bodyTemplate',
    });
  });

  it.each([
    ['no subtype', 'json'],
    ['a space in the type', 'application /json'],
    ['CR/LF (header injection)', 'application/json\r\nX-Injected: 1'],
    ['a bare LF', 'text/plain\nX: y'],
    ['a broken parameter', 'text/plain; charset'],
    ['a number', 42],
    ['an empty string', ''],
  ])('refuses a contentType with %s at create and update', async (_name, contentType) => {
    const { dispatcher } = await setup();
    const expected = {
      code: 'ERR_INVALID_WEBHOOK',
      field: 'contentType',
      message: expect.stringContaining('`contentType`'),
    };
    await expect(
      dispatcher.webhooks.create({ url: URL, contentType: contentType as string }),
    ).rejects.toMatchObject(expected);
    const hook = await dispatcher.webhooks.create({ url: URL });
    await expect(
      dispatcher.webhooks.update(hook.id, { contentType: contentType as string }),
    ).rejects.toMatchObject(expected);
    expect((await dispatcher.webhooks.get(hook.id))?.contentType).toBe('application/json');
  });

  it.each([
    ['a space in the name', { 'X Bad': 'v' }, 'headers["X Bad"]', 'valid header name'],
    ['a colon in the name', { 'X-Bad:': 'v' }, 'headers["X-Bad:"]', 'valid header name'],
    ['an empty name', { '': 'v' }, 'headers[""]', 'valid header name'],
    ['CR/LF in the value', { 'X-Note': 'ok\r\nX-Injected: 1' }, 'headers["X-Note"]', 'without CR, LF or NUL'],
    [
      'a bare LF in the value',
      { Authorization: 'Bearer a\nb' },
      'headers["Authorization"]',
      'without CR, LF or NUL',
    ],
    [
      'a NUL in the value',
      { 'X-Note': 'a\u0000b' },
      'headers["X-Note"]',
      'no NUL (U+0000) or lone surrogate',
    ],
    ['a control character in the value', { 'X-Note': 'a\u0007b' }, 'headers["X-Note"]', 'control characters'],
    ['text beyond Latin-1', { 'X-Note': 'héllo 🚀' }, 'headers["X-Note"]', 'Latin-1'],
    ['a value that is not a string', { 'X-Count': 3 }, 'headers["X-Count"]', 'a string'],
    ['the same name twice', { 'X-A': '1', 'x-a': '2' }, 'headers["x-a"]', 'set once'],
    ['an array', ['Authorization: x'], 'headers', 'object of header names'],
  ])('refuses headers with %s, naming the header', async (_name, headers, field, detail) => {
    const { dispatcher } = await setup();
    const error = await dispatcher.webhooks
      .create({ url: URL, headers: headers as unknown as Record<string, string> })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookValidationError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field });
    expect((error as Error).message).toContain(`\`${field}\``);
    expect((error as Error).message).toContain(detail);

    const hook = await dispatcher.webhooks.create({ url: URL });
    await expect(
      dispatcher.webhooks.update(hook.id, { headers: headers as unknown as Record<string, string> }),
    ).rejects.toMatchObject({ field });
  });

  it('refuses an unknown templateEscape at create and update', async () => {
    const { dispatcher } = await setup();
    const expected = {
      code: 'ERR_INVALID_WEBHOOK',
      field: 'templateEscape',
      message: expect.stringContaining('xml'),
    };
    await expect(
      dispatcher.webhooks.create({ url: URL, bodyTemplate: 'x', templateEscape: 'xml' as never }),
    ).rejects.toMatchObject(expected);
    const hook = await dispatcher.webhooks.create({ url: URL, bodyTemplate: 'x' });
    await expect(
      dispatcher.webhooks.update(hook.id, { templateEscape: 'xml' as never }),
    ).rejects.toMatchObject(expected);
  });

  it('clears templateEscape with null, going back to escaping by content type', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      ...ALL,
      templateEscape: 'none',
      bodyTemplate: '"{{event.createdBy}}"',
    });
    await dispatcher.webhooks.update(hook.id, { templateEscape: null });
    await dispatcher.emit(unleashEvent({ createdBy: 'a"b' }));
    expect(JSON.parse(receiver.requests[0]!.body)).toBe('a"b');
  });
});

describe('templates: body size limit', () => {
  it('does not send a rendered body over maxBodyBytes and fails with BODY_TOO_LARGE', async () => {
    const { receiver, dispatcher } = await setup({ maxBodyBytes: 1000 });
    await dispatcher.webhooks.create({ url: receiver.url, ...ALL, bodyTemplate: '{"t": "{{event.text}}"}' });

    const [result] = await dispatcher.emit(unleashEvent({ text: 'x'.repeat(1000) }));

    expect(result).toMatchObject({ ok: false, outcome: 'failed', attempts: 0 });
    expect(result?.error?.code).toBe('BODY_TOO_LARGE');
    expect(result?.error?.message).toContain('1000-byte limit');
    expect(receiver.requests).toHaveLength(0);
  });

  it('counts bytes, not characters, and sends a body of exactly the limit', async () => {
    const { receiver, dispatcher } = await setup({ maxBodyBytes: 8 });
    await dispatcher.webhooks.create({
      url: receiver.url,
      ...ALL,
      contentType: 'text/plain',
      bodyTemplate: '{{{event.text}}}',
    });

    const [over] = await dispatcher.emit(unleashEvent({ id: 1, text: '🚀🚀🚀' })); // 3 characters, 12 bytes
    const [exact] = await dispatcher.emit(unleashEvent({ id: 2, text: '🚀🚀' })); // 8 bytes

    expect(over?.error?.code).toBe('BODY_TOO_LARGE');
    expect(exact).toMatchObject({ ok: true, status: 200 });
    expect(receiver.requests.map((r) => r.body)).toEqual(['🚀🚀']);
  });

  it('applies to bodies without a template too', async () => {
    const { receiver, dispatcher } = await setup({ maxBodyBytes: 100 });
    await dispatcher.webhooks.create({ url: receiver.url, ...ALL });
    const [result] = await dispatcher.emit(unleashEvent());
    expect(result?.error?.code).toBe('BODY_TOO_LARGE');
    expect(receiver.requests).toHaveLength(0);
  });
});

/** The headers a transport adds on the wire; everything else the receiver sees comes from the request we built. */
const WIRE_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive']);

function expectSameRequest(
  preview: { url: string; method: string; headers: Record<string, string>; body: string },
  received: ReceivedRequest,
  baseUrl: string,
) {
  expect(preview.method).toBe(received.method);
  expect(preview.url).toBe(`${baseUrl}${received.url}`);
  expect(Buffer.from(received.body, 'utf8').equals(Buffer.from(preview.body, 'utf8'))).toBe(true);
  expect(received.headers['content-length']).toBe(String(Buffer.byteLength(preview.body)));
  const sent = Object.fromEntries(
    Object.entries(preview.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const arrived = Object.fromEntries(
    Object.entries(received.headers).filter(([name]) => !WIRE_HEADERS.has(name)),
  );
  expect(arrived).toEqual(sent);
}

describe('preview', () => {
  const NOW = Date.UTC(2024, 9, 3, 11, 9, 53, 225);

  it('returns the exact request, headers and signatures included, that emit then delivers byte for byte', async () => {
    const { receiver, dispatcher } = await setup({ now: () => NOW });
    const hook = await dispatcher.webhooks.create({
      url: `${receiver.url}/hooks/flags?team=a`,
      ...ALL,
      signatureScheme: 'both',
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      contentType: 'application/json; charset=utf-8',
      headers: { Authorization: 'Bearer s3cr3t', 'X-Team': 'a' },
      bodyTemplate:
        '{"text": "{{event.createdBy}} {{event.type}} {{event.featureName}}", "json": {{{eventJson}}}}',
    });
    const event = unleashEvent({ createdBy: 'O"Brien\n🚀\u2028', createdAt: new Date(NOW) });

    const preview = await dispatcher.preview(hook.id, event);
    expect(receiver.requests).toHaveLength(0);
    const [result] = await dispatcher.emit(event);

    expect(result?.ok).toBe(true);
    expect(preview.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'user-agent': `webhook-dispatcher/${VERSION}`,
      Authorization: 'Bearer s3cr3t',
      'X-Team': 'a',
      'webhook-id': result!.deliveryId,
      'webhook-timestamp': String(Math.floor(NOW / 1000)),
      'x-ld-signature': expect.stringMatching(/^[0-9a-f]{64}$/),
      'webhook-signature': expect.stringMatching(/^v1,/),
    });
    expectSameRequest(preview, receiver.requests[0]!, receiver.url);
    expect(
      verifySignature(
        preview.body,
        preview.headers['x-ld-signature']!,
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      ),
    ).toBe(true);
    expect(
      verifyStandardWebhook({
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        headers: preview.headers,
        body: preview.body,
        now: NOW,
      }),
    ).toBe(true);
  });

  it('matches the delivered request for a webhook without template or secret', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    const event = ldEvent();
    const preview = await dispatcher.preview(hook.id, event);
    await dispatcher.emit(event);
    expect(preview.body).toBe(JSON.stringify(event));
    expect(preview.headers['x-ld-signature']).toBeUndefined();
    expectSameRequest(preview, receiver.requests[0]!, receiver.url);
  });

  it('gives a deterministic webhook-id per event and webhook', async () => {
    const { receiver, dispatcher } = await setup();
    const a = await dispatcher.webhooks.create({ url: `${receiver.url}/a` });
    const b = await dispatcher.webhooks.create({ url: `${receiver.url}/b` });
    const event = ldEvent();
    const first = await dispatcher.preview(a.id, event);
    expect((await dispatcher.preview(a.id, { ...event })).headers['webhook-id']).toBe(
      first.headers['webhook-id'],
    );
    expect((await dispatcher.preview(b.id, event)).headers['webhook-id']).not.toBe(
      first.headers['webhook-id'],
    );
    expect((await dispatcher.preview(a.id, ldEvent())).headers['webhook-id']).not.toBe(
      first.headers['webhook-id'],
    );
  });

  it('previews an event the webhook would not receive, and a webhook that is switched off, without sending', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      on: false,
      bodyTemplate: '{"env": "{{event.title}}"}',
    });
    const event = ldEvent('test'); // the default policy only passes production

    const preview = await dispatcher.preview(hook.id, event);

    expect(JSON.parse(preview.body)).toEqual({ env: event.title });
    expect(await dispatcher.emit(event)).toEqual([]);
    expect(receiver.requests).toHaveLength(0);
  });

  it('shows a body over maxBodyBytes, which emit then refuses to send', async () => {
    const { receiver, dispatcher } = await setup({ maxBodyBytes: 100 });
    const hook = await dispatcher.webhooks.create({ url: receiver.url, ...ALL });
    const preview = await dispatcher.preview(hook.id, unleashEvent());
    expect(Buffer.byteLength(preview.body)).toBeGreaterThan(100);
    const [result] = await dispatcher.emit(unleashEvent());
    expect(result?.error?.code).toBe('BODY_TOO_LARGE');
  });

  it('rejects an unknown webhook id with ERR_WEBHOOK_NOT_FOUND', async () => {
    const { dispatcher } = await setup();
    await expect(dispatcher.preview('nope', ldEvent())).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_NOT_FOUND',
      webhookId: 'nope',
    });
  });

  it('rejects an event that is not an object with ERR_INVALID_EVENT', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    await expect(dispatcher.preview(hook.id, 'event' as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_EVENT',
    });
  });
});

describe('test(id)', () => {
  const cases: [string, Omit<WebhookInput, 'url'>][] = [
    ['a default webhook', {}],
    [
      'a webhook with statements',
      {
        statements: [
          { effect: 'allow', actions: ['update*'], resources: ['proj/mobile-*:env/staging:flag/*'] },
        ],
      },
    ],
    ['a webhook with events', { events: ['change-request-*'] }],
    [
      'a webhook with events and statements',
      {
        events: ['change-request-*'],
        statements: [
          { effect: 'allow', actions: ['update*'], resources: ['proj/mobile-*:env/staging:flag/*'] },
        ],
      },
    ],
    [
      'a webhook that allows everything but production',
      { statements: [{ effect: 'allow', actions: ['*'], notResources: ['proj/*:env/production:flag/*'] }] },
    ],
  ];

  it.each(cases)('sends %s a sample event that its own filters accept', async (_name, input) => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({ url: receiver.url, secret: 'shh', ...input });

    const result = await dispatcher.test(hook.id);

    expect(result).toMatchObject({
      ok: true,
      outcome: 'delivered',
      webhookId: hook.id,
      status: 200,
      attempts: 1,
    });
    const request = receiver.requests[0]!;
    expect(request.headers['webhook-id']).toBe(result.deliveryId);
    expect(verifySignature(request.body, request.headers['x-ld-signature'] as string, 'shh')).toBe(true);
    const sample = JSON.parse(request.body) as WebhookEvent;
    expect(sample.test).toBe(true);
    expect(result.eventId).toBe(String(sample.id ?? sample._id));

    // The sample as the receiver got it goes through emit's real matching (type filter, index, policy).
    const results = await dispatcher.emit(sample);
    expect(results.map((r) => r.webhookId)).toEqual([hook.id]);
    expect(receiver.requests[1]!.body).toBe(request.body);
  });

  it('sends a realistic Unleash event through the webhook template, createdAt as ISO-8601', async () => {
    const NOW = Date.UTC(2024, 9, 3, 11, 9, 53, 225);
    const { receiver, dispatcher } = await setup({ now: () => NOW });
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      events: ['feature-*'],
      bodyTemplate:
        '{"text": "{{event.createdBy}} {{event.type}} {{event.featureName}} at {{event.createdAt}}"}',
    });
    await dispatcher.test(hook.id);
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual({
      text: 'webhook-dispatcher test feature-created sample-flag at 2024-10-03T11:09:53.225Z',
    });
  });

  it('sends to a webhook that is switched off, which emit skips', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({ url: receiver.url, on: false });

    const result = await dispatcher.test(hook.id);

    expect(result).toMatchObject({ ok: true, webhookId: hook.id });
    expect(receiver.requests).toHaveLength(1);
    expect(await dispatcher.emit(JSON.parse(receiver.requests[0]!.body))).toEqual([]);
    expect(receiver.requests).toHaveLength(1);
  });

  it('returns a failed result, without throwing, when the receiver fails', async () => {
    const { receiver, dispatcher } = await setup({}, () => 500);
    const hook = await dispatcher.webhooks.create({ url: receiver.url });
    const result = await dispatcher.test(hook.id);
    expect(result).toMatchObject({ ok: false, outcome: 'failed', status: 500, attempts: 2 });
    expect(result.error?.code).toBe('HTTP_STATUS');
  });

  it('rejects an unknown webhook id with ERR_WEBHOOK_NOT_FOUND', async () => {
    const { dispatcher } = await setup();
    await expect(dispatcher.test('nope')).rejects.toMatchObject({ code: 'ERR_WEBHOOK_NOT_FOUND' });
  });
});

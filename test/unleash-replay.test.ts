import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createWebhookDispatcher,
  type DeliveryResult,
  type WebhookDispatcher,
  type WebhookEvent,
  type WebhookInput,
} from '../src/index.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';

// Unleash's own webhook test cases (src/lib/addons/webhook.test.ts and its snapshot in Unleash/unleash), replayed
// as facts: the same event and webhook parameters, the body and headers Unleash's tests expect. Each case is
// previewed, then sent for real to a loopback receiver, which must get exactly what the preview showed.
// Unleash's `authorization` parameter is our `headers.Authorization`, its `customHeaders` our other `headers`.

const UNLEASH_SYSTEM_USER_ID = -1337;

/** The event every case of Unleash's suite sends (`FEATURE_CREATED` by the system user). */
function featureCreated(extra: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    id: 1,
    createdAt: new Date(),
    createdByUserId: UNLEASH_SYSTEM_USER_ID,
    type: 'feature-created',
    createdBy: 'some@user.com',
    featureName: 'some-toggle',
    data: { name: 'some-toggle', enabled: false, strategies: [{ name: 'default' }] },
    ...extra,
  };
}

const PLAIN_TEMPLATE = '{{event.type}} on toggle {{event.data.name}}';

let receiver: Receiver;
let dispatcher: WebhookDispatcher;
let results: DeliveryResult[];

beforeEach(async () => {
  receiver = await startReceiver();
  results = [];
  dispatcher = createWebhookDispatcher({
    allowPrivateNetworks: true, // the receiver listens on 127.0.0.1
    onDelivery: (result) => results.push(result),
  });
});

afterEach(async () => {
  await dispatcher.close();
  await receiver.close();
});

/** Previews the event for the webhook, sends it for real, and returns both. */
async function replay(input: Omit<WebhookInput, 'url'> & { path?: string }, event: WebhookEvent) {
  const { path = '/', ...rest } = input;
  const webhook = { url: `${receiver.url}${path}`, events: ['feature-created'], ...rest };
  const preview = await dispatcher.preview(webhook, event);
  const hook = await dispatcher.webhooks.create(webhook);
  const [result] = await dispatcher.emit(event);
  expect(result).toMatchObject({ webhookId: hook.id, ok: true, status: 200 });
  const [received] = receiver.requests;
  expect(received?.method).toBe('POST');
  expect(received?.body).toBe(preview.body);
  return { preview, received: received! };
}

/** A preview's header by name, whatever its case. */
function header(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

describe('Unleash webhook test cases, replayed through preview and a real send', () => {
  it('handles an event without bodyTemplate: the event as JSON, Content-Type application/json', async () => {
    const event = featureCreated();
    const { preview, received } = await replay({}, event);
    expect(preview.body).toBe(JSON.stringify(event));
    expect(header(preview.headers, 'content-type')).toBe('application/json');
    expect(received.headers['content-type']).toBe('application/json');
  });

  it('formats the event with a bodyTemplate as text/plain', async () => {
    const { preview, received } = await replay(
      { path: '/plain', bodyTemplate: PLAIN_TEMPLATE, contentType: 'text/plain' },
      featureCreated(),
    );
    expect(preview.url).toBe(`${receiver.url}/plain`);
    expect(preview.body).toBe('feature-created on toggle some-toggle');
    expect(header(preview.headers, 'content-type')).toBe('text/plain');
    expect(received.url).toBe('/plain');
    expect(received.headers['content-type']).toBe('text/plain');
  });

  it('renders eventJson as Unleash\u2019s snapshot has it, and eventMarkdown with the snapshot\u2019s facts', async () => {
    // Keys in the order of Unleash's test event (the snapshot's JSON keeps it).
    const { data, ...head } = featureCreated({ createdAt: new Date('2024-07-24T00:00:00.000Z') });
    const event = { ...head, project: 'default', data };
    const { preview } = await replay(
      {
        path: '/plain',
        bodyTemplate: '{\n  "json": {{{eventJson}}},\n  "markdown": "{{eventMarkdown}}"\n}',
        contentType: 'text/plain',
      },
      event,
    );
    const body = JSON.parse(preview.body) as { json: string; markdown: string };
    // The snapshot's `json`, character for character (the Date as ISO-8601, keys in the event's order).
    expect(body.json).toBe(
      '{"id":1,"createdAt":"2024-07-24T00:00:00.000Z","createdByUserId":-1337,"type":"feature-created",' +
        '"createdBy":"some@user.com","featureName":"some-toggle","project":"default",' +
        '"data":{"name":"some-toggle","enabled":false,"strategies":[{"name":"default"}]}}',
    );
    expect(JSON.parse(body.json)).toEqual(JSON.parse(JSON.stringify(event)));
    // The snapshot's markdown: "*some@user.com* created *[some-toggle](…)* in project *[default](…)*". Our wording
    // differs (no Unleash URL to link to); its facts must all be there: who, what, which flag, which project.
    expect(body.markdown).not.toBe('');
    expect(body.markdown).toContain('some@user.com');
    expect(body.markdown).toMatch(/created/);
    expect(body.markdown).toMatch(/\bsome-toggle\b/);
    expect(body.markdown).toMatch(/project \*\*default\*\*/);
  });

  it('sends the authorization parameter as the Authorization header', async () => {
    const { preview, received } = await replay(
      {
        path: '/plain',
        bodyTemplate: PLAIN_TEMPLATE,
        contentType: 'text/plain',
        headers: { Authorization: 'API KEY 123abc' },
      },
      featureCreated(),
    );
    expect(preview.body).toBe('feature-created on toggle some-toggle');
    expect(header(preview.headers, 'authorization')).toBe('API KEY 123abc');
    expect(received.headers.authorization).toBe('API KEY 123abc');
  });

  it('sends custom headers beside the Authorization header', async () => {
    const { preview, received } = await replay(
      {
        path: '/plain',
        bodyTemplate: PLAIN_TEMPLATE,
        contentType: 'text/plain',
        headers: { Authorization: 'API KEY 123abc', MY_CUSTOM_HEADER: 'MY_CUSTOM_VALUE' },
      },
      featureCreated(),
    );
    expect(header(preview.headers, 'MY_CUSTOM_HEADER')).toBe('MY_CUSTOM_VALUE');
    expect(header(preview.headers, 'authorization')).toBe('API KEY 123abc');
    expect(received.headers.my_custom_header).toBe('MY_CUSTOM_VALUE');
    expect(received.headers.authorization).toBe('API KEY 123abc');
  });

  it('reports the outcome once with the url, content type and body (Unleash\u2019s registerEvent)', async () => {
    const event = featureCreated();
    const { preview } = await replay(
      {
        path: '/plain',
        bodyTemplate: PLAIN_TEMPLATE,
        contentType: 'text/plain',
        headers: { Authorization: 'API KEY 123abc', MY_CUSTOM_HEADER: 'MY_CUSTOM_VALUE' },
      },
      event,
    );
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: true, status: 200, eventId: String(event.id) });
    expect(preview).toMatchObject({
      url: `${receiver.url}/plain`,
      body: 'feature-created on toggle some-toggle',
    });
    expect(header(preview.headers, 'content-type')).toBe('text/plain');
  });

  it('omits a blank authorization, as Unleash does, instead of sending an empty Authorization header', async () => {
    for (const blank of ['', '   ']) {
      const preview = await dispatcher.preview(
        { url: `${receiver.url}/plain`, events: ['*'], headers: { Authorization: blank } },
        featureCreated(),
      );
      expect(header(preview.headers, 'authorization')).toBeUndefined();
    }
    const { received } = await replay({ headers: { Authorization: '' } }, featureCreated());
    expect(received.headers).not.toHaveProperty('authorization');
  });
});

import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/core/version.js';
import { type DeliveryResult, verifySignature, type WebhookDispatcher, WebhookError } from '../src/index.js';
import { ldEvent, unleashEvent } from './helpers/events.js';
import { startReceiver } from './helpers/receiver.js';
import { open, setup } from './helpers/setup.js';

describe('delivery', () => {
  it('delivers a production LaunchDarkly event to a default webhook with a valid X-LD-Signature', async () => {
    const { receiver, dispatcher } = await setup();
    const hook = await dispatcher.webhooks.create({ url: `${receiver.url}/hooks`, secret: 'shh' });
    const event = ldEvent('production');

    const [result] = await dispatcher.emit(event);

    expect(result).toMatchObject({
      webhookId: hook.id,
      eventId: event._id,
      ok: true,
      attempts: 1,
      status: 200,
    });
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe(`webhook-dispatcher/${VERSION}`);
    expect(request.headers['webhook-id']).toBe(result!.deliveryId);
    expect(JSON.parse(request.body)).toEqual(event);
    expect(verifySignature(request.body, request.headers['x-ld-signature'] as string, 'shh')).toBe(true);
  });

  it('does not deliver an event for another environment to a default webhook', async () => {
    const { receiver, dispatcher } = await setup();
    await dispatcher.webhooks.create({ url: receiver.url, secret: 'shh' });

    expect(await dispatcher.emit(ldEvent('test'))).toEqual([]);
    expect(receiver.requests).toHaveLength(0);
  });

  it('sends no signature header when the webhook has no secret', async () => {
    const { receiver, dispatcher } = await setup();
    await dispatcher.webhooks.create({ url: receiver.url });
    await dispatcher.emit(ldEvent());
    expect(receiver.requests[0]!.headers['x-ld-signature']).toBeUndefined();
  });

  it('retries once after a 500 and reports ok after 2 attempts with the same webhook-id', async () => {
    const { receiver, dispatcher } = await setup((_req, n) => (n === 0 ? 500 : 200));
    await dispatcher.webhooks.create({ url: receiver.url, secret: 'shh' });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, outcome: 'delivered', attempts: 2, status: 200 });
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[0]!.headers['webhook-id']).toBe(receiver.requests[1]!.headers['webhook-id']);
    expect(receiver.requests[0]!.body).toBe(receiver.requests[1]!.body);
  });

  it('gives up after exactly two attempts when the receiver always answers 503', async () => {
    const { receiver, dispatcher } = await setup(() => 503);
    await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(receiver.requests).toHaveLength(2);
    expect(result).toMatchObject({ ok: false, outcome: 'failed', attempts: 2, status: 503 });
    expect(result!.error?.code).toBe('HTTP_STATUS');
  });

  it('reports a refused connection as a failure with an error code, without throwing', async () => {
    const { receiver, dispatcher } = await setup();
    const url = receiver.url;
    await receiver.close();
    await dispatcher.webhooks.create({ url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, outcome: 'failed', attempts: 2 });
    expect(result!.error?.code).toBe('ECONNREFUSED');
    expect(result!.status).toBeUndefined();
  });

  it('does not follow redirects', async () => {
    const target = await startReceiver();
    open.push(target);
    const { receiver, dispatcher } = await setup((_req, _n, res) => {
      res.writeHead(302, { location: `${target.url}/elsewhere` }).end();
      return 'handled';
    });
    await dispatcher.webhooks.create({ url: receiver.url });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, status: 302, attempts: 2 });
    expect(result!.error?.code).toBe('REDIRECT');
    expect(target.requests).toHaveLength(0);
  });

  it('times out a receiver that never answers, and retries it once', async () => {
    const { receiver, dispatcher } = await setup(() => 'handled', { timeoutMs: 200 });
    await dispatcher.webhooks.create({ url: receiver.url });

    const started = Date.now();
    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result!.error?.code).toBe('TIMEOUT');
    expect(receiver.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('honours retry: 0 (a single attempt)', async () => {
    const { receiver, dispatcher } = await setup(() => 500, { retry: 0 });
    await dispatcher.webhooks.create({ url: receiver.url });
    const [result] = await dispatcher.emit(ldEvent());
    expect(result!.attempts).toBe(1);
    expect(receiver.requests).toHaveLength(1);
  });

  it('delivers one event to every matching webhook and reports each through onDelivery', async () => {
    const seen: DeliveryResult[] = [];
    const { receiver, dispatcher } = await setup((req) => (req.url === '/bad' ? 500 : 204), {
      onDelivery: (result) => seen.push(result),
    });
    const good = await dispatcher.webhooks.create({ url: `${receiver.url}/good` });
    const bad = await dispatcher.webhooks.create({ url: `${receiver.url}/bad` });
    await dispatcher.webhooks.create({ url: `${receiver.url}/off`, on: false });

    const results = await dispatcher.emit(ldEvent());

    expect(results.map((r) => [r.webhookId, r.ok])).toEqual([
      [good.id, true],
      [bad.id, false],
    ]);
    expect(seen).toHaveLength(2);
    expect(new Set(seen.map((r) => r.webhookId))).toEqual(new Set([good.id, bad.id]));
    expect(receiver.requests.filter((r) => r.url === '/off')).toHaveLength(0);
  });

  it('delivers Unleash events to webhooks that filter by event type', async () => {
    const { receiver, dispatcher } = await setup();
    const created = await dispatcher.webhooks.create({
      url: `${receiver.url}/created`,
      events: ['feature-created'],
    });
    await dispatcher.webhooks.create({ url: `${receiver.url}/archived`, events: ['feature-archived'] });

    const results = await dispatcher.emit(unleashEvent());

    expect(results.map((r) => r.webhookId)).toEqual([created.id]);
    expect(results[0]!.eventId).toBe('27332');
    expect(receiver.requests.map((r) => r.url)).toEqual(['/created']);
  });

  it('keeps the webhook-id of one (event, webhook) pair across emits so receivers can de-duplicate', async () => {
    const { receiver, dispatcher } = await setup();
    await dispatcher.webhooks.create({ url: receiver.url });
    const event = ldEvent();
    const [first] = await dispatcher.emit(event);
    const [second] = await dispatcher.emit(event);
    const [other] = await dispatcher.emit(ldEvent());
    expect(first!.deliveryId).toBe(second!.deliveryId);
    expect(other!.deliveryId).not.toBe(first!.deliveryId);
    expect(first!.deliveryId).toBe(`msg_${first!.webhookId}_${event._id}`);
  });

  it('serializes Date values as ISO-8601', async () => {
    const { receiver, dispatcher } = await setup();
    await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    await dispatcher.emit(unleashEvent({ createdAt: new Date(Date.UTC(2024, 9, 3, 11, 9, 53, 225)) }));
    expect(JSON.parse(receiver.requests[0]!.body).createdAt).toBe('2024-10-03T11:09:53.225Z');
  });

  it('respects the concurrency limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const { receiver, dispatcher } = await setup(
      (_req, _n, res) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        setTimeout(() => {
          inFlight--;
          res.end();
        }, 20);
        return 'handled';
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 8; i++) await dispatcher.webhooks.create({ url: `${receiver.url}/${i}` });
    const results = await dispatcher.emit(ldEvent());
    expect(results.every((r) => r.ok)).toBe(true);
    expect(peak).toBe(3);
  });
});

describe('events', () => {
  it('fails fast on an event that is not an object', async () => {
    const { dispatcher } = await setup();
    for (const bad of [null, 'x', 42, [1]]) {
      await expect(dispatcher.emit(bad as never)).rejects.toMatchObject({ code: 'ERR_INVALID_EVENT' });
    }
  });

  it('fails fast on malformed accesses', async () => {
    const { dispatcher } = await setup();
    await expect(dispatcher.emit({ accesses: [{ action: 'x' }] } as never)).rejects.toThrow(
      /event\.accesses\[0\]/,
    );
  });

  it('fails fast on an event that cannot be serialized', async () => {
    const { receiver, dispatcher } = await setup();
    await dispatcher.webhooks.create({ url: receiver.url });
    const event = ldEvent() as Record<string, unknown>;
    event.self = event;
    await expect(dispatcher.emit(event)).rejects.toMatchObject({ code: 'ERR_INVALID_EVENT' });
  });
});

describe('webhooks CRUD', () => {
  let dispatcher: WebhookDispatcher;

  it('creates, reads, lists, updates and deletes', async () => {
    ({ dispatcher } = await setup());
    const hook = await dispatcher.webhooks.create({ url: 'http://127.0.0.1:1/x', name: 'one', tags: ['a'] });
    expect(hook).toMatchObject({
      url: 'http://127.0.0.1:1/x',
      name: 'one',
      on: true,
      tags: ['a'],
      events: [],
    });
    expect(hook.id).toMatch(/^[0-9a-f]{24}$/);
    expect(await dispatcher.webhooks.get(hook.id)).toEqual(hook);
    expect(await dispatcher.webhooks.list()).toEqual([hook]);

    const updated = await dispatcher.webhooks.update(hook.id, { on: false, name: null });
    expect(updated.on).toBe(false);
    expect(updated.name).toBeUndefined();
    expect(updated.createdAt).toBe(hook.createdAt);

    expect(await dispatcher.webhooks.delete(hook.id)).toBe(true);
    expect(await dispatcher.webhooks.get(hook.id)).toBeUndefined();
    expect(await dispatcher.webhooks.delete(hook.id)).toBe(false);
  });

  it('generates a secret of at least 128 bits for sign: true', async () => {
    ({ dispatcher } = await setup());
    const a = await dispatcher.webhooks.create({ url: 'http://127.0.0.1:1/', sign: true });
    const b = await dispatcher.webhooks.create({ url: 'http://127.0.0.1:1/', sign: true });
    expect(a.secret).toMatch(/^[0-9a-f]{32,}$/);
    expect(a.secret).not.toBe(b.secret);
    const unsigned = await dispatcher.webhooks.update(a.id, { sign: false });
    expect(unsigned.secret).toBeUndefined();
  });

  it.each([
    [{ url: 'ftp://x' }, 'url', 'Expected `url` to be an absolute http(s) URL, got "ftp://x"'],
    [{ url: 'not a url' }, 'url', '`url`'],
    [{}, 'url', '`url`'],
    [{ url: 'http://127.0.0.1:1', on: 'yes' }, 'on', 'Expected `on` to be a boolean, got "yes"'],
    [{ url: 'http://127.0.0.1:1', secret: '' }, 'secret', '`secret`'],
    [{ url: 'http://127.0.0.1:1', secret: 'x', sign: false }, 'sign', '`sign`'],
    [{ url: 'http://127.0.0.1:1', tags: ['ok', 3] }, 'tags[1]', '`tags[1]`'],
    [{ url: 'http://127.0.0.1:1', signatureScheme: 'md5' }, 'signatureScheme', '`signatureScheme`'],
    [{ url: 'http://127.0.0.1:1', urll: 'typo' }, 'urll', 'Unknown field `urll`'],
  ])('refuses %j naming the field %s', async (input, field, message) => {
    ({ dispatcher } = await setup());
    const error = await dispatcher.webhooks.create(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field });
    expect((error as Error).message).toContain(message);
    expect(await dispatcher.webhooks.list()).toEqual([]);
  });

  it('refuses an invalid update and keeps the stored webhook unchanged', async () => {
    ({ dispatcher } = await setup());
    const hook = await dispatcher.webhooks.create({ url: 'http://127.0.0.1:1/' });
    await expect(dispatcher.webhooks.update(hook.id, { url: 'ftp://x' })).rejects.toMatchObject({
      field: 'url',
    });
    expect(await dispatcher.webhooks.get(hook.id)).toEqual(hook);
  });

  it('refuses to update a webhook that does not exist', async () => {
    ({ dispatcher } = await setup());
    await expect(dispatcher.webhooks.update('nope', { on: true })).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_NOT_FOUND',
    });
  });

  it('stops delivering to a webhook that is switched off', async () => {
    const { receiver, dispatcher: d } = await setup();
    const hook = await d.webhooks.create({ url: receiver.url });
    await d.webhooks.update(hook.id, { on: false });
    expect(await d.emit(ldEvent())).toEqual([]);
    await d.webhooks.update(hook.id, { on: true });
    expect(await d.emit(ldEvent())).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('close', () => {
  it('waits for deliveries in flight and then refuses new events', async () => {
    const { receiver, dispatcher } = await setup((_req, _n, res) => {
      setTimeout(() => res.end(), 100);
      return 'handled';
    });
    await dispatcher.webhooks.create({ url: receiver.url });
    const pending = dispatcher.emit(ldEvent());
    await receiver.waitFor(1);

    await dispatcher.close();
    const [result] = await pending;

    expect(result!.ok).toBe(true);
    await expect(dispatcher.emit(ldEvent())).rejects.toMatchObject({ code: 'ERR_DISPATCHER_CLOSED' });
    await expect(dispatcher.webhooks.create({ url: receiver.url })).rejects.toMatchObject({
      code: 'ERR_DISPATCHER_CLOSED',
    });
  });

  it('ends deliveries still running at the deadline with an ABORTED failure', async () => {
    const { receiver, dispatcher } = await setup(() => 'handled', { timeoutMs: 5000 });
    await dispatcher.webhooks.create({ url: receiver.url });
    const pending = dispatcher.emit(ldEvent());
    await receiver.waitFor(1);

    const started = Date.now();
    await dispatcher.close({ deadlineMs: 50 });
    const [result] = await pending;

    expect(Date.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result!.error?.code).toBe('ABORTED');
  });
});

describe('deliveryIdFor', () => {
  it('reads plain ids as they are and hashes anything else into a header-safe id', async () => {
    const { deliveryIdFor } = await import('../src/extend.js');
    expect(deliveryIdFor('27332', 'a1b2')).toBe('msg_a1b2_27332');
    const odd = deliveryIdFor('evt 1\r\nX-Injected: 1', 'a1b2');
    expect(odd).toMatch(/^msg_h\.[\w-]{24}$/);
    expect(deliveryIdFor('evt 1\r\nX-Injected: 1', 'a1b2')).toBe(odd);
    // The pair stays recoverable: a webhook id never contains "_", and the two forms never meet.
    expect(deliveryIdFor('b_c', 'a')).not.toBe(deliveryIdFor('c', 'a_b'));
    expect(deliveryIdFor('x', 'webhook_with_underscore')).toMatch(/^msg_h\./);
  });
});

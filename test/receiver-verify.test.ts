import { describe, expect, it } from 'vitest';
import { OptionsError } from '../src/extend.js';
import { SignatureVerificationError, WebhookError } from '../src/index.js';
import {
  fetchWebhookHandler,
  memoryDedupeStore,
  type TtlStore,
  verifyWebhook,
  verifyWebhookRequest,
  WebhookRequestError,
  webhookErrorStatus,
} from '../src/receiver/index.js';
import { signPayload } from '../src/rendering/sign.js';
import { signStandardWebhook } from '../src/rendering/standard-webhooks.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const LD_SECRET = 'shh-its-a-secret';
const BODY = '{"id":"evt_1","type":"invoice.paid","amount":4200}';

function standardRequest(
  options: {
    body?: string;
    id?: string;
    timestamp?: number;
    prefix?: 'webhook' | 'svix';
    secret?: string;
  } = {},
) {
  const {
    body = BODY,
    id = 'msg_1',
    timestamp = Math.floor(Date.now() / 1000),
    prefix = 'webhook',
  } = options;
  const signature = signStandardWebhook({ secret: options.secret ?? SECRET, id, timestamp, body });
  return new Request('http://127.0.0.1/hooks', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [`${prefix}-id`]: id,
      [`${prefix}-timestamp`]: String(timestamp),
      [`${prefix}-signature`]: signature,
    },
    body,
  });
}

function ldRequest(body = BODY, headers: Record<string, string> = {}) {
  return new Request('http://127.0.0.1/hooks', {
    method: 'POST',
    headers: { 'x-ld-signature': signPayload(body, LD_SECRET), ...headers },
    body,
  });
}

async function rejection(promise: Promise<unknown>): Promise<WebhookError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookError);
    return error as WebhookError;
  }
  throw new Error('expected a rejection');
}

describe('verifyWebhookRequest (fetch Request)', () => {
  it('verifies a Standard Webhooks request and returns id, timestamp, body and payload', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const webhook = await verifyWebhookRequest(standardRequest({ timestamp }), {
      secret: SECRET,
      scheme: 'standard',
    });
    expect(webhook).toEqual({
      scheme: 'standard',
      id: 'msg_1',
      timestamp,
      body: BODY,
      payload: { id: 'evt_1', type: 'invoice.paid', amount: 4200 },
    });
  });

  it('accepts svix- header names', async () => {
    const webhook = await verifyWebhookRequest(standardRequest({ prefix: 'svix', id: 'msg_svix' }), {
      secret: SECRET,
      scheme: 'standard',
    });
    expect(webhook.id).toBe('msg_svix');
  });

  it('verifies an X-LD-Signature request, with the unsigned webhook-id when sent', async () => {
    const webhook = await verifyWebhookRequest(ldRequest(BODY, { 'webhook-id': 'msg_ld' }), {
      secret: LD_SECRET,
      scheme: 'launchdarkly',
    });
    expect(webhook).toMatchObject({ scheme: 'launchdarkly', id: 'msg_ld', timestamp: undefined, body: BODY });
  });

  it('refuses a tampered body, a wrong secret and missing headers with codes', async () => {
    const tampered = standardRequest();
    const forged = new Request(tampered.url, { method: 'POST', headers: tampered.headers, body: `${BODY} ` });
    expect((await rejection(verifyWebhookRequest(forged, { secret: SECRET, scheme: 'standard' }))).code).toBe(
      'ERR_SIGNATURE_INVALID',
    );
    const other = 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expect(
      (await rejection(verifyWebhookRequest(standardRequest(), { secret: other, scheme: 'standard' }))).code,
    ).toBe('ERR_SIGNATURE_INVALID');
    const bare = new Request('http://127.0.0.1/', { method: 'POST', body: BODY });
    const missing = await rejection(verifyWebhookRequest(bare, { secret: SECRET, scheme: 'standard' }));
    expect(missing).toBeInstanceOf(SignatureVerificationError);
    expect(missing.code).toBe('ERR_MISSING_HEADERS');
    expect(
      (await rejection(verifyWebhookRequest(ldRequest(BODY), { secret: 'nope', scheme: 'launchdarkly' })))
        .code,
    ).toBe('ERR_SIGNATURE_INVALID');
  });

  it('enforces the timestamp window, with now and toleranceSeconds', async () => {
    const sentAt = 1_700_000_000;
    const request = () => standardRequest({ timestamp: sentAt });
    const stale = await rejection(verifyWebhookRequest(request(), { secret: SECRET, scheme: 'standard' }));
    expect(stale.code).toBe('ERR_TIMESTAMP_OUT_OF_TOLERANCE');
    const now = (sentAt + 60) * 1000;
    await expect(
      verifyWebhookRequest(request(), { secret: SECRET, scheme: 'standard', now }),
    ).resolves.toBeTruthy();
    await expect(
      verifyWebhookRequest(request(), { secret: SECRET, scheme: 'standard', now: () => now }),
    ).resolves.toBeTruthy();
    const tight = await rejection(
      verifyWebhookRequest(request(), { secret: SECRET, scheme: 'standard', now, toleranceSeconds: 30 }),
    );
    expect(tight.code).toBe('ERR_TIMESTAMP_OUT_OF_TOLERANCE');
  });

  it('with scheme auto, picks Standard Webhooks when its signature is present and X-LD-Signature otherwise', async () => {
    const both = { secrets: [SECRET, LD_SECRET], scheme: 'auto' } as const;
    expect((await verifyWebhookRequest(standardRequest(), both)).scheme).toBe('standard');
    expect((await verifyWebhookRequest(ldRequest(), both)).scheme).toBe('launchdarkly');
    const none = new Request('http://127.0.0.1/', { method: 'POST', body: BODY });
    const error = await rejection(verifyWebhookRequest(none, both));
    expect(error.code).toBe('ERR_MISSING_HEADERS');
    expect(error.message).toContain('x-ld-signature');
  });

  it('accepts any of several secrets (rotation)', async () => {
    const old = 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const webhook = await verifyWebhookRequest(standardRequest(), {
      secrets: [old, SECRET],
      scheme: 'standard',
    });
    expect(webhook.id).toBe('msg_1');
  });

  it('refuses a body over maxBodyBytes, declared or streamed, before reading it all', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2000) });
    const declared = await rejection(
      verifyWebhookRequest(standardRequest({ body: big }), {
        secret: SECRET,
        scheme: 'standard',
        maxBodyBytes: 1000,
      }),
    );
    expect(declared.code).toBe('ERR_BODY_TOO_LARGE');
    expect(webhookErrorStatus(declared)).toBe(413);

    // A stream without Content-Length that never ends: refused once past the limit.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(512));
      },
    });
    const streamed = new Request('http://127.0.0.1/', {
      method: 'POST',
      headers: { 'x-ld-signature': 'a'.repeat(64) },
      body: endless,
      duplex: 'half',
    } as RequestInit);
    const error = await rejection(
      verifyWebhookRequest(streamed, { secret: LD_SECRET, scheme: 'launchdarkly', maxBodyBytes: 4096 }),
    );
    expect(error.code).toBe('ERR_BODY_TOO_LARGE');
    expect(pulled).toBeLessThan(20);
  });

  it('refuses a body that is not JSON unless json is false', async () => {
    const text = 'plain text';
    const error = await rejection(
      verifyWebhookRequest(ldRequest(text), { secret: LD_SECRET, scheme: 'launchdarkly' }),
    );
    expect(error.code).toBe('ERR_INVALID_PAYLOAD');
    expect(webhookErrorStatus(error)).toBe(400);
    const webhook = await verifyWebhookRequest(ldRequest(text), {
      secret: LD_SECRET,
      scheme: 'launchdarkly',
      json: false,
    });
    expect(webhook.payload).toBe(text);
  });

  it('refuses a request whose body was already read', async () => {
    const request = standardRequest();
    await request.text();
    const error = await rejection(verifyWebhookRequest(request, { secret: SECRET, scheme: 'standard' }));
    expect(error).toBeInstanceOf(OptionsError);
  });
});

describe('receiver options are validated', () => {
  const request = () => standardRequest();
  it.each([
    ['toleranceSeconds NaN', { toleranceSeconds: Number.NaN }, 'toleranceSeconds'],
    ['toleranceSeconds as a string', { toleranceSeconds: '300' }, 'toleranceSeconds'],
    ['now NaN', { now: Number.NaN }, 'now'],
    ['now as a string', { now: '1700000000000' }, 'now'],
    ['maxBodyBytes 0', { maxBodyBytes: 0 }, 'maxBodyBytes'],
    ['a dedupe without add', { dedupe: {} }, 'dedupe'],
    ['an unknown option', { tolerance: 300 }, 'tolerance'],
    ['no scheme', { scheme: undefined }, 'scheme'],
    ['both secret and secrets', { secrets: [SECRET] }, 'secret'],
    ['json as a string', { json: 'yes' }, 'json'],
  ])('refuses %s', async (_, extra, field) => {
    const options = { secret: SECRET, scheme: 'standard', ...extra } as never;
    const error = await rejection(verifyWebhookRequest(request(), options));
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).field).toBe(field);
    expect(() => fetchWebhookHandler(options, () => new Response())).toThrow(OptionsError);
  });

  it('refuses a clock that answers NaN when it is read', async () => {
    const error = await rejection(
      verifyWebhookRequest(request(), { secret: SECRET, scheme: 'standard', now: () => Number.NaN }),
    );
    expect(error).toBeInstanceOf(OptionsError);
  });
});

describe('de-duplication by webhook-id', () => {
  it('refuses the second delivery of one id with ERR_DUPLICATE_DELIVERY, answered as 200', async () => {
    const dedupe = memoryDedupeStore();
    const options = { secret: SECRET, scheme: 'standard', dedupe } as const;
    await verifyWebhookRequest(standardRequest({ id: 'msg_dup' }), options);
    const error = await rejection(verifyWebhookRequest(standardRequest({ id: 'msg_dup' }), options));
    expect(error).toBeInstanceOf(WebhookRequestError);
    expect(error.code).toBe('ERR_DUPLICATE_DELIVERY');
    expect(webhookErrorStatus(error)).toBe(200);
    await expect(verifyWebhookRequest(standardRequest({ id: 'msg_other' }), options)).resolves.toBeTruthy();
  });

  it('records an id only after the signature verified', async () => {
    const dedupe = memoryDedupeStore();
    const forged = standardRequest({ id: 'msg_x', secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    await rejection(verifyWebhookRequest(forged, { secret: SECRET, scheme: 'standard', dedupe }));
    expect(dedupe.size).toBe(0);
    await expect(
      verifyWebhookRequest(standardRequest({ id: 'msg_x' }), { secret: SECRET, scheme: 'standard', dedupe }),
    ).resolves.toBeTruthy();
  });

  it('passes dedupeTtlMs to an async store', async () => {
    const calls: [string, number][] = [];
    const store: TtlStore = {
      add: async (id, ttlMs) => {
        calls.push([id, ttlMs]);
        return true;
      },
    };
    await verifyWebhookRequest(standardRequest({ id: 'msg_ttl' }), {
      secret: SECRET,
      scheme: 'standard',
      dedupe: store,
      dedupeTtlMs: 60_000,
    });
    expect(calls).toEqual([['msg_ttl', 60_000]]);
  });

  it('forgets the id when the fetch handler fails, so the retry is handled', async () => {
    const dedupe = memoryDedupeStore();
    let calls = 0;
    const handle = fetchWebhookHandler({ secret: SECRET, scheme: 'standard', dedupe }, () => {
      calls++;
      if (calls === 1) throw new Error('database down');
      return new Response(null, { status: calls === 2 ? 503 : 204 });
    });
    expect((await handle(standardRequest({ id: 'msg_retry' }))).status).toBe(500);
    expect((await handle(standardRequest({ id: 'msg_retry' }))).status).toBe(503);
    expect((await handle(standardRequest({ id: 'msg_retry' }))).status).toBe(204);
    const duplicate = await handle(standardRequest({ id: 'msg_retry' }));
    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toEqual({ duplicate: true });
    expect(calls).toBe(3);
  });
});

describe('memoryDedupeStore', () => {
  it('forgets ids after their TTL and keeps at most maxEntries', () => {
    let now = 0;
    const store = memoryDedupeStore({ maxEntries: 2, now: () => now });
    expect(store.add('a', 1000)).toBe(true);
    expect(store.add('a', 1000)).toBe(false);
    now = 1000;
    expect(store.add('a', 1000)).toBe(true);
    store.add('b', 1000);
    store.add('c', 1000);
    expect(store.size).toBe(2);
    expect(store.add('a', 1000)).toBe(true); // the oldest was forgotten
  });

  it('refuses an invalid maxEntries', () => {
    expect(() => memoryDedupeStore({ maxEntries: Number.NaN })).toThrow(OptionsError);
  });
});

describe('fetchWebhookHandler', () => {
  it('answers refused requests with a status and a code, without calling the handler', async () => {
    let called = false;
    const handle = fetchWebhookHandler({ secret: SECRET, scheme: 'standard' }, () => {
      called = true;
      return new Response(null, { status: 204 });
    });
    const bare = await handle(new Request('http://127.0.0.1/', { method: 'POST', body: BODY }));
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ code: 'ERR_MISSING_HEADERS' });
    const stale = await handle(standardRequest({ timestamp: 1_700_000_000 }));
    expect(stale.status).toBe(401);
    expect(called).toBe(false);
    expect((await handle(standardRequest())).status).toBe(204);
  });
});

describe('verifyWebhook (headers and a body already read)', () => {
  it('verifies a Node-style header record', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'Webhook-Id': 'msg_n',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': [signStandardWebhook({ secret: SECRET, id: 'msg_n', timestamp, body: BODY })],
    };
    const webhook = await verifyWebhook(
      { headers, body: new TextEncoder().encode(BODY) },
      { secret: SECRET, scheme: 'standard' },
    );
    expect(webhook.id).toBe('msg_n');
  });

  it('refuses a 2 MB string body under the default 1 MiB maxBodyBytes, as it would the same bytes', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ pad: 'x'.repeat(2_000_000) });
    const headers = {
      'webhook-id': 'msg_big',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook({ secret: SECRET, id: 'msg_big', timestamp, body }),
    };
    for (const given of [body, new TextEncoder().encode(body)]) {
      const error = await rejection(
        verifyWebhook({ headers, body: given }, { secret: SECRET, scheme: 'standard' }),
      );
      expect(error.code, typeof given).toBe('ERR_BODY_TOO_LARGE');
    }
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookDispatcher } from '../src/index.js';
import {
  expressWebhook,
  fastifyWebhook,
  memoryDedupeStore,
  nodeWebhookHandler,
  type VerifiedWebhook,
} from '../src/receiver/index.js';
import { signPayload } from '../src/rendering/sign.js';
import { signStandardWebhook } from '../src/rendering/standard-webhooks.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BODY = '{"id":"evt_1","type":"invoice.paid"}';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function listenFastify(app: FastifyInstance): Promise<string> {
  closers.push(() => app.close());
  return app.listen({ port: 0, host: '127.0.0.1' });
}

function signed(id = 'msg_1', body = BODY, timestamp = Math.floor(Date.now() / 1000)): RequestInit {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook({ secret: SECRET, id, timestamp, body }),
    },
    body,
  };
}

function svixSigned(id = 'msg_s'): RequestInit {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'svix-id': id,
      'svix-timestamp': String(timestamp),
      'svix-signature': signStandardWebhook({ secret: SECRET, id, timestamp, body: BODY }),
    },
    body: BODY,
  };
}

/** The cases every adapter must pass, against a server whose handler records what it received. */
function commonCases(start: (received: VerifiedWebhook[]) => Promise<string>) {
  it('hands the verified webhook to the handler and answers its status', async () => {
    const received: VerifiedWebhook[] = [];
    const url = await start(received);
    const response = await fetch(`${url}/hooks`, signed());
    expect(response.status).toBe(204);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ id: 'msg_1', body: BODY, payload: { type: 'invoice.paid' } });
  });

  it('accepts svix- header names', async () => {
    const received: VerifiedWebhook[] = [];
    const url = await start(received);
    expect((await fetch(`${url}/hooks`, svixSigned())).status).toBe(204);
    expect(received[0]?.id).toBe('msg_s');
  });

  it('answers 401 for a bad signature or a stale timestamp, 400 for missing headers, without calling the handler', async () => {
    const received: VerifiedWebhook[] = [];
    const url = await start(received);
    const forged = signed();
    const tampered = await fetch(`${url}/hooks`, { ...forged, body: BODY.replace('paid', 'void') });
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ code: 'ERR_SIGNATURE_INVALID' });
    const stale = await fetch(`${url}/hooks`, signed('msg_old', BODY, 1_700_000_000));
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ code: 'ERR_TIMESTAMP_OUT_OF_TOLERANCE' });
    const bare = await fetch(`${url}/hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: BODY,
    });
    expect(bare.status).toBe(400);
    expect(received).toEqual([]);
  });

  it('answers 413 for a body over maxBodyBytes', async () => {
    const received: VerifiedWebhook[] = [];
    const url = await start(received);
    const big = JSON.stringify({ pad: 'x'.repeat(5000) });
    const response = await fetch(`${url}/hooks`, signed('msg_big', big));
    expect(response.status).toBe(413);
    expect(received).toEqual([]);
  });

  it('answers a duplicate with 200 and does not call the handler twice', async () => {
    const received: VerifiedWebhook[] = [];
    const url = await start(received);
    expect((await fetch(`${url}/hooks`, signed('msg_d'))).status).toBe(204);
    const again = await fetch(`${url}/hooks`, signed('msg_d'));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ duplicate: true });
    expect(received).toHaveLength(1);
  });

  it('handles the retry of a message whose handler failed', async () => {
    const received: VerifiedWebhook[] = [];
    const url = await start(received);
    expect((await fetch(`${url}/hooks`, signed('msg_fail'))).status).toBe(500);
    expect((await fetch(`${url}/hooks`, signed('msg_fail'))).status).toBe(204);
    expect(received.map((w) => w.id)).toEqual(['msg_fail', 'msg_fail']);
  });
}

const options = () => ({
  secret: SECRET,
  scheme: 'standard' as const,
  maxBodyBytes: 4096,
  dedupe: memoryDedupeStore(),
});
/** The handler of the common cases: fails the first delivery of `msg_fail`. */
function failsOnce(received: VerifiedWebhook[]) {
  return (webhook: VerifiedWebhook) => {
    received.push(webhook);
    if (webhook.id === 'msg_fail' && received.length === 1) throw new Error('database down');
  };
}

describe('nodeWebhookHandler (node:http)', () => {
  commonCases(async (received) => {
    const fail = failsOnce(received);
    return listen(
      createServer(
        nodeWebhookHandler(options(), (webhook, _req, res) => {
          fail(webhook);
          res.writeHead(204).end();
        }),
      ),
    );
  });
});

describe('expressWebhook', () => {
  commonCases(async (received) => {
    const fail = failsOnce(received);
    const app = express();
    app.post('/hooks', expressWebhook(options()), (_req, res) => {
      fail(res.locals.webhook);
      res.sendStatus(204);
    });
    app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.sendStatus(500);
    });
    return listen(createServer(app));
  });

  it('works behind express.json() on other routes and with express.raw() before it', async () => {
    const app = express();
    app.use('/api', express.json());
    app.post('/api/echo', (req, res) => res.json(req.body));
    app.post('/raw', express.raw({ type: '*/*' }), expressWebhook(options()), (_req, res) => {
      res.json(res.locals.webhook.payload);
    });
    app.post('/hooks', expressWebhook(options()), (_req, res) => res.json(res.locals.webhook.payload));
    const url = await listen(createServer(app));
    expect(await (await fetch(`${url}/api/echo`, signed())).json()).toEqual(JSON.parse(BODY));
    expect(await (await fetch(`${url}/raw`, signed('r1'))).json()).toEqual(JSON.parse(BODY));
    expect(await (await fetch(`${url}/hooks`, signed('h1'))).json()).toEqual(JSON.parse(BODY));
  });

  it('counts a string body left by express.text() in UTF-8 bytes against maxBodyBytes: 413', async () => {
    const received: unknown[] = [];
    const app = express();
    app.post(
      '/hooks',
      express.text({ type: '*/*', limit: '10mb' }),
      expressWebhook(options()),
      (_req, res) => {
        received.push(res.locals.webhook.id);
        res.sendStatus(204);
      },
    );
    const url = await listen(createServer(app));
    // 2,100 characters (under 4,096 UTF-16 units) but 4,200 bytes of UTF-8: over the 4,096-byte limit.
    const wide = JSON.stringify({ pad: 'é'.repeat(2100) });
    const response = await fetch(`${url}/hooks`, signed('msg_wide', wide));
    expect(response.status).toBe(413);
    expect(received).toEqual([]);
    expect((await fetch(`${url}/hooks`, signed('msg_small'))).status).toBe(204);
  });

  it('answers 500 with a reason when express.json() already parsed the body', async () => {
    const app = express();
    app.use(express.json());
    app.post('/hooks', expressWebhook(options()), (_req, res) => res.sendStatus(204));
    const url = await listen(createServer(app));
    const response = await fetch(`${url}/hooks`, signed());
    expect(response.status).toBe(500);
  });
});

describe('fastifyWebhook', () => {
  commonCases(async (received) => {
    const fail = failsOnce(received);
    const app = Fastify();
    await app.register(fastifyWebhook, {
      ...options(),
      path: '/hooks',
      handler: async (webhook) => {
        fail(webhook);
      },
    });
    return listenFastify(app);
  });

  it('keeps the JSON parser of the rest of the app', async () => {
    const app = Fastify();
    app.post('/api/echo', async (request) => ({ parsed: request.body }));
    await app.register(fastifyWebhook, {
      ...options(),
      path: '/hooks',
      handler: (webhook) => ({ got: webhook.payload }),
    });
    const url = await listenFastify(app);
    const echo = await fetch(`${url}/api/echo`, signed());
    expect(await echo.json()).toEqual({ parsed: JSON.parse(BODY) });
    const hook = await fetch(`${url}/hooks`, signed('msg_f'));
    expect(hook.status).toBe(200);
    expect(await hook.json()).toEqual({ got: JSON.parse(BODY) });
  });

  it('works under a prefix and with an X-LD-Signature sender', async () => {
    const app = Fastify();
    await app.register(fastifyWebhook, {
      secret: 'shh',
      scheme: 'launchdarkly',
      path: '/flags',
      prefix: '/hooks',
      handler: async (webhook, _request, reply) =>
        reply.code(202).send({ kind: (webhook.payload as { kind: string }).kind }),
    });
    const url = await listenFastify(app);
    const body = '{"kind":"flag"}';
    const response = await fetch(`${url}/hooks/flags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ld-signature': signPayload(body, 'shh') },
      body,
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ kind: 'flag' });
  });
});

describe('end to end: the dispatcher delivering to the receiver middleware', () => {
  it('delivers a Standard Webhooks-signed event that the Fastify plugin verifies', async () => {
    const received: unknown[] = [];
    const app = Fastify();
    await app.register(fastifyWebhook, {
      secret: SECRET,
      scheme: 'standard',
      path: '/hooks',
      dedupe: memoryDedupeStore(),
      handler: async (webhook) => {
        received.push(webhook.payload);
      },
    });
    const url = await listenFastify(app);
    const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true });
    closers.push(() => dispatcher.close());
    await dispatcher.webhooks.create({
      url: `${url}/hooks`,
      secret: SECRET,
      signatureScheme: 'standard',
      events: ['invoice.paid'],
    });
    const [result] = await dispatcher.emit({ id: 'evt_9', type: 'invoice.paid', amount: 100 });
    expect(result).toMatchObject({ ok: true, status: 204 });
    expect(received).toEqual([{ id: 'evt_9', type: 'invoice.paid', amount: 100 }]);
  });
});

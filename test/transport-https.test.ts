import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createWebhookDispatcher, httpTransport, type Transport, TransportError } from '../src/index.js';
import { ldEvent } from './helpers/events.js';
import { open } from './helpers/setup.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url), 'utf8');
const CA = fixture('ca.pem');

interface HttpsReceiver {
  port: number;
  bodies: string[];
}

/** A real HTTPS server on 127.0.0.1 with a leaf certificate signed by the fixture CA. */
async function startHttpsReceiver(leaf: 'server' | 'other-host' = 'server'): Promise<HttpsReceiver> {
  const bodies: string[] = [];
  const server: Server = createServer(
    { cert: fixture(`${leaf}.pem`), key: fixture(`${leaf}.key`) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'text/plain' }).end('secure ok');
      });
    },
  );
  // A TLS handshake refused by the client surfaces here; it must not crash the test process.
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { port: (server.address() as AddressInfo).port, bodies };
}

function track(transport: Transport): Transport {
  open.push({ close: async () => transport.close?.() });
  return transport;
}

const post = (url: string) => ({
  url,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: '{"hello":"tls"}',
});
const sendOptions = { signal: new AbortController().signal, timeoutMs: 5000 };

async function sendError(transport: Transport, url: string): Promise<TransportError> {
  const error = await transport.send(post(url), sendOptions).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

describe('httpTransport with a custom CA', () => {
  it('delivers to an HTTPS receiver whose certificate is signed by the given CA', async () => {
    const receiver = await startHttpsReceiver();
    const transport = track(httpTransport({ ca: CA, allowPrivateNetworks: true }));

    const response = await transport.send(post(`https://127.0.0.1:${receiver.port}/hook`), sendOptions);

    expect(response.status).toBe(200);
    expect(response.body).toBe('secure ok');
    expect(receiver.bodies).toEqual(['{"hello":"tls"}']);
  });

  it('accepts the CA as a Buffer and in a list, and verifies the DNS name localhost', async () => {
    const receiver = await startHttpsReceiver();
    const transport = track(httpTransport({ ca: [Buffer.from(CA)], allowPrivateNetworks: true }));

    const response = await transport.send(post(`https://localhost:${receiver.port}/`), sendOptions);

    expect(response.status).toBe(200);
  });

  it('keeps the CA to its own transport: another transport without `ca` still refuses the receiver', async () => {
    const receiver = await startHttpsReceiver();
    const trusting = track(httpTransport({ ca: CA, allowPrivateNetworks: true }));
    const plain = track(httpTransport({ allowPrivateNetworks: true }));
    const url = `https://127.0.0.1:${receiver.port}/`;

    expect((await trusting.send(post(url), sendOptions)).status).toBe(200);
    const error = await sendError(plain, url);

    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']).toContain(error.code);
    expect(receiver.bodies).toHaveLength(1);
  });

  it('refuses the private certificate without `ca`, with a TLS verification code', async () => {
    const receiver = await startHttpsReceiver();
    const transport = track(httpTransport({ allowPrivateNetworks: true }));

    const error = await sendError(transport, `https://127.0.0.1:${receiver.port}/`);

    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']).toContain(error.code);
    expect(receiver.bodies).toEqual([]);
  });

  it('still verifies the host name when the CA is trusted', async () => {
    const receiver = await startHttpsReceiver('other-host');
    const transport = track(httpTransport({ ca: CA, allowPrivateNetworks: true }));

    const error = await sendError(transport, `https://127.0.0.1:${receiver.port}/`);

    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(receiver.bodies).toEqual([]);
  });
});

describe('dispatcher over HTTPS', () => {
  it('delivers through a transport with the custom CA', async () => {
    const receiver = await startHttpsReceiver();
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      transport: httpTransport({ ca: CA, allowPrivateNetworks: true }),
    });
    open.push(dispatcher);
    await dispatcher.webhooks.create({ url: `https://localhost:${receiver.port}/hook`, secret: 'shh' });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true, outcome: 'delivered', status: 200, attempts: 1 });
    expect(receiver.bodies).toHaveLength(1);
  });

  it('reports an untrusted certificate as a failed outcome with the TLS code, not a rejection', async () => {
    const receiver = await startHttpsReceiver();
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: { retries: 1, delayMs: 0 },
    });
    open.push(dispatcher);
    await dispatcher.webhooks.create({ url: `https://127.0.0.1:${receiver.port}/hook` });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: false, outcome: 'failed', attempts: 2 });
    expect(result!.status).toBeUndefined();
    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']).toContain(result!.error?.code);
    expect(receiver.bodies).toEqual([]);
  });
});

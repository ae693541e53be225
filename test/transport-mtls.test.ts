import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionsError } from '../src/extend.js';
import { createWebhookDispatcher, httpTransport, type Transport, TransportError } from '../src/index.js';
import type { ClientCertificate } from '../src/transport/client-certificate.js';
import { ldEvent } from './helpers/events.js';
import { open } from './helpers/setup.js';
import { makeTestCa, type TestCa } from './helpers/test-ca.js';

/** A test CA, a server certificate for 127.0.0.1/localhost and client certificates, made with openssl. */
let testCa: TestCa;
let CA: string;
let sender: ClientCertificate;
let other: ClientCertificate;

beforeAll(() => {
  testCa = makeTestCa();
  CA = testCa.ca;
  sender = testCa.sender;
  other = testCa.second;
}, 60_000);

afterAll(() => testCa?.remove());

interface MtlsReceiver {
  url: string;
  /** The client certificate's CN of every request answered (`-` without one). */
  senders: string[];
  /** TLS connections accepted so far. */
  connections: () => number;
  /** Connections still open. */
  openSockets: Set<Socket>;
}

/** A real HTTPS receiver on 127.0.0.1; with `requireCertificate`, only clients with a certificate of the test CA get in. */
async function startReceiver(requireCertificate: boolean): Promise<MtlsReceiver> {
  const senders: string[] = [];
  let connections = 0;
  const openSockets = new Set<Socket>();
  const server: Server = createServer(
    {
      cert: testCa.server.cert,
      key: testCa.server.key,
      ca: CA,
      requestCert: requireCertificate,
      rejectUnauthorized: requireCertificate,
    },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const cn = peer?.subject?.CN;
        senders.push(Array.isArray(cn) ? cn.join(',') : (cn ?? '-'));
        res.writeHead(204).end();
      });
    },
  );
  server.on('secureConnection', (socket) => {
    connections++;
    openSockets.add(socket);
    socket.on('close', () => openSockets.delete(socket));
  });
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
  const port = (server.address() as AddressInfo).port;
  return { url: `https://127.0.0.1:${port}/hooks`, senders, connections: () => connections, openSockets };
}

function track(transport: Transport): Transport {
  open.push({ close: async () => transport.close?.() });
  return transport;
}

const sendOptions = { signal: new AbortController().signal, timeoutMs: 5000 };
const post = (url: string, clientCertificate?: ClientCertificate) => ({
  url,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: '{}',
  ...(clientCertificate && { clientCertificate }),
});

async function failure(sending: Promise<unknown>): Promise<TransportError> {
  const error = await sending.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

describe('httpTransport({ clientCertificate })', () => {
  it('is accepted by a receiver that requires a certificate of its CA, which sees the sender', async () => {
    const receiver = await startReceiver(true);
    const transport = track(httpTransport({ ca: CA, clientCertificate: sender, allowPrivateNetworks: true }));

    const response = await transport.send(post(receiver.url), sendOptions);

    expect(response.status).toBe(204);
    expect(receiver.senders).toEqual(['webhook-sender']);
  });

  it('without a certificate (or with one of another CA) is refused by that receiver', async () => {
    const receiver = await startReceiver(true);
    const plain = track(httpTransport({ ca: CA, allowPrivateNetworks: true }));
    const rogue = track(
      httpTransport({
        ca: CA,
        clientCertificate: testCa.rogue,
        allowPrivateNetworks: true,
      }),
    );

    await failure(plain.send(post(receiver.url), sendOptions));
    await failure(rogue.send(post(receiver.url), sendOptions));

    expect(receiver.senders).toEqual([]);
  });

  it('leaves a receiver that asks for no certificate unaffected', async () => {
    const receiver = await startReceiver(false);
    const withCertificate = track(
      httpTransport({ ca: CA, clientCertificate: sender, allowPrivateNetworks: true }),
    );
    const plain = track(httpTransport({ ca: CA, allowPrivateNetworks: true }));

    expect((await withCertificate.send(post(receiver.url), sendOptions)).status).toBe(204);
    expect((await plain.send(post(receiver.url), sendOptions)).status).toBe(204);
    expect(receiver.senders).toEqual(['-', '-']);
  });

  it('opens an encrypted key with its passphrase', async () => {
    const receiver = await startReceiver(true);
    const clientCertificate = { cert: sender.cert, key: testCa.encryptedKey, passphrase: 'hunter2' };
    const transport = track(httpTransport({ ca: CA, clientCertificate, allowPrivateNetworks: true }));

    expect((await transport.send(post(receiver.url), sendOptions)).status).toBe(204);
    expect(receiver.senders).toEqual(['webhook-sender']);
  });

  it('keeps DNS pinning and the SSRF guard: a private target is still refused', async () => {
    const receiver = await startReceiver(true);
    const transport = track(httpTransport({ ca: CA, clientCertificate: sender }));
    const byName = receiver.url.replace('127.0.0.1', 'localhost');

    expect((await failure(transport.send(post(receiver.url), sendOptions))).code).toBe('BLOCKED_ADDRESS');
    expect((await failure(transport.send(post(byName), sendOptions))).code).toBe('BLOCKED_ADDRESS');
    expect((await failure(transport.send(post(byName, other), sendOptions))).code).toBe('BLOCKED_ADDRESS');
    expect(receiver.connections()).toBe(0);
  });

  it('gives a dispatcher a recorded failed outcome without a certificate, and delivers with one', async () => {
    const receiver = await startReceiver(true);
    const outcomes: unknown[] = [];
    for (const clientCertificate of [undefined, sender]) {
      const dispatcher = createWebhookDispatcher({
        allowPrivateNetworks: true,
        transport: httpTransport({
          ca: CA,
          allowPrivateNetworks: true,
          ...(clientCertificate && { clientCertificate }),
        }),
        retry: 0,
        onDelivery: (result) => outcomes.push(result),
      });
      open.push(dispatcher);
      await dispatcher.webhooks.create({ url: receiver.url });
      await dispatcher.emit(ldEvent());
    }
    expect(outcomes).toMatchObject([
      { ok: false, error: { code: expect.any(String) } },
      { ok: true, status: 204 },
    ]);
    expect(receiver.senders).toEqual(['webhook-sender']);
  });
});

describe('validation of clientCertificate', () => {
  const field = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(OptionsError);
      return (error as OptionsError).field;
    }
    throw new Error('expected an OptionsError');
  };

  it('names the field of a wrong shape, a missing part or a key that does not open or match', () => {
    const make = (clientCertificate: unknown) => () =>
      httpTransport({ clientCertificate: clientCertificate as ClientCertificate });
    expect(field(make('cert.pem'))).toBe('clientCertificate');
    expect(field(make({ cert: sender.cert }))).toBe('clientCertificate.key');
    expect(field(make({ cert: 'not pem', key: sender.key }))).toBe('clientCertificate.cert');
    expect(field(make({ ...sender, pass: 'x' }))).toBe('clientCertificate.pass');
    expect(field(make({ ...sender, passphrase: 42 }))).toBe('clientCertificate.passphrase');
    expect(field(make({ cert: sender.cert, key: other.key }))).toBe('clientCertificate');
    const encrypted = { cert: sender.cert, key: testCa.encryptedKey };
    expect(field(make({ ...encrypted, passphrase: 'wrong' }))).toBe('clientCertificate');
    expect(field(() => httpTransport({ maxClientCertificates: 0 }))).toBe('maxClientCertificates');
  });

  it('never puts key material in the message', () => {
    let message = '';
    try {
      httpTransport({ clientCertificate: { cert: sender.cert, key: 'secret-key-text' } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('clientCertificate.key');
    expect(message).not.toContain('secret-key-text');
  });
});

describe('a client certificate per request (per-webhook identities)', () => {
  it('presents the certificate the request carries, and none without one', async () => {
    const receiver = await startReceiver(true);
    const transport = track(httpTransport({ ca: CA, allowPrivateNetworks: true }));

    expect((await transport.send(post(receiver.url, sender), sendOptions)).status).toBe(204);
    expect((await transport.send(post(receiver.url, other), sendOptions)).status).toBe(204);
    await failure(transport.send(post(receiver.url), sendOptions));

    expect(receiver.senders).toEqual(['webhook-sender', 'second-sender']);
  });

  it("replaces the transport's own certificate for that request", async () => {
    const receiver = await startReceiver(true);
    const transport = track(httpTransport({ ca: CA, clientCertificate: sender, allowPrivateNetworks: true }));

    await transport.send(post(receiver.url, other), sendOptions);
    await transport.send(post(receiver.url), sendOptions);

    expect(receiver.senders).toEqual(['second-sender', 'webhook-sender']);
  });

  it('reuses one pool per certificate, keeps at most maxClientCertificates, and closes the evicted one', async () => {
    const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
    const roomyReceiver = await startReceiver(true);
    const roomy = track(httpTransport({ ca: CA, allowPrivateNetworks: true, maxClientCertificates: 2 }));
    for (const certificate of [sender, other, { ...sender }]) {
      await roomy.send(post(roomyReceiver.url, certificate), sendOptions);
      await settle();
    }
    // The same certificate in another object shares its pool: two identities, two kept connections.
    expect(roomyReceiver.connections()).toBe(2);
    expect(roomyReceiver.openSockets.size).toBe(2);

    const lruReceiver = await startReceiver(true);
    const lru = track(httpTransport({ ca: CA, allowPrivateNetworks: true, maxClientCertificates: 1 }));
    await lru.send(post(lruReceiver.url, sender), sendOptions);
    await settle();
    expect(lruReceiver.openSockets.size).toBe(1);
    await lru.send(post(lruReceiver.url, other), sendOptions);
    // `other` took the only place: the pool of `sender` was closed, and its idle connection with it.
    await expect.poll(() => lruReceiver.openSockets.size).toBe(1);
    await lru.send(post(lruReceiver.url, sender), sendOptions);
    expect(lruReceiver.connections()).toBe(3);
    expect(lruReceiver.senders).toEqual(['webhook-sender', 'second-sender', 'webhook-sender']);
  });

  it('refuses a request whose certificate does not hold its key, as a failed send naming the field', async () => {
    const receiver = await startReceiver(true);
    const transport = track(httpTransport({ ca: CA, allowPrivateNetworks: true }));

    const error = await failure(
      transport.send(post(receiver.url, { cert: sender.cert, key: other.key }), sendOptions),
    );

    expect(error.message).toContain('request.clientCertificate');
    expect(receiver.connections()).toBe(0);
  });

  it('closes every pool on close()', async () => {
    const receiver = await startReceiver(true);
    const transport = httpTransport({ ca: CA, clientCertificate: sender, allowPrivateNetworks: true });

    await transport.send(post(receiver.url), sendOptions);
    await transport.send(post(receiver.url, other), sendOptions);
    expect(receiver.openSockets.size).toBe(2);
    await transport.close?.();

    await expect.poll(() => receiver.openSockets.size).toBe(0);
    await failure(transport.send(post(receiver.url, other), sendOptions));
  });
});

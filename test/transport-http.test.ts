import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportResponse } from '../src/extend.js';
import { httpTransport, type Transport, TransportError } from '../src/index.js';

interface TestServer {
  url: string;
  /** Requests whose body has been read, in arrival order. */
  received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  /** Every TCP connection the server accepted. */
  sockets: Socket[];
  /** Connections that are closed by now. */
  closed(): number;
  /** Whether the connection that carried the n-th request (0-based) is closed. */
  requestSocketClosed(n: number): boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const servers: Server[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.destroy?.()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A real HTTP server on 127.0.0.1, port 0; `handle` answers once the request body is read. */
async function serve(handle: Handler = (_req, res) => res.end('ok')): Promise<TestServer> {
  const received: TestServer['received'] = [];
  const sockets: Socket[] = [];
  const requestSockets: Socket[] = [];
  const closedSockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requestSockets.push(req.socket);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const n = received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handle(req, res, n - 1);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.push(socket);
    socket.on('close', () => closedSockets.add(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    sockets,
    closed: () => closedSockets.size,
    requestSocketClosed: (n) => requestSockets[n] !== undefined && closedSockets.has(requestSockets[n]),
  };
}

function transport(options: Parameters<typeof httpTransport>[0] = {}): Transport {
  const t = httpTransport({ allowPrivateNetworks: true, ...options });
  transports.push(t);
  return t;
}

const post = (url: string, body = '{"hello":"world"}') => ({
  url,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', 'x-ld-signature': 'abc' },
  body,
});

const options = (timeoutMs = 5000) => ({ signal: new AbortController().signal, timeoutMs });

async function sendError(t: Transport, url: string, timeoutMs = 5000): Promise<TransportError> {
  const outcome = await t.send(post(url), options(timeoutMs)).then(
    (response) => response,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(TransportError);
  return outcome as TransportError;
}

async function until(condition: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('httpTransport: requests and responses', () => {
  it('posts the body and headers and returns status, lower-cased response headers and body', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(201, { 'X-Receipt': 'r-1', 'Content-Type': 'text/plain' }).end('accepted');
    });

    const response = await transport().send(post(`${server.url}/hooks?team=a`), options());

    expect(response).toMatchObject({ status: 201, body: 'accepted' });
    expect(response.headers).toMatchObject({ 'x-receipt': 'r-1', 'content-type': 'text/plain' });
    expect(server.received).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/hooks?team=a',
        body: '{"hello":"world"}',
        headers: expect.objectContaining({ 'content-type': 'application/json', 'x-ld-signature': 'abc' }),
      }),
    ]);
  });

  it('returns an empty body for an empty response', async () => {
    const server = await serve((_req, res) => res.writeHead(204).end());

    const response = await transport().send(post(server.url), options());

    expect(response).toMatchObject({ status: 204, body: '' });
  });

  it('decodes a multi-byte UTF-8 body split across chunks', async () => {
    const text = 'é'.repeat(5000);
    const server = await serve((_req, res) => {
      const bytes = Buffer.from(text);
      res.writeHead(200, { 'content-length': bytes.length });
      // Split inside a two-byte character.
      res.write(bytes.subarray(0, 4097));
      setTimeout(() => res.end(bytes.subarray(4097)), 10);
    });

    const response = await transport().send(post(server.url), options());

    expect(response.body).toBe(text);
  });

  it('skips 1xx informational answers and reports the final status', async () => {
    const server = await serve((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.end('final');
    });

    const response = await transport().send(post(server.url), options());

    expect(response).toMatchObject({ status: 200, body: 'final' });
  });

  it('does not follow redirects: a 3xx is the answer, and the target is never asked', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/moved') res.writeHead(307, { location: '/elsewhere' }).end();
      else res.end('should not be reached');
    });

    const response = await transport().send(post(`${server.url}/moved`), options());

    expect(response.status).toBe(307);
    expect(response.headers?.location).toBe('/elsewhere');
    expect(server.received.map((r) => r.url)).toEqual(['/moved']);
  });
});

describe('httpTransport: response body cap', () => {
  it('keeps only the first maxResponseBytes of a body and reads the rest to keep the connection', async () => {
    const server = await serve((_req, res) => res.end('x'.repeat(10_000)));
    const t = transport({ maxResponseBytes: 100 });

    const first = await t.send(post(server.url), options());
    const second = await t.send(post(server.url), options());

    expect(first).toMatchObject({ status: 200, body: 'x'.repeat(100) });
    expect(second.body).toHaveLength(100);
    expect(server.closed()).toBe(0);
  });

  it('answers with the capped body of an endless response and closes its connection instead of draining it', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16_384, 'y');
      // Writes for as long as the connection stays open.
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const t = transport({ maxResponseBytes: 50, maxDiscardBytes: 200_000 });

    const started = Date.now();
    const response = await t.send(post(server.url), options(10_000));

    expect(response).toMatchObject({ status: 200, body: 'y'.repeat(50) });
    expect(Date.now() - started).toBeLessThan(5000);
    await until(() => server.requestSocketClosed(0), 'the connection to be closed');
  });
});

describe('httpTransport: deadline', () => {
  it('fails with TIMEOUT when no answer comes within timeoutMs', async () => {
    const server = await serve(() => {
      // Never answers.
    });

    const started = Date.now();
    const error = await sendError(transport(), server.url, 150);

    expect(error.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(2000);
    await until(() => server.requestSocketClosed(0), 'the connection to be closed');
  });

  it('fails with TIMEOUT when the body trickles past timeoutMs, even though the status was 200', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      const timer = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(timer));
    });

    const error = await sendError(transport(), server.url, 200);

    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(/body/);
    await until(() => server.requestSocketClosed(0), 'the connection to be closed');
  });

  it('counts the wait for a free connection, and does not send a request whose deadline has passed', async () => {
    const server = await serve((_req, res, n) => {
      if (n === 0) setTimeout(() => res.end('slow'), 400);
      else res.end('fast');
    });
    const t = transport({ connections: 1 });

    const slow = t.send(post(`${server.url}/first`), options(5000));
    const queued = sendError(t, `${server.url}/second`, 100);

    expect((await queued).code).toBe('TIMEOUT');
    expect((await slow).body).toBe('slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.received.map((r) => r.url)).toEqual(['/first']);
  });
});

describe('httpTransport: connections', () => {
  it('reuses keep-alive connections: sequential requests share one or two sockets', async () => {
    const server = await serve();
    const t = transport();

    for (let i = 0; i < 50; i++) expect((await t.send(post(server.url), options())).status).toBe(200);

    // undici reuses a socket one event-loop turn after its response ends; a request sent sooner gets a second one.
    expect(server.sockets.length).toBeLessThanOrEqual(2);
  });

  it('reuses keep-alive connections: 200 requests at concurrency 4 use at most 8 sockets', async () => {
    const server = await serve();
    const t = transport();

    let next = 0;
    const responses: TransportResponse[] = [];
    const loop = async () => {
      while (next < 200) {
        next++;
        responses.push(await t.send(post(server.url), options()));
      }
    };
    await Promise.all([loop(), loop(), loop(), loop()]);

    expect(responses).toHaveLength(200);
    expect(responses.every((r) => r.status === 200 && r.body === 'ok')).toBe(true);
    // At most one socket in use and one waiting for reuse per concurrent sender.
    expect(server.sockets.length).toBeLessThanOrEqual(8);
  });

  it('keeps a response whose body the receiver cuts short: the status is what counts', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });

    const response = await transport().send(post(server.url), options());

    expect(response).toMatchObject({ status: 200, body: 'partial' });
  });

  it('fails with ECONNREFUSED when nothing listens on the port', async () => {
    const server = await serve();
    const url = server.url;
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));

    const error = await sendError(transport(), url);

    expect(error.code).toBe('ECONNREFUSED');
  });

  it('fails with ECONNRESET when the connection closes before an answer', async () => {
    const server = await serve((req) => req.socket.destroy());

    const error = await sendError(transport(), server.url);

    expect(error.code).toBe('ECONNRESET');
  });

  it('fails with INVALID_RESPONSE when the answer is not HTTP', async () => {
    const raw = createNetServer((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n')));
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    try {
      const { port } = raw.address() as AddressInfo;
      const error = await sendError(transport(), `http://127.0.0.1:${port}/`);
      expect(error.code).toBe('INVALID_RESPONSE');
    } finally {
      raw.close();
    }
  });

  it('destroy() ends the requests in flight at once', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const t = httpTransport({ allowPrivateNetworks: true });

    const pending = sendError(t, server.url, 10_000);
    await until(() => server.received.length === 1, 'the request to arrive');
    await t.destroy?.();

    expect((await pending).code).toBe('ABORTED');
  });

  it('rejects with ABORTED once destroyed, not with a raw undici error', async () => {
    const server = await serve();
    const t = httpTransport({ allowPrivateNetworks: true });
    await t.destroy?.();

    const error = await sendError(t, server.url);

    expect(error.code).toBe('ABORTED');
    expect(server.received).toHaveLength(0);
  });

  it('close() lets the requests in flight finish', async () => {
    const server = await serve((_req, res) => setTimeout(() => res.end('done'), 100));
    const t = httpTransport({ allowPrivateNetworks: true });

    const pending = t.send(post(server.url), options());
    await until(() => server.received.length === 1, 'the request to arrive');
    await t.close?.();

    expect(await pending).toMatchObject({ status: 200, body: 'done' });
  });
});

describe('httpTransport: SSRF guard', () => {
  it('refuses a literal loopback address with BLOCKED_ADDRESS unless private networks are allowed', async () => {
    const server = await serve();
    const guarded = httpTransport();
    transports.push(guarded);

    const error = await sendError(guarded, server.url);

    expect(error.code).toBe('BLOCKED_ADDRESS');
    expect(server.received).toHaveLength(0);
  });

  it('refuses a host name that resolves to a blocked address, at connect time', async () => {
    const server = await serve();
    const guarded = httpTransport();
    transports.push(guarded);

    const error = await sendError(guarded, server.url.replace('127.0.0.1', 'localhost'));

    expect(error.code).toBe('BLOCKED_ADDRESS');
    expect(server.received).toHaveLength(0);
  });

  it('lets an allowed CIDR range through', async () => {
    const server = await serve();
    const t = httpTransport({ allowedHosts: ['127.0.0.0/8'] });
    transports.push(t);

    expect((await t.send(post(server.url), options())).status).toBe(200);
  });

  it('rejects options that are not positive numbers, naming the option', () => {
    expect(() => httpTransport({ maxResponseBytes: 0 })).toThrow(/maxResponseBytes/);
    expect(() => httpTransport({ connections: Number.NaN })).toThrow(/connections/);
  });
});

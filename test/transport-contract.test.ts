import { getEventListeners, once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportResponse } from '../src/extend.js';
import { fetchTransport, httpTransport, type Transport, TransportError, WebhookError } from '../src/index.js';

// The contract every built-in transport keeps, checked against the same real loopback servers through both:
// the same code for the same failure, the caller's signal honoured, headers in one shape, nothing left behind.
// fetchTransport runs over the real globalThis.fetch (Node's undici), nothing intercepts it in this file.

type Make = (options?: { allowPrivateNetworks?: boolean; allowedHosts?: string[] }) => Transport;
const TRANSPORTS: [string, Make][] = [
  ['httpTransport', (options) => httpTransport({ allowPrivateNetworks: true, ...options })],
  ['fetchTransport', (options) => fetchTransport({ allowPrivateNetworks: true, ...options })],
];

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function make(factory: Make, options?: Parameters<Make>[0]): Transport {
  const transport = factory(options);
  closers.push(() => transport.destroy?.());
  return transport;
}

interface RawServer {
  url: string;
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
}

/** A TCP server on 127.0.0.1, port 0, that does `onRequest(socket)` once the request's first bytes arrive. */
async function raw(onRequest: (socket: Socket) => void): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const info = { connections: 0 };
  const server: Server = createServer((socket) => {
    info.connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => onRequest(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    get connections() {
      return info.connections;
    },
  };
}

/** A port nothing listens on: bound once, then closed. */
async function refusingPort(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

const post = (url: string) => ({
  url,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: '{"hello":"world"}',
});

const sendOptions = (timeoutMs = 5000, signal = new AbortController().signal) => ({ signal, timeoutMs });

async function outcome(promise: Promise<TransportResponse>): Promise<TransportResponse | TransportError> {
  return promise.then(
    (response) => response,
    (error: unknown) => {
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toBeInstanceOf(WebhookError);
      return error as TransportError;
    },
  );
}

const HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n';

/** One failure, the server that produces it, and the code both transports must report. */
const FAILURES: { name: string; url: () => Promise<string>; code: string; timeoutMs?: number }[] = [
  { name: 'nothing listens on the port', url: refusingPort, code: 'ECONNREFUSED' },
  {
    name: 'the server resets the connection (RST) before answering',
    url: async () => (await raw((socket) => socket.resetAndDestroy())).url,
    code: 'ECONNRESET',
  },
  {
    name: 'the server closes the connection before answering',
    url: async () => (await raw((socket) => socket.end())).url,
    code: 'ECONNRESET',
  },
  {
    name: "the server answers something that is not HTTP ('HELLO\\r\\n\\r\\n')",
    url: async () => (await raw((socket) => socket.end('HELLO\r\n\r\n'))).url,
    code: 'INVALID_RESPONSE',
  },
  {
    name: 'the server answers a malformed header',
    url: async () => (await raw((socket) => socket.end('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'))).url,
    code: 'INVALID_RESPONSE',
  },
  {
    name: 'the server accepts and never answers',
    url: async () => (await raw(() => {})).url,
    code: 'TIMEOUT',
    timeoutMs: 300,
  },
  {
    name: 'the status arrives but the body trickles past the deadline',
    url: async () =>
      (
        await raw((socket) => {
          socket.write(`${HEAD}Content-Length: 1000\r\n\r\nstart`);
          const timer = setInterval(() => socket.write('.'), 50);
          socket.on('close', () => clearInterval(timer));
        })
      ).url,
    code: 'TIMEOUT',
    timeoutMs: 400,
  },
];

describe.each(TRANSPORTS)('%s: one code for one failure', (_name, factory) => {
  it.each(FAILURES)('$code when $name', async ({ url, code, timeoutMs }) => {
    const result = await outcome(make(factory).send(post(await url()), sendOptions(timeoutMs)));
    expect(result).toMatchObject({ name: 'TransportError', code });
  });

  it('keeps a response whose body the receiver cuts short: the status is what counts', async () => {
    const server = await raw((socket) => {
      socket.write(`${HEAD}Content-Length: 100\r\n\r\npartial`);
      setTimeout(() => socket.destroy(), 30);
    });
    const result = await outcome(make(factory).send(post(server.url), sendOptions()));
    expect(result).toMatchObject({ status: 200, body: 'partial' });
  });

  it('refuses a URL that does not parse with the same code from both', async () => {
    const result = await outcome(make(factory).send(post('not a url'), sendOptions()));
    expect(result).toMatchObject({ code: 'ERR_INVALID_URL' });
  });

  it('does not follow a redirect: the 3xx is the answer', async () => {
    const server = await raw((socket) =>
      socket.end(
        'HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/\r\nContent-Length: 0\r\n\r\n',
      ),
    );
    const result = await outcome(make(factory).send(post(server.url), sendOptions()));
    expect(result).toMatchObject({ status: 307 });
  });
});

describe.each(TRANSPORTS)('%s: the caller’s signal', (_name, factory) => {
  it('rejects with ABORTED at once for a signal aborted before send, and connects nowhere', async () => {
    const server = await raw(() => {});
    const controller = new AbortController();
    controller.abort(new Error('not needed any more'));

    const result = await outcome(make(factory).send(post(server.url), sendOptions(5000, controller.signal)));

    expect(result).toMatchObject({ code: 'ABORTED' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.connections).toBe(0);
  });

  it('ends a request in flight with ABORTED when the signal aborts with a plain reason', async () => {
    const server = await raw(() => {});
    const controller = new AbortController();
    const started = performance.now();
    const pending = outcome(make(factory).send(post(server.url), sendOptions(10_000, controller.signal)));
    await until(() => server.connections === 1);
    controller.abort(new Error('closing'));

    expect(await pending).toMatchObject({ code: 'ABORTED' });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('takes the code of a TransportError reason: TIMEOUT when the dispatcher’s deadline aborts it', async () => {
    const server = await raw(() => {});
    const controller = new AbortController();
    const pending = outcome(make(factory).send(post(server.url), sendOptions(10_000, controller.signal)));
    await until(() => server.connections === 1);
    controller.abort(new TransportError('TIMEOUT', 'no response within 100 ms'));

    expect(await pending).toMatchObject({ code: 'TIMEOUT', message: 'no response within 100 ms' });
  });

  it('ends a response whose body is still arriving when the signal aborts', async () => {
    const server = await raw((socket) => socket.write(`${HEAD}Content-Length: 1000\r\n\r\nstart`));
    const controller = new AbortController();
    const pending = outcome(make(factory).send(post(server.url), sendOptions(10_000, controller.signal)));
    await until(() => server.connections === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort(new TransportError('ABORTED', 'close deadline'));

    expect(await pending).toMatchObject({ code: 'ABORTED' });
  });

  it('works for a wrapper that spreads the options, and for one that passes none or a bogus signal', async () => {
    const server = await raw((socket) => socket.end(`${HEAD}Content-Length: 2\r\n\r\nok`));
    const transport = make(factory);
    const wrapper: Transport = { send: (request, options) => transport.send(request, { ...options }) };
    const controller = new AbortController();
    controller.abort(new TransportError('ABORTED', 'closing'));

    expect(await outcome(wrapper.send(post(server.url), sendOptions(5000, controller.signal)))).toMatchObject(
      {
        code: 'ABORTED',
      },
    );
    // @ts-expect-error a careless caller
    expect(await outcome(transport.send(post(server.url)))).toMatchObject({ status: 200, body: 'ok' });
    // @ts-expect-error a careless caller
    expect(await outcome(transport.send(post(server.url), { signal: {}, timeoutMs: 'soon' }))).toMatchObject({
      status: 200,
    });
  });

  it('leaves no listener on a signal shared by many attempts, whatever their outcome', async () => {
    const ok = await raw((socket) => socket.end(`${HEAD}Content-Length: 2\r\n\r\nok`));
    const reset = await raw((socket) => socket.resetAndDestroy());
    const transport = make(factory);
    const { signal } = new AbortController();

    for (let i = 0; i < 10; i++) {
      await outcome(transport.send(post(ok.url), sendOptions(5000, signal)));
      await outcome(transport.send(post(reset.url), sendOptions(5000, signal)));
    }
    await outcome(transport.send(post(ok.url), sendOptions(5000, signal)));

    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});

describe('both transports return headers in one shape', () => {
  it('lower-case names, repeated headers joined, every set-cookie kept: the same object from both', async () => {
    const server = await raw((socket) =>
      socket.end(
        'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nX-Mixed-Case: A\r\nX-Dup: 1\r\nx-dup: 2\r\n' +
          'Set-Cookie: a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT\r\nSet-Cookie: b=2\r\nContent-Length: 4\r\n\r\nslow',
      ),
    );
    const answers: TransportResponse[] = [];
    for (const [, factory] of TRANSPORTS)
      answers.push(await make(factory).send(post(server.url), sendOptions()));

    const [http, fetch] = answers;
    expect(http).toMatchObject({ status: 429, body: 'slow' });
    expect(http!.headers).toMatchObject({
      'retry-after': '7',
      'x-mixed-case': 'A',
      'x-dup': '1, 2',
      'set-cookie': 'a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT\nb=2',
    });
    expect(fetch).toEqual(http);
  });
});

describe.each(TRANSPORTS)(
  '%s: the SSRF guard (loopback only, nothing leaves the machine)',
  (_name, factory) => {
    const guarded = () => make(factory, { allowPrivateNetworks: false });

    it('refuses literal loopback addresses and localhost with BLOCKED_ADDRESS, connecting nowhere', async () => {
      const server = await raw((socket) => socket.end(`${HEAD}Content-Length: 2\r\n\r\nok`));
      for (const url of [
        server.url,
        `http://localhost:${server.port}/`,
        `http://[::ffff:7f00:1]:${server.port}/`,
      ]) {
        expect(await outcome(guarded().send(post(url), sendOptions())), url).toMatchObject({
          code: 'BLOCKED_ADDRESS',
        });
      }
      expect(server.connections).toBe(0);
    });

    it('refuses a host name whose DNS answer is 127.0.0.1 (localhost through node:dns, ::1 allowlisted)', async () => {
      const server = await raw((socket) => socket.end(`${HEAD}Content-Length: 2\r\n\r\nok`));
      // Allowing ::1 lets the name `localhost` past the literal check; its answer from the system resolver
      // (127.0.0.1, from /etc/hosts) is then what gets it refused.
      const transport = make(factory, { allowPrivateNetworks: false, allowedHosts: ['::1'] });

      const result = await outcome(transport.send(post(`http://localhost:${server.port}/`), sendOptions()));

      expect(result).toMatchObject({ code: 'BLOCKED_ADDRESS' });
      expect((result as TransportError).cause).toMatchObject({ address: '127.0.0.1', range: 'loopback' });
      expect(server.connections).toBe(0);
    });

    it('connects to the same name when its address is allowlisted', async () => {
      const server = await raw((socket) => socket.end(`${HEAD}Content-Length: 2\r\n\r\nok`));
      const transport = make(factory, { allowPrivateNetworks: false, allowedHosts: ['127.0.0.0/8'] });

      const result = await outcome(transport.send(post(`http://localhost:${server.port}/`), sendOptions()));

      expect(result).toMatchObject({ status: 200, body: 'ok' });
    });
  },
);

describe('httpTransport and fetchTransport agree with a real HTTP server too', () => {
  it('answers the same status, body and headers', async () => {
    const server: HttpServer = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('X-Request-Id', 'abc');
        res.statusCode = 202;
        res.end('accepted');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const [http, fetch] = await Promise.all(
      TRANSPORTS.map(([, f]) => make(f).send(post(url), sendOptions())),
    );
    expect(http).toMatchObject({ status: 202, body: 'accepted', headers: { 'x-request-id': 'abc' } });
    expect(Object.keys(http!.headers!).sort()).toEqual(Object.keys(fetch!.headers!).sort());
    expect(fetch).toMatchObject({ status: 202, body: 'accepted', headers: { 'x-request-id': 'abc' } });
  });
});

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

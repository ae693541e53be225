import type { LookupAddress } from 'node:dns';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GuardedLookupOptions } from '../src/extend.js';
import { createWebhookDispatcher, fetchTransport, verifySignature } from '../src/index.js';
import { ldEvent } from './helpers/events.js';

const received: { headers: Headers; body: string }[] = [];
const server = setupServer(
  http.post('https://hooks.example.com/ok', async ({ request }) => {
    received.push({ headers: request.headers, body: await request.text() });
    return new HttpResponse('thanks', { status: 200 });
  }),
  http.post('https://hooks.example.com/flaky', () => new HttpResponse(null, { status: 503 })),
  http.post('https://hooks.example.com/moved', () =>
    HttpResponse.redirect('https://hooks.example.com/ok', 307),
  ),
  http.post('https://hooks.example.com/down', () => HttpResponse.error()),
  http.post('https://hooks.example.com/big', () => new HttpResponse('x'.repeat(100_000), { status: 200 })),
  http.post('http://localhost/dev', () => new HttpResponse('dev', { status: 200 })),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  received.length = 0;
  server.resetHandlers();
});
afterAll(() => server.close());

const request = (url: string) => ({
  url,
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: '{"a":1}',
});
const sendOptions = { signal: new AbortController().signal, timeoutMs: 1000 };
// msw answers in-process: nothing connects anywhere, so these tests turn the guard (and its DNS lookup) off. The
// guard itself is tested below with an injected resolver.
const viaMsw = { allowPrivateNetworks: true };

describe('fetchTransport', () => {
  it('looks up globalThis.fetch at call time, so msw intercepts it', async () => {
    const transport = fetchTransport(viaMsw);
    const response = await transport.send(request('https://hooks.example.com/ok'), sendOptions);
    expect(response.status).toBe(200);
    expect(response.body).toBe('thanks');
    expect(received[0]!.body).toBe('{"a":1}');
  });

  it('does not follow redirects', async () => {
    const response = await fetchTransport(viaMsw).send(
      request('https://hooks.example.com/moved'),
      sendOptions,
    );
    expect(response.status).toBe(307);
    expect(received).toHaveLength(0);
  });

  it('turns a network error into a TransportError', async () => {
    await expect(
      fetchTransport(viaMsw).send(request('https://hooks.example.com/down'), sendOptions),
    ).rejects.toMatchObject({ name: 'TransportError' });
  });

  it('keeps only the start of a large response body', async () => {
    const response = await fetchTransport({ ...viaMsw, maxResponseBytes: 10 }).send(
      request('https://hooks.example.com/big'),
      sendOptions,
    );
    expect(response.body).toBe('xxxxxxxxxx');
  });

  it('uses an injected fetch instead of the global one', async () => {
    const calls: string[] = [];
    const transport = fetchTransport({
      allowPrivateNetworks: true,
      fetch: async (input) => {
        calls.push(String(input));
        return new Response(null, { status: 202 });
      },
    });
    expect((await transport.send(request('https://x.example/'), sendOptions)).status).toBe(202);
    expect(calls).toEqual(['https://x.example/']);
  });

  it('delivers signed webhooks through the dispatcher, with one retry on 503', async () => {
    const dispatcher = createWebhookDispatcher({
      transport: fetchTransport(viaMsw),
      retry: { retries: 1, delayMs: 0 },
    });
    await dispatcher.webhooks.create({ url: 'https://hooks.example.com/ok', secret: 'shh' });
    await dispatcher.webhooks.create({ url: 'https://hooks.example.com/flaky' });

    const [ok, flaky] = await dispatcher.emit(ldEvent());

    expect(ok).toMatchObject({ ok: true, attempts: 1, status: 200 });
    expect(flaky).toMatchObject({ ok: false, attempts: 2, status: 503 });
    const { headers, body } = received[0]!;
    expect(verifySignature(body, headers.get('x-ld-signature')!, 'shh')).toBe(true);
    expect(headers.get('webhook-id')).toBe(ok!.deliveryId);
    await dispatcher.close();
  });
});

type Lookup = NonNullable<GuardedLookupOptions['lookup']>;

/** A resolver that answers `addresses` for every name and records the names asked. */
function resolver(addresses: LookupAddress[]): Lookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup: Lookup = (hostname, _options, callback) => {
    asked.push(hostname);
    setImmediate(() => callback(null, addresses));
  };
  return Object.assign(lookup, { asked });
}

/** A fetch that records the URLs it was called with and answers 200. */
function recordingFetch(): typeof globalThis.fetch & { calls: string[] } {
  const calls: string[] = [];
  const fetch = async (input: string | URL | Request) => {
    calls.push(String(input));
    return new Response('ok', { status: 200 });
  };
  return Object.assign(fetch as typeof globalThis.fetch, { calls });
}

describe('fetchTransport: the SSRF guard before fetch', () => {
  it('refuses a host name that resolves to 127.0.0.1 with BLOCKED_ADDRESS; fetch is never called', async () => {
    const lookup = resolver([{ address: '127.0.0.1', family: 4 }]);
    const fetch = recordingFetch();

    const error = await fetchTransport({ fetch, lookup })
      .send(request('https://rebind.hooks.test/x'), sendOptions)
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'TransportError', code: 'BLOCKED_ADDRESS' });
    expect(lookup.asked).toEqual(['rebind.hooks.test']);
    expect(fetch.calls).toEqual([]);
  });

  it('refuses the whole answer when one address is private, IPv4-mapped IPv6 included', async () => {
    const lookup = resolver([
      { address: '93.184.215.14', family: 4 },
      { address: '::ffff:169.254.169.254', family: 6 },
    ]);
    const fetch = recordingFetch();

    const error = await fetchTransport({ fetch, lookup })
      .send(request('https://mixed.hooks.test/x'), sendOptions)
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'BLOCKED_ADDRESS', cause: { range: 'ipv4Mapped->linkLocal' } });
    expect(fetch.calls).toEqual([]);
  });

  it('calls fetch when every address is public, or the network is allowlisted', async () => {
    const fetch = recordingFetch();
    const publicAnswer = resolver([{ address: '93.184.215.14', family: 4 }]);
    await fetchTransport({ fetch, lookup: publicAnswer }).send(
      request('https://ok.hooks.test/'),
      sendOptions,
    );
    const privateAnswer = resolver([{ address: '10.1.2.3', family: 4 }]);
    await fetchTransport({ fetch, lookup: privateAnswer, allowedHosts: ['10.1.0.0/16'] }).send(
      request('https://internal.hooks.test/'),
      sendOptions,
    );
    expect(fetch.calls).toEqual(['https://ok.hooks.test/', 'https://internal.hooks.test/']);
  });

  it('refuses literal private addresses and localhost without resolving anything', async () => {
    const lookup = resolver([{ address: '93.184.215.14', family: 4 }]);
    const fetch = recordingFetch();
    const transport = fetchTransport({ fetch, lookup });
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://[::1]/',
      'http://169.254.169.254/',
      'http://localhost/',
    ]) {
      expect(await transport.send(request(url), sendOptions).catch((e: unknown) => e), url).toMatchObject({
        code: 'BLOCKED_ADDRESS',
      });
    }
    expect(lookup.asked).toEqual([]);
    expect(fetch.calls).toEqual([]);
  });

  it('resolves nothing with allowPrivateNetworks, so msw can serve localhost', async () => {
    const lookup = resolver([{ address: '127.0.0.1', family: 4 }]);
    const response = await fetchTransport({ allowPrivateNetworks: true, lookup }).send(
      request('http://localhost/dev'),
      sendOptions,
    );
    expect(response).toMatchObject({ status: 200, body: 'dev' });
    expect(lookup.asked).toEqual([]);
    const refused = await fetchTransport()
      .send(request('http://localhost/dev'), sendOptions)
      .catch((e) => e);
    expect(refused).toMatchObject({ code: 'BLOCKED_ADDRESS' });
  });

  it('passes a name that does not resolve on to fetch, which reports it (or msw answers it)', async () => {
    const failing: Lookup = (hostname, _options, callback) =>
      setImmediate(() =>
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []),
      );
    const response = await fetchTransport({ lookup: failing }).send(
      request('https://hooks.example.com/ok'),
      sendOptions,
    );
    expect(response.status).toBe(200);
  });

  it('counts a hanging resolver against the deadline: TIMEOUT, and fetch is never called', async () => {
    const fetch = recordingFetch();
    const hanging: Lookup = () => {};
    const error = await fetchTransport({ fetch, lookup: hanging })
      .send(request('https://slow-dns.hooks.test/'), { signal: new AbortController().signal, timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(fetch.calls).toEqual([]);
  });
});

import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

describe('fetchTransport', () => {
  it('looks up globalThis.fetch at call time, so msw intercepts it', async () => {
    const transport = fetchTransport();
    const response = await transport.send(request('https://hooks.example.com/ok'), sendOptions);
    expect(response.status).toBe(200);
    expect(response.body).toBe('thanks');
    expect(received[0]!.body).toBe('{"a":1}');
  });

  it('does not follow redirects', async () => {
    const response = await fetchTransport().send(request('https://hooks.example.com/moved'), sendOptions);
    expect(response.status).toBe(307);
    expect(received).toHaveLength(0);
  });

  it('turns a network error into a TransportError', async () => {
    await expect(
      fetchTransport().send(request('https://hooks.example.com/down'), sendOptions),
    ).rejects.toMatchObject({ name: 'TransportError' });
  });

  it('keeps only the start of a large response body', async () => {
    const response = await fetchTransport({ maxResponseBytes: 10 }).send(
      request('https://hooks.example.com/big'),
      sendOptions,
    );
    expect(response.body).toBe('xxxxxxxxxx');
  });

  it('uses an injected fetch instead of the global one', async () => {
    const calls: string[] = [];
    const transport = fetchTransport({
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
      transport: fetchTransport(),
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

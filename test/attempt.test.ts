import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryRequest, TransportSendOptions } from '../src/extend.js';
import {
  createWebhookDispatcher,
  type Transport,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../src/index.js';

const open: WebhookDispatcher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close({ deadlineMs: 10 })));
});

interface Call {
  request: DeliveryRequest;
  options: TransportSendOptions;
  /** Read during `send`, as a transport that honours it does. */
  signal: AbortSignal;
}

/** A transport whose n-th call (0-based) answers with `answer(n)`: a status, or a promise that never settles. */
function scripted(answer: (n: number) => number | 'hang') {
  const calls: Call[] = [];
  const transport: Transport = {
    send(request, options) {
      const n = calls.push({ request, options, signal: options.signal }) - 1;
      const reply = answer(n);
      return reply === 'hang' ? new Promise(() => {}) : Promise.resolve({ status: reply });
    },
  };
  return { transport, calls };
}

async function dispatcherWith(transport: Transport, options: WebhookDispatcherOptions = {}) {
  const dispatcher = createWebhookDispatcher({ transport, allowPrivateNetworks: true, ...options });
  open.push(dispatcher);
  await dispatcher.webhooks.create({ url: 'https://example.com/hook', events: ['*'] });
  return dispatcher;
}

const event = (fields: Record<string, unknown> = {}) => ({ id: 'e1', type: 'flag-updated', ...fields });

describe('attempt: attempt deadline', () => {
  it('ends an attempt whose transport never answers with TIMEOUT, soon after timeoutMs', async () => {
    const { transport } = scripted(() => 'hang');
    const dispatcher = await dispatcherWith(transport, { timeoutMs: 100, retry: 0 });

    const started = performance.now();
    const [result] = await dispatcher.emit(event());
    const elapsed = performance.now() - started;

    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'TIMEOUT' } });
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(1000);
  });

  it('aborts the signal a transport reads when its attempt times out', async () => {
    const { transport, calls } = scripted(() => 'hang');
    const dispatcher = await dispatcherWith(transport, { timeoutMs: 50, retry: 0 });

    const [result] = await dispatcher.emit(event());
    const signal = calls[0]!.signal;

    expect(result!.error?.code).toBe('TIMEOUT');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: 'TIMEOUT' });
  });

  it('hands the transport the attempt budget as timeoutMs', async () => {
    const { transport, calls } = scripted(() => 200);
    const dispatcher = await dispatcherWith(transport, { timeoutMs: 1234 });

    await dispatcher.emit(event());

    expect(calls[0]!.options.timeoutMs).toBe(1234);
  });

  it('gives every attempt its own deadline: a hanging first attempt times out and the retry delivers', async () => {
    const { transport, calls } = scripted((n) => (n === 0 ? 'hang' : 200));
    const dispatcher = await dispatcherWith(transport, { timeoutMs: 80, retry: { retries: 1, delayMs: 0 } });

    const [result] = await dispatcher.emit(event());

    expect(result).toMatchObject({ ok: true, attempts: 2, status: 200 });
    expect(calls).toHaveLength(2);
  });

  it('times out many concurrent attempts, each once', async () => {
    const { transport, calls } = scripted(() => 'hang');
    // Attempt deadlines, not endpoint health: with health on, the circuit of this always-hanging webhook would open.
    const dispatcher = await dispatcherWith(transport, {
      timeoutMs: 60,
      retry: 0,
      concurrency: 16,
      health: false,
    });

    const results = (
      await Promise.all(Array.from({ length: 40 }, (_, i) => dispatcher.emit(event({ id: i }))))
    ).flat();

    expect(results).toHaveLength(40);
    expect(results.every((r) => r.error?.code === 'TIMEOUT' && r.attempts === 1)).toBe(true);
    expect(calls).toHaveLength(40);
  });
});

describe('attempt: close deadline', () => {
  it('ends a hanging attempt with ABORTED when close() runs out of time', async () => {
    const { transport } = scripted(() => 'hang');
    const dispatcher = createWebhookDispatcher({ transport, timeoutMs: 60_000, retry: 0 });
    await dispatcher.webhooks.create({ url: 'https://example.com/hook', events: ['*'] });

    const pending = dispatcher.emit(event());
    await new Promise((resolve) => setTimeout(resolve, 10));
    await dispatcher.close({ deadlineMs: 20 });

    expect((await pending)[0]).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
  });

  it('ends a retry wait with ABORTED when close() runs out of time', async () => {
    const { transport, calls } = scripted(() => 503);
    const dispatcher = createWebhookDispatcher({ transport, retry: { retries: 1, delayMs: 60_000 } });
    await dispatcher.webhooks.create({ url: 'https://example.com/hook', events: ['*'] });

    const pending = dispatcher.emit(event());
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    await dispatcher.close({ deadlineMs: 20 });

    expect((await pending)[0]).toMatchObject({
      ok: false,
      attempts: 1,
      status: 503,
      error: { code: 'ABORTED' },
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(calls).toHaveLength(1);
  });
});

describe('attempt: body size limit', () => {
  it('counts bytes, not characters: a multi-byte body over maxBodyBytes is not sent', async () => {
    const { transport, calls } = scripted(() => 200);
    const dispatcher = await dispatcherWith(transport, { maxBodyBytes: 100 });

    // About 80 characters of JSON but more than 100 bytes of UTF-8.
    const [result] = await dispatcher.emit(event({ text: 'é'.repeat(50) }));

    expect(result).toMatchObject({ ok: false, attempts: 0, error: { code: 'BODY_TOO_LARGE' } });
    expect(calls).toHaveLength(0);
  });

  it('sends a body of exactly maxBodyBytes', async () => {
    const { transport, calls } = scripted(() => 200);
    const body = JSON.stringify(event({ text: 'é'.repeat(20) }));
    const dispatcher = await dispatcherWith(transport, { maxBodyBytes: Buffer.byteLength(body) });

    const [result] = await dispatcher.emit(event({ text: 'é'.repeat(20) }));

    expect(result).toMatchObject({ ok: true });
    expect(calls[0]!.request.body).toBe(body);
  });
});

describe('attempt: render budget', () => {
  it('stops a template bomb at maxBodyBytes while rendering: BODY_TOO_LARGE, nothing sent', async () => {
    const { transport, calls } = scripted(() => 200);
    const dispatcher = createWebhookDispatcher({ transport, maxBodyBytes: 100_000 });
    open.push(dispatcher);
    await dispatcher.webhooks.create({
      url: 'https://example.com/hook',
      events: ['*'],
      bodyTemplate:
        '{{#event.items}}{{#event.items}}{{#event.items}}{{event.pad}}{{/event.items}}{{/event.items}}{{/event.items}}',
    });
    const items = Array.from({ length: 200 }, (_, i) => i);
    const started = performance.now();
    const [result] = await dispatcher.emit(event({ items, pad: 'x'.repeat(100) }));
    expect(result).toMatchObject({ ok: false, attempts: 0, error: { code: 'BODY_TOO_LARGE' } });
    expect(calls).toHaveLength(0);
    // 8 million renders of 100 bytes would take many seconds; the budget stops it after ~1,000.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('attempt: the transport contract', () => {
  it('hands the transport a plain { signal, timeoutMs } that survives a spread', async () => {
    let seen: Record<string, unknown> | undefined;
    const transport: Transport = {
      send(_request, options) {
        seen = { ...options };
        return Promise.resolve({ status: 200 });
      },
    };
    const dispatcher = await dispatcherWith(transport, { timeoutMs: 1234 });
    await dispatcher.emit(event());
    expect(Object.keys(seen ?? {}).sort()).toEqual(['signal', 'timeoutMs']);
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(seen?.timeoutMs).toBe(1234);
  });

  it('reads a transport that returns a plain object instead of a promise', async () => {
    const transport = { send: () => ({ status: 204 }) } as unknown as Transport;
    const dispatcher = await dispatcherWith(transport, { retry: 0 });
    const [result] = await dispatcher.emit(event());
    expect(result).toMatchObject({ ok: true, status: 204, attempts: 1 });
  });

  it('turns garbage from a transport into INVALID_RESPONSE', async () => {
    for (const answer of [undefined, null, 'ok', { status: '200' }, { status: 42 }, { status: Number.NaN }]) {
      const transport = { send: async () => answer } as unknown as Transport;
      const dispatcher = await dispatcherWith(transport, { retry: 0 });
      const [result] = await dispatcher.emit(event());
      expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'INVALID_RESPONSE' } });
    }
  });

  it('reads Retry-After whatever the case of the header name a custom transport uses', async () => {
    const times: number[] = [];
    const transport: Transport = {
      async send() {
        times.push(performance.now());
        return times.length === 1 ? { status: 503, headers: { 'Retry-After': '1' } } : { status: 200 };
      },
    };
    const dispatcher = await dispatcherWith(transport, { retry: { retries: 1, delayMs: 0 } });
    const [result] = await dispatcher.emit(event());
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(950);
  });
});

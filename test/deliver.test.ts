import { afterEach, describe, expect, it } from 'vitest';
import { isoTime } from '../src/deliver.js';
import {
  createWebhookDispatcher,
  type DeliveryRequest,
  type Transport,
  type TransportSendOptions,
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

describe('deliverer: attempt deadline', () => {
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
    const dispatcher = await dispatcherWith(transport, { timeoutMs: 60, retry: 0, concurrency: 16 });

    const results = (
      await Promise.all(Array.from({ length: 40 }, (_, i) => dispatcher.emit(event({ id: i }))))
    ).flat();

    expect(results).toHaveLength(40);
    expect(results.every((r) => r.error?.code === 'TIMEOUT' && r.attempts === 1)).toBe(true);
    expect(calls).toHaveLength(40);
  });
});

describe('deliverer: close deadline', () => {
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

describe('deliverer: body size limit', () => {
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

describe('isoTime', () => {
  it('formats like Date#toISOString, whatever the order of the times it is given', () => {
    const times = [
      0, 1, 999, 1000, 1001, 59_999, 1.5, 1_700_000_000_123, 1_700_000_000_999, 1_700_000_001_000,
    ];
    for (let i = 0; i < 2000; i++) times.push(Math.floor(Math.random() * 253_402_300_800_000));
    for (let i = 0; i < 2000; i++) times.push(1_700_000_000_000 + Math.floor(Math.random() * 5000));
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('falls back to Date#toISOString outside years 1970-9999, and throws like it for an invalid time', () => {
    for (const ms of [-1, -86_400_000, 253_402_300_800_000, 8.64e15]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});

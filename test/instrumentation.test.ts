import { describe, expect, it } from 'vitest';
import { OptionsError } from '../src/core/errors.js';
import type { DeliveryResult } from '../src/core/types.js';
import {
  type AttemptInfo,
  type Instrumentation,
  type InstrumentationHook,
  safeInstrumentation,
} from '../src/delivery/instrumentation.js';
import { createWebhookDispatcher } from '../src/index.js';
import { startReceiver } from './helpers/receiver.js';

const attempt: AttemptInfo = {
  emitContext: undefined,
  deliveryId: 'msg_w_e',
  webhookId: 'w',
  eventId: 'e',
  attempt: 1,
  url: 'https://example.com/',
  method: 'POST',
};
const ended = { ok: true, status: 200, durationMs: 1, retry: false };
const result: DeliveryResult = {
  deliveryId: 'msg_w_e',
  webhookId: 'w',
  eventId: 'e',
  ok: false,
  outcome: 'failed',
  attempts: 2,
  status: 503,
  error: { code: 'HTTP_STATUS', message: 'HTTP 503' },
  durationMs: 3,
};
const gauges = { queued: 0, queuedBytes: 0, inFlight: 0, lanesOpen: 0, circuitsOpen: 0 };

function wrap(instrumentation: Instrumentation | undefined) {
  const errors: { hook: InstrumentationHook; error: unknown }[] = [];
  const safe = safeInstrumentation(instrumentation, (error, hook) => errors.push({ hook, error }));
  return { safe, errors };
}

describe('safeInstrumentation()', () => {
  it('gives no-op hooks when there is no instrumentation', () => {
    const { safe, errors } = wrap(undefined);
    expect(safe.enabled).toBe(false);
    expect(safe.onEmit({ eventId: 'e', webhooks: 1 })).toBeUndefined();
    const scope = safe.onAttempt(attempt);
    expect(scope.headers).toBeUndefined();
    scope.end(ended);
    safe.onResult(result);
    safe.gauges(() => gauges);
    expect(errors).toEqual([]);
  });

  it('calls the hooks that are there, with `this` bound, and no-ops for the rest', () => {
    const calls: string[] = [];
    const instrumentation = {
      prefix: 'otel',
      onEmit(this: { prefix: string }) {
        calls.push(`${this.prefix}:emit`);
        return { traceparent: 'x' };
      },
    };
    const { safe } = wrap(instrumentation);
    expect(safe.enabled).toBe(true);
    expect(safe.onEmit({ eventId: 'e', webhooks: 1 })).toEqual({ traceparent: 'x' });
    safe.onAttempt(attempt).end(ended);
    safe.onResult(result);
    expect(calls).toEqual(['otel:emit']);
  });

  it('passes what the hooks return and calls end() once, however often the engine calls it', () => {
    const ends: unknown[] = [];
    const { safe } = wrap({
      onAttempt: () => ({ headers: { traceparent: '00-abc' }, end: (outcome) => ends.push(outcome) }),
    });
    const scope = safe.onAttempt(attempt);
    expect(scope.headers).toEqual({ traceparent: '00-abc' });
    scope.end(ended);
    scope.end({ ...ended, ok: false });
    expect(ends).toEqual([ended]);
  });

  it('reports a hook that throws and goes on', () => {
    const boom = (hook: string) => () => {
      throw new Error(`${hook} failed`);
    };
    const { safe, errors } = wrap({
      onEmit: boom('onEmit'),
      onAttempt: boom('onAttempt'),
      onResult: boom('onResult'),
      gauges: boom('gauges'),
    });
    expect(safe.onEmit({ eventId: 'e', webhooks: 1 })).toBeUndefined();
    const scope = safe.onAttempt(attempt);
    expect(scope.headers).toBeUndefined();
    expect(() => scope.end(ended)).not.toThrow();
    safe.onResult(result);
    safe.gauges(() => gauges);
    expect(errors.map(({ hook, error }) => `${hook}: ${(error as Error).message}`)).toEqual([
      'onEmit: onEmit failed',
      'onAttempt: onAttempt failed',
      'onResult: onResult failed',
      'gauges: gauges failed',
    ]);
  });

  it('reports an end() that throws or rejects, and a rejecting onResult', async () => {
    const { safe, errors } = wrap({
      onAttempt: () => ({
        end: () => {
          throw new Error('end threw');
        },
      }),
      onResult: async () => {
        throw new Error('onResult rejected');
      },
    });
    safe.onAttempt(attempt).end(ended);
    safe.onResult(result);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.map(({ hook }) => hook)).toEqual(['end', 'onResult']);
  });

  it('survives an onError that throws', () => {
    const safe = safeInstrumentation(
      {
        onEmit: () => {
          throw new Error('hook');
        },
      },
      () => {
        throw new Error('logger');
      },
    );
    expect(() => safe.onEmit({ eventId: 'e', webhooks: 1 })).not.toThrow();
  });

  it('treats an unusable onAttempt answer as none', () => {
    const answers: unknown[] = [
      42,
      { end: 'not a function' },
      {
        get end() {
          throw new Error('getter');
        },
      },
    ];
    const { safe, errors } = wrap({ onAttempt: () => answers.shift() as never });
    for (let i = 0; i < 3; i++) {
      const scope = safe.onAttempt(attempt);
      expect(scope.headers).toBeUndefined();
      expect(() => scope.end(ended)).not.toThrow();
    }
    expect(errors.map(({ hook }) => hook)).toEqual(['onAttempt', 'onAttempt', 'onAttempt']);
  });

  it('drops headers that are invalid or reserved, so a hook cannot forge a signature or break the request', () => {
    const headerSets: unknown[] = [
      { 'x-ld-signature': 'forged' },
      { 'webhook-id': 'other' },
      { traceparent: 'a\r\nX-Injected: 1' },
      { 'bad name': 'x' },
      'traceparent: x',
      {},
    ];
    const { safe, errors } = wrap({ onAttempt: () => ({ headers: headerSets.shift() as never, end() {} }) });
    for (let i = 0; i < 6; i++) expect(safe.onAttempt(attempt).headers).toBeUndefined();
    expect(errors).toHaveLength(5);
    expect((errors[0]!.error as Error).message).toMatch(
      /^Expected `instrumentation\.onAttempt\(\)\.headers\["x-ld-signature"\]` to be a header a webhook may set/,
    );
  });

  it('gives onResult a copy: a hook cannot change what emit() resolves with', () => {
    const { safe } = wrap({
      onResult(seen) {
        seen.ok = true;
        (seen.error as { code: string }).code = 'CHANGED';
      },
    });
    safe.onResult(result);
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('HTTP_STATUS');
  });

  it('refuses an instrumentation that is not an object of functions, naming the field', () => {
    const refusal = (value: unknown) => {
      try {
        safeInstrumentation(value as Instrumentation, () => {});
      } catch (error) {
        expect(error).toBeInstanceOf(OptionsError);
        return `${(error as OptionsError).field}: ${(error as Error).message}`;
      }
      return 'accepted';
    };
    expect(refusal(() => {})).toBe(
      'instrumentation: Expected `instrumentation` to be an object of hooks (onEmit, onAttempt, onResult, gauges), got a function',
    );
    expect(refusal({ onAttempt: true })).toBe(
      'instrumentation.onAttempt: Expected `instrumentation.onAttempt` to be a function, got true',
    );
    expect(
      refusal({
        get onEmit() {
          throw new Error('nope');
        },
      }),
    ).toBe('instrumentation.onEmit: Expected `instrumentation.onEmit` to be readable, got Error: nope');
    expect(refusal({})).toBe('accepted');
  });
});

describe('instrumentation through createWebhookDispatcher()', () => {
  it('a hook that throws changes no outcome and is logged', async () => {
    const receiver = await startReceiver(() => 200);
    const errors: string[] = [];
    const boom = () => {
      throw new Error('telemetry is down');
    };
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      logger: { error: (message: string) => errors.push(message) },
      instrumentation: {
        onEmit: boom,
        onAttempt: () => ({ end: boom }),
        onResult: boom,
        gauges: boom,
      },
    });
    try {
      await dispatcher.webhooks.create({ url: receiver.url, events: ['invoice.paid'] });
      const [result] = await dispatcher.emit({ id: 'evt_1', type: 'invoice.paid' });
      expect(result).toMatchObject({ outcome: 'delivered', attempts: 1 });
      expect(receiver.requests).toHaveLength(1);
      expect(errors.length).toBeGreaterThanOrEqual(4);
    } finally {
      await dispatcher.close();
      await receiver.close();
    }
  });
});

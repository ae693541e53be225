import { describe, expect, it } from 'vitest';
import { createRetryPolicy, parseRetryAfter } from '../src/retry.js';

describe('createRetryPolicy', () => {
  it('defaults to one retry after any failure', () => {
    const policy = createRetryPolicy(undefined);
    expect(policy.retries).toBe(1);
    for (const outcome of [
      { attempt: 1, code: 'ECONNREFUSED' },
      { attempt: 1, code: 'TIMEOUT' },
      { attempt: 1, status: 404, code: 'HTTP_STATUS' },
      { attempt: 1, status: 302, code: 'REDIRECT' },
      { attempt: 1, status: 503, code: 'HTTP_STATUS' },
    ]) {
      expect(policy.shouldRetry(outcome)).toBe(true);
    }
  });

  it('never retries 410 Gone', () => {
    expect(createRetryPolicy(3).shouldRetry({ attempt: 1, status: 410, code: 'HTTP_STATUS' })).toBe(false);
  });

  it("retries only 5xx and network errors with retryOn: 'server-errors' (Unleash)", () => {
    const policy = createRetryPolicy({ retryOn: 'server-errors' });
    expect(policy.shouldRetry({ attempt: 1, status: 500, code: 'HTTP_STATUS' })).toBe(true);
    expect(policy.shouldRetry({ attempt: 1, code: 'ECONNRESET' })).toBe(true);
    expect(policy.shouldRetry({ attempt: 1, status: 400, code: 'HTTP_STATUS' })).toBe(false);
    expect(policy.shouldRetry({ attempt: 1, status: 429, code: 'HTTP_STATUS' })).toBe(false);
  });

  it('backs off exponentially with jitter, capped', () => {
    const low = createRetryPolicy({ delayMs: 100, jitter: 0.2, maxDelayMs: 300 }, () => 0);
    const high = createRetryPolicy({ delayMs: 100, jitter: 0.2, maxDelayMs: 300 }, () => 1);
    expect([low.delayFor(1), low.delayFor(2), low.delayFor(5)]).toEqual([80, 160, 240]);
    expect([high.delayFor(1), high.delayFor(2), high.delayFor(5)]).toEqual([120, 240, 360]);
  });

  it('honours Retry-After, clamped to maxRetryAfterMs', () => {
    const policy = createRetryPolicy({ delayMs: 5, maxRetryAfterMs: 2000 });
    expect(policy.delayFor(1, '1')).toBe(1000);
    expect(policy.delayFor(1, '120')).toBe(2000);
    expect(createRetryPolicy({ delayMs: 5, jitter: 0, respectRetryAfter: false }).delayFor(1, '1')).toBe(5);
  });

  it('refuses bad options naming the field', () => {
    expect(() => createRetryPolicy(-1)).toThrow(/`retry.retries`/);
    expect(() => createRetryPolicy({ retries: 1.5 })).toThrow(/integer/);
    expect(() => createRetryPolicy({ retryOn: 'sometimes' as never })).toThrow(/`retry.retryOn`/);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

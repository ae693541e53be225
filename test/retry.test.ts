import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS } from '../src/core/option-checks.js';
import { createRetryPolicy, parseRetryAfter, SVIX_RETRY_SCHEDULE } from '../src/delivery/retry.js';

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

  it('reads a Retry-After HTTP date against the injected clock', () => {
    const now = () => Date.parse('2026-01-01T00:00:00Z');
    const policy = createRetryPolicy({ maxRetryAfterMs: 60_000 }, { now });
    expect(policy.delayFor(1, 'Thu, 01 Jan 2026 00:00:20 GMT')).toBe(20_000);
    expect(policy.delayFor(1, 'Wed, 31 Dec 2025 23:00:00 GMT')).toBe(0);
  });

  it('refuses bad options naming the field', () => {
    expect(() => createRetryPolicy(-1)).toThrow(/`retry.retries`/);
    expect(() => createRetryPolicy({ retries: 1.5 })).toThrow(/integer/);
    expect(() => createRetryPolicy({ retryOn: 'sometimes' as never })).toThrow(/`retry.retryOn`/);
  });
});

describe('retry.schedule', () => {
  const waits = (policy: ReturnType<typeof createRetryPolicy>) =>
    Array.from({ length: policy.retries }, (_, i) => policy.delayFor(i + 1));

  it('waits exactly as scheduled without jitter; retries = schedule.length', () => {
    const policy = createRetryPolicy({ schedule: [0, 10, 250, 3_600_000], jitter: 0 });
    expect(policy.retries).toBe(4);
    expect(waits(policy)).toEqual([0, 10, 250, 3_600_000]);
    expect(policy.schedule).toEqual([0, 10, 250, 3_600_000]);
    expect(Object.isFrozen(policy.schedule)).toBe(true);
    expect(createRetryPolicy({ schedule: [] }).retries).toBe(0);
  });

  it('spreads each wait by jitter, ±20% by default', () => {
    const schedule = [1000, 60_000];
    expect(waits(createRetryPolicy({ schedule }, () => 0))).toEqual([800, 48_000]);
    expect(waits(createRetryPolicy({ schedule }, () => 1))).toEqual([1200, 72_000]);
    expect(waits(createRetryPolicy({ schedule, jitter: 0.5 }, { random: () => 0 }))).toEqual([500, 30_000]);
    // A random source that returns garbage gives the scheduled wait, never NaN.
    expect(waits(createRetryPolicy({ schedule }, () => Number.NaN))).toEqual([1000, 60_000]);
  });

  it('is not capped by maxDelayMs or the default maxRetryAfterMs', () => {
    const policy = createRetryPolicy({ schedule: [36_000_000], jitter: 0 });
    expect(policy.delayFor(1)).toBe(36_000_000);
    expect(() => createRetryPolicy({ schedule: [1000], maxDelayMs: 5 })).toThrow(/`retry.maxDelayMs`/);
    // A jittered wait never exceeds the longest timer.
    expect(createRetryPolicy({ schedule: [MAX_TIMER_MS] }, () => 1).delayFor(1)).toBe(MAX_TIMER_MS);
  });

  it('lets Retry-After lengthen a scheduled wait (bounded), never shorten it', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const policy = createRetryPolicy({ schedule: [5000, 300_000], jitter: 0 }, { now: () => now });
    expect(policy.delayFor(1, '1')).toBe(5000); // shorter: the schedule wins
    expect(policy.delayFor(1, '30')).toBe(30_000); // longer: honoured
    expect(policy.delayFor(1, '3600')).toBe(60_000); // capped at max(60 s, 2 x 5 s)
    expect(policy.delayFor(2, '3600')).toBe(600_000); // capped at 2 x 300 s
    expect(policy.delayFor(1, 'Thu, 01 Jan 2026 00:00:45 GMT')).toBe(45_000); // read against the injected clock
    expect(policy.delayFor(1, 'garbage')).toBe(5000);
    const explicit = createRetryPolicy({ schedule: [5000], jitter: 0, maxRetryAfterMs: 7_200_000 });
    expect(explicit.delayFor(1, '3600')).toBe(3_600_000);
    expect(explicit.delayFor(1, '99999')).toBe(7_200_000);
    const low = createRetryPolicy({ schedule: [5000], jitter: 0, maxRetryAfterMs: 1000 });
    expect(low.delayFor(1, '3600')).toBe(5000); // the cap never shortens the schedule either
    const ignoring = createRetryPolicy({ schedule: [5000], jitter: 0, respectRetryAfter: false });
    expect(ignoring.delayFor(1, '30')).toBe(5000);
  });

  it('reads the last wait for a retry past the schedule (defensive)', () => {
    const policy = createRetryPolicy({ schedule: [10, 20], jitter: 0 });
    expect(policy.delayFor(3)).toBe(20);
    expect(policy.delayFor(0)).toBe(10);
  });

  it('has a Svix preset: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (8 attempts in about 27.6 h)', () => {
    expect(SVIX_RETRY_SCHEDULE).toEqual([
      5_000,
      5 * 60_000,
      30 * 60_000,
      2 * 3_600_000,
      5 * 3_600_000,
      10 * 3_600_000,
      10 * 3_600_000,
    ]);
    expect(Object.isFrozen(SVIX_RETRY_SCHEDULE)).toBe(true);
    const policy = createRetryPolicy({ schedule: SVIX_RETRY_SCHEDULE, jitter: 0 });
    expect(policy.retries + 1).toBe(8);
    expect(waits(policy).reduce((a, b) => a + b, 0)).toBe(27 * 3_600_000 + 35 * 60_000 + 5_000);
  });

  it('refuses bad schedules naming the field', () => {
    expect(() => createRetryPolicy({ schedule: 'fast' as never })).toThrow(/`retry.schedule` to be an array/);
    expect(() => createRetryPolicy({ schedule: Array(101).fill(1) })).toThrow(
      /at most 100 waits in ms, got 101 waits/,
    );
    expect(() => createRetryPolicy({ schedule: [1, -1] })).toThrow(/`retry.schedule\[1\]`.*got -1/);
    expect(() => createRetryPolicy({ schedule: [Number.NaN] })).toThrow(/`retry.schedule\[0\]`/);
    expect(() => createRetryPolicy({ schedule: [Number.POSITIVE_INFINITY] })).toThrow(
      /`retry.schedule\[0\]`/,
    );
    expect(() => createRetryPolicy({ schedule: [MAX_TIMER_MS + 1] })).toThrow(/at most 2147483647/);
    expect(() => createRetryPolicy({ schedule: ['5' as never] })).toThrow(/`retry.schedule\[0\]`/);
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested
    expect(() => createRetryPolicy({ schedule: [1, , 3] as number[] })).toThrow(
      /`retry.schedule\[1\]`.*got null/,
    );
    expect(() => createRetryPolicy({ schedule: [1], retries: 3 })).toThrow(/`retry.retries` to be left out/);
    expect(() => createRetryPolicy({ schedule: [1], delayMs: 3 })).toThrow(/`retry.delayMs`/);
    expect(() => createRetryPolicy({ respectRetryAfter: 'yes' as never })).toThrow(
      /`retry.respectRetryAfter`/,
    );
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

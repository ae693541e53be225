import { describe, expect, it } from 'vitest';
import { SVIX_RETRY_SCHEDULE, verifySignature } from '../src/index.js';
import { startReceiver } from './helpers/receiver.js';
import { open, setup } from './helpers/setup.js';

let seq = 0;

/** Resolves once `check` answers true (polled every 25 ms), failing after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
const event = () => ({ id: `r${++seq}`, type: 'flag-updated' });

describe('retry.schedule', () => {
  it('a receiver down for N scheduled attempts gets the delivery on attempt N+1, each wait as scheduled', async () => {
    const schedule = [100, 250, 400];
    const times: number[] = [];
    const { receiver, dispatcher } = await setup(
      (_req, n) => {
        times.push(performance.now());
        return n < 3 ? 503 : 200;
      },
      { retry: { schedule, jitter: 0 }, health: false },
    );
    await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const [result] = await dispatcher.emit(event());
    expect(result).toMatchObject({ ok: true, attempts: 4, status: 200 });
    for (let i = 0; i < schedule.length; i++) {
      const gap = (times[i + 1] as number) - (times[i] as number);
      expect(gap).toBeGreaterThanOrEqual((schedule[i] as number) - 10);
      expect(gap).toBeLessThan((schedule[i] as number) + 400);
    }
    // Every attempt was the same delivery.
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('ships Svix\u2019s schedule: 7 retries over about 27.6 hours', () => {
    expect(SVIX_RETRY_SCHEDULE).toHaveLength(7);
    const hours = SVIX_RETRY_SCHEDULE.reduce((a, b) => a + b, 0) / 3_600_000;
    expect(hours).toBeGreaterThan(27);
    expect(hours).toBeLessThan(28);
  });
});

describe('deliveries.redeliver', () => {
  it('sends a failed delivery again: same body and webhook-id, a fresh signature, recorded as a new attempt', async () => {
    let up = false;
    const { receiver, dispatcher } = await setup(() => (up ? 200 : 500), { retry: 0, health: false });
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      events: ['*'],
      secret: 'first-secret',
    });
    const [failed] = await dispatcher.emit(event());
    expect(failed).toMatchObject({ ok: false, attempts: 1 });

    up = true;
    // The webhook as it is now: a new secret signs the redelivery.
    await dispatcher.webhooks.update(hook.id, { secret: 'second-secret' });
    const again = await dispatcher.deliveries.redeliver(failed?.deliveryId as string);
    expect(again).toMatchObject({ ok: true, deliveryId: failed?.deliveryId, attempts: 2 });
    const [first, second] = receiver.requests;
    expect(second?.body).toBe(first?.body);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect(
      verifySignature(second?.body as string, second?.headers['x-ld-signature'] as string, 'second-secret'),
    ).toBe(true);

    const record = await dispatcher.deliveries.get(failed?.deliveryId as string);
    expect(record?.status).toBe('delivered');
    expect(record?.attempts.map((a) => [a.attempt, a.ok, a.redelivery ?? false])).toEqual([
      [2, true, true],
      [1, false, false],
    ]);
    // The secret never reaches the log, not even inside the kept body.
    expect(JSON.stringify(record)).not.toContain('second-secret');
  });

  it('sends a delivered one again on request, and refuses unknown, deleted and switched-off cases', async () => {
    const { receiver, dispatcher } = await setup(() => 200, { retry: 0 });
    const hook = await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const [done] = await dispatcher.emit(event());
    expect(await dispatcher.deliveries.redeliver(done?.deliveryId as string)).toMatchObject({
      ok: true,
      attempts: 2,
    });
    expect(receiver.requests).toHaveLength(2);

    await expect(dispatcher.deliveries.redeliver('msg_nope')).rejects.toMatchObject({
      code: 'ERR_DELIVERY_NOT_FOUND',
    });

    await dispatcher.webhooks.update(hook.id, { on: false });
    await expect(dispatcher.deliveries.redeliver(done?.deliveryId as string)).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_DISABLED',
    });
    expect(await dispatcher.deliveries.redeliver(done?.deliveryId as string, { force: true })).toMatchObject({
      ok: true,
      attempts: 3,
    });
    expect(receiver.requests).toHaveLength(3);

    await dispatcher.webhooks.delete(hook.id);
    await expect(dispatcher.deliveries.redeliver(done?.deliveryId as string)).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_NOT_FOUND',
    });
  });
});

describe('deliveries.recover', () => {
  it('resends exactly the deliveries of the window whose latest outcome is a failure', async () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    const failing = new Set<string>();
    const receiver = await startReceiver((request) => (failing.has(JSON.parse(request.body).id) ? 500 : 200));
    open.push(receiver);
    const { dispatcher } = await setup(undefined, { retry: 0, health: false, now: () => now });
    const hook = await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const emitAt = async (minute: number, id: string, fail: boolean) => {
      now = Date.parse('2026-03-01T10:00:00Z') + minute * 60_000;
      if (fail) failing.add(id);
      return (await dispatcher.emit({ id, type: 't' }))[0];
    };
    await emitAt(0, 'before-window', true);
    await emitAt(10, 'ok-1', false);
    const failed1 = await emitAt(11, 'fail-1', true);
    await emitAt(12, 'fail-2', true);
    const fixed = await emitAt(13, 'fail-then-fixed', true);
    await emitAt(30, 'after-window', true);
    failing.clear();
    now = Date.parse('2026-03-01T10:40:00Z');
    await dispatcher.deliveries.redeliver(fixed?.deliveryId as string);
    const sentBefore = receiver.requests.length;

    const queued = await dispatcher.deliveries.recover(hook.id, {
      since: new Date('2026-03-01T10:05:00Z'),
      until: Date.parse('2026-03-01T10:20:00Z'),
    });
    expect(queued).toBe(2);
    await receiver.waitFor(sentBefore + 2);
    expect(
      receiver.requests
        .slice(sentBefore)
        .map((r) => JSON.parse(r.body).id)
        .sort(),
    ).toEqual(['fail-1', 'fail-2']);
    const stillFailed = async () =>
      (
        await dispatcher.deliveries.list(hook.id, {
          status: 'failed',
          since: Date.parse('2026-03-01T10:05:00Z'),
        })
      ).items.map((record) => record.eventId);
    await until(async () => (await stillFailed()).length === 1);
    expect(await stillFailed()).toEqual(['after-window']);
    expect((await dispatcher.deliveries.get(failed1?.deliveryId as string))?.status).toBe('delivered');
    // From 10:05 on, without `until`: only the one after the first window is still failed.
    expect(await dispatcher.deliveries.recover(hook.id, { since: Date.parse('2026-03-01T10:05:00Z') })).toBe(
      1,
    );
  });

  it('answers with the count at once while the receiver is still down; the re-sends go on through the lane', async () => {
    let up = false;
    let recovering = false;
    const { receiver, dispatcher } = await setup(() => (up ? 200 : 503), {
      // The emits fail at once; the re-sends retry for seconds (what `recover` used to wait for).
      retry: { retries: 3, delayMs: 2_000, jitter: 0, retryOn: () => recovering },
    });
    const hook = await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const since = Date.now() - 1000;
    const emitted = (await Promise.all([1, 2, 3].map(() => dispatcher.emit(event())))).flat();
    expect(emitted.map((result) => result.outcome)).toEqual(['failed', 'failed', 'failed']);
    recovering = true;

    const started = performance.now();
    const queued = await dispatcher.deliveries.recover(hook.id, { since });
    // It used to await every re-send: about 80 s here (retry waits and circuit probes).
    expect(performance.now() - started).toBeLessThan(2000);
    expect(queued).toBe(3);
    up = true;
    // The re-sends go on: each delivery ends delivered, recorded in the log as usual.
    for (const { deliveryId } of emitted) {
      await until(async () => (await dispatcher.deliveries.get(deliveryId))?.status === 'delivered', 15_000);
    }
    expect(receiver.requests.length).toBeGreaterThanOrEqual(6);
  }, 60_000);

  it('re-emitting an event stays idempotent: the same delivery id, not a new delivery', async () => {
    const { receiver, dispatcher } = await setup(() => 200, { retry: 0 });
    await dispatcher.webhooks.create({ url: receiver.url, events: ['*'] });
    const e = event();
    const [a] = await dispatcher.emit(e);
    const [b] = await dispatcher.emit(e);
    expect(b?.deliveryId).toBe(a?.deliveryId);
  });
});

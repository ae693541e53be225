import { describe, expect, it } from 'vitest';
import type { DeliveryResult } from '../src/index.js';
import { type DeliveryJob, memoryQueue } from '../src/queue.js';

const job = (n: number): DeliveryJob => ({
  deliveryId: `d${n}`,
  webhookId: 'w',
  eventId: `e${n}`,
  event: {},
  eventBody: '{}',
});
const ok = (j: DeliveryJob): DeliveryResult => ({
  deliveryId: j.deliveryId,
  webhookId: j.webhookId,
  eventId: j.eventId,
  ok: true,
  outcome: 'delivered',
  attempts: 1,
  durationMs: 0,
});

describe('memoryQueue', () => {
  it('runs at most `concurrency` jobs at once and finishes every job', async () => {
    const queue = memoryQueue({ concurrency: 2 });
    const reported: DeliveryResult[] = [];
    let running = 0;
    let peak = 0;
    queue.start(
      async (j) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return ok(j);
      },
      (r) => reported.push(r),
    );
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => queue.enqueue(job(i))));
    expect(peak).toBe(2);
    expect(results.map((r) => r.deliveryId)).toEqual(Array.from({ length: 10 }, (_, i) => `d${i}`));
    // Every final outcome is reported exactly once.
    expect(reported.map((r) => r.deliveryId).sort()).toEqual(results.map((r) => r.deliveryId).sort());
  });

  it('fails jobs beyond maxQueued with QUEUE_FULL instead of keeping them', async () => {
    const queue = memoryQueue({ concurrency: 1, maxQueued: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    queue.start(
      async (j) => {
        await gate;
        return ok(j);
      },
      () => {},
    );
    const pending = [0, 1, 2, 3, 4].map((i) => queue.enqueue(job(i)));
    const fourth = await pending[3];
    expect(fourth).toMatchObject({
      ok: false,
      outcome: 'failed',
      attempts: 0,
      error: { code: 'QUEUE_FULL' },
    });
    release();
    const results = await Promise.all(pending);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false]);
  });

  it('gives a job whose worker throws a failed outcome', async () => {
    const queue = memoryQueue();
    queue.start(
      async () => {
        throw new Error('boom');
      },
      () => {},
    );
    expect(await queue.enqueue(job(1))).toMatchObject({
      ok: false,
      error: { code: 'TRANSPORT_ERROR', message: 'boom' },
    });
  });

  it('close() resolves once the running jobs are done', async () => {
    const queue = memoryQueue({ concurrency: 1 });
    const done: string[] = [];
    queue.start(
      async (j) => {
        await new Promise((r) => setTimeout(r, 10));
        done.push(j.deliveryId);
        return ok(j);
      },
      () => {},
    );
    void queue.enqueue(job(1));
    void queue.enqueue(job(2));
    await queue.close();
    expect(done).toEqual(['d1', 'd2']);
    // After close, jobs are refused with an outcome instead of running behind the caller's back.
    expect(await queue.enqueue(job(3))).toMatchObject({ ok: false, attempts: 0, error: { code: 'ABORTED' } });
    expect(done).toEqual(['d1', 'd2']);
  });

  it('refuses a bad concurrency', () => {
    expect(() => memoryQueue({ concurrency: 0 })).toThrow(/`concurrency`/);
  });
});

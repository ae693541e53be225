import { describe, expect, it } from 'vitest';
import { type DeliveryJob, memoryQueue } from '../src/delivery/queue.js';
import type { DeliveryResult } from '../src/index.js';

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
  status: 200,
  attempts: 1,
  durationMs: 0,
});

describe('memoryQueue', () => {
  it('hands every job to the worker and reports each final outcome exactly once', async () => {
    const queue = memoryQueue();
    const reported: DeliveryResult[] = [];
    queue.start(
      async (j) => ok(j),
      (r) => reported.push(r),
    );
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => queue.enqueue(job(i))));
    expect(results.map((r) => r.deliveryId)).toEqual(Array.from({ length: 10 }, (_, i) => `d${i}`));
    expect(reported.map((r) => r.deliveryId).sort()).toEqual(results.map((r) => r.deliveryId).sort());
  });

  it('gives a job whose worker throws a failed outcome', async () => {
    const queue = memoryQueue();
    const reported: DeliveryResult[] = [];
    queue.start(
      async () => {
        throw new Error('worker bug');
      },
      (r) => reported.push(r),
    );
    const result = await queue.enqueue(job(1));
    expect(result).toMatchObject({
      ok: false,
      outcome: 'failed',
      error: { code: 'TRANSPORT_ERROR', message: 'worker bug' },
    });
    expect(reported).toEqual([result]);
  });

  it('close() waits for the running jobs, then refuses new ones with ABORTED', async () => {
    const queue = memoryQueue();
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
    const running = queue.enqueue(job(1));
    let closed = false;
    const closing = queue.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(await running).toMatchObject({ ok: true });
    expect(await queue.enqueue(job(2))).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
  });

  it('close() twice resolves both once the last running job ends; a worker that throws at once is not waited for', async () => {
    const queue = memoryQueue();
    const releases: (() => void)[] = [];
    queue.start(
      (j) => {
        if (j.deliveryId === 'd0') throw new Error('sync worker bug');
        return new Promise<DeliveryResult>((resolve) => releases.push(() => resolve(ok(j))));
      },
      () => {},
    );
    const thrown = queue.enqueue(job(0));
    const running = [1, 2, 3].map((n) => queue.enqueue(job(n)));
    expect(await thrown).toMatchObject({
      ok: false,
      error: { code: 'TRANSPORT_ERROR', message: 'sync worker bug' },
    });
    let closes = 0;
    const first = queue.close().then(() => closes++);
    const second = queue.close().then(() => closes++);
    for (const release of releases.slice(0, 2)) release();
    await Promise.all(running.slice(0, 2));
    await new Promise((r) => setTimeout(r, 20));
    expect(closes).toBe(0);
    (releases[2] as () => void)();
    await Promise.all([first, second]);
    expect(closes).toBe(2);
    expect(await running[2]).toMatchObject({ ok: true });
  });

  it('a reporter that throws cannot make enqueue reject', async () => {
    const queue = memoryQueue();
    queue.start(
      async (j) => ok(j),
      () => {
        throw new Error('reporter bug');
      },
    );
    await expect(queue.enqueue(job(1))).resolves.toMatchObject({ ok: true });
  });
});

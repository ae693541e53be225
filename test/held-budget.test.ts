import { describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../src/core/types.js';
import { HeldBudget, type HeldJob } from '../src/delivery/held-budget.js';
import type { DeliveryJob } from '../src/delivery/queue.js';

function held(event: WebhookEvent, eventBody: string, body?: string): HeldJob {
  const job: DeliveryJob = { deliveryId: 'd', webhookId: 'w', eventId: 'e', event, eventBody };
  if (body !== undefined) job.body = body;
  return { job, held: false, ownBytes: 0 };
}

describe('HeldBudget', () => {
  it('counts the payload of one emit once for all of its jobs', () => {
    const budget = new HeldBudget(100, 1_000_000);
    const event = {};
    const first = held(event, 'x'.repeat(10_000));
    const second = held(event, 'x'.repeat(10_000));
    expect(budget.admit(first, 0)).toBeUndefined();
    const afterOne = budget.bytes;
    expect(budget.admit(second, 0)).toBeUndefined();
    // The second job adds only its own overhead, not the 10,000-byte payload again.
    expect(budget.bytes - afterOne).toBeLessThan(10_000);
    expect(budget.held).toBe(2);
    budget.release(first);
    budget.release(second);
    expect(budget.bytes).toBe(0);
    expect(budget.held).toBe(0);
  });

  it('refuses with QUEUE_FULL past maxQueued waiting jobs, but not jobs in flight', () => {
    const budget = new HeldBudget(2, 1_000_000);
    expect(budget.admit(held({}, '{}'), 0)).toBeUndefined();
    expect(budget.admit(held({}, '{}'), 0)).toBeUndefined();
    const refused = budget.admit(held({}, '{}'), 0);
    expect(refused?.error?.code).toBe('QUEUE_FULL');
    expect(refused?.error?.message).toContain('2 waiting');
    // With one of the two in flight, one more may wait.
    expect(budget.admit(held({}, '{}'), 1)).toBeUndefined();
  });

  it('refuses with QUEUE_FULL past maxQueuedBytes, yet always takes a first job', () => {
    const budget = new HeldBudget(100, 5_000);
    const big = held({}, 'x'.repeat(10_000));
    expect(budget.admit(big, 0)).toBeUndefined();
    const refused = budget.admit(held({}, 'y'.repeat(10)), 0);
    expect(refused?.error?.code).toBe('QUEUE_FULL');
    expect(refused?.error?.message).toContain('of 5000 bytes held');
  });

  it('counts a rendered body held across retries, and gives it back on release', () => {
    const budget = new HeldBudget(100, 1_000_000);
    const entry = held({}, '{}');
    budget.admit(entry, 0);
    const before = budget.bytes;
    budget.grow(entry, 4_096);
    expect(budget.bytes).toBe(before + 4_096);
    budget.release(entry);
    expect(budget.bytes).toBe(0);
    // A second release of the same job changes nothing.
    budget.release(entry);
    expect(budget.held).toBe(0);
  });

  it('drained() resolves once the last held job is released', async () => {
    const budget = new HeldBudget(100, 1_000_000);
    await budget.drained();
    const entry = held({}, '{}');
    budget.admit(entry, 0);
    let drained = false;
    const waiting = budget.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    budget.release(entry);
    await waiting;
    expect(drained).toBe(true);
  });
});

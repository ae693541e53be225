import { describe, expect, it } from 'vitest';
import type { DeliveryRef, DeliverySearch } from '../../src/extend.js';
import type { DeliveryLog, DeliveryRecord } from '../../src/index.js';
import { attemptOf, type LogFactory, T0 } from './delivery-log-contract.js';

const ids = (items: (DeliveryRecord | DeliveryRef)[]) => items.map((r) => r.deliveryId);

/** Every item of `read`, following nextCursor (a bounded log may answer short pages with a cursor). */
async function everyPage<T extends { deliveryId: string }>(
  read: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let pages = 0;
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    expect(++pages).toBeLessThan(1000);
  } while (cursor);
  return { items, pages };
}

function required<K extends 'search' | 'findFailed' | 'webhookStats'>(log: DeliveryLog, method: K) {
  const fn = log[method];
  expect(fn, `the log has ${method}`).toBeTypeOf('function');
  return (fn as (...args: unknown[]) => unknown).bind(log) as NonNullable<DeliveryLog[K]>;
}

/**
 * Three webhooks in two tenants plus one without a tenant; deliveries one second apart, oldest first:
 * a1 (w1, acme, failed), a2 (w2, acme, delivered), b1 (w3, beta, failed), n1 (w4, none, failed),
 * a3 (w1, acme, failed then delivered), a4 (w2, acme, failed), b2 (w3, beta, delivered), a5 (w1, acme, failed).
 */
async function recordFleet(log: DeliveryLog): Promise<void> {
  const plan: [string, string, string | undefined, boolean][] = [
    ['a1', 'w1', 'acme', false],
    ['a2', 'w2', 'acme', true],
    ['b1', 'w3', 'beta', false],
    ['n1', 'w4', undefined, false],
    ['a3', 'w1', 'acme', false],
    ['a4', 'w2', 'acme', false],
    ['b2', 'w3', 'beta', true],
    ['a5', 'w1', 'acme', false],
  ];
  for (const [i, [id, webhookId, tenant, ok]] of plan.entries()) {
    const extra = { ok, status: ok ? 200 : 500, ...(tenant === undefined ? {} : { tenant }) };
    await log.record(attemptOf(webhookId, id, T0 + i * 1000, extra));
  }
  await log.record(attemptOf('w1', 'a3', T0 + 60_000, { attempt: 2, tenant: 'acme' }));
}

/** The operator reads every log has alike: across webhooks, the failed ones to recover, a webhook's figures. */
export function crossWebhookContract(name: string, make: LogFactory): void {
  describe(`${name}: reads across webhooks (search, findFailed, webhookStats)`, () => {
    it('searches every webhook newest first, scoped by tenant, webhook and status', async () => {
      const { log } = await make({ perWebhook: 500 });
      await recordFleet(log);
      const search = required(log, 'search');
      const read = async (query: DeliverySearch) => ids((await search(query)).items);
      expect(await read({})).toEqual(['a5', 'b2', 'a4', 'a3', 'n1', 'b1', 'a2', 'a1']);
      expect(await read({ tenant: 'acme' })).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
      expect(await read({ tenant: 'acme', status: 'failed' })).toEqual(['a5', 'a4', 'a1']);
      expect(await read({ status: 'failed' })).toEqual(['a5', 'a4', 'n1', 'b1', 'a1']);
      expect(await read({ webhookId: 'w3' })).toEqual(['b2', 'b1']);
      expect(await read({ webhookId: 'w3', tenant: 'acme' })).toEqual([]);
      expect(await read({ tenant: 'nobody' })).toEqual([]);
      expect(await read({ since: T0 + 2000, until: T0 + 6000 })).toEqual(['a4', 'a3', 'n1', 'b1']);
      const [a5] = (await search({ tenant: 'acme', limit: 1 })).items;
      expect(a5).toMatchObject({ deliveryId: 'a5', webhookId: 'w1', tenant: 'acme', status: 'failed' });
      expect(a5!.attempts).toHaveLength(1);
    });

    it('pages a search with an opaque cursor: every delivery exactly once', async () => {
      const { log } = await make({ perWebhook: 500 });
      const expected: string[] = [];
      for (let i = 0; i < 25; i++) {
        const id = `s${String(i).padStart(2, '0')}`;
        // Ties on the same millisecond across webhooks; every other one of tenant t1.
        await log.record(
          attemptOf(`w${i % 3}`, id, T0 + Math.floor(i / 4), i % 2 === 0 ? { tenant: 't1' } : {}),
        );
        expected.unshift(id);
      }
      const search = required(log, 'search');
      const all = await everyPage((cursor) => search({ limit: 4, cursor }));
      expect(ids(all.items)).toEqual(expected);
      const t1 = await everyPage((cursor) => search({ tenant: 't1', limit: 3, cursor }));
      expect(ids(t1.items)).toEqual(expected.filter((id) => Number(id.slice(1)) % 2 === 0));
      expect((await search({ limit: 25 })).nextCursor).toBeUndefined();
    });

    it('finds every delivery still failed in a window, as references, paged and scoped', async () => {
      const { log } = await make({ perWebhook: 500 });
      await recordFleet(log);
      const findFailed = required(log, 'findFailed');
      const failed = await everyPage((cursor) => findFailed({ since: T0, limit: 2, cursor }));
      expect(ids(failed.items)).toEqual(['a5', 'a4', 'n1', 'b1', 'a1']);
      expect(failed.items[0]).toEqual({
        deliveryId: 'a5',
        webhookId: 'w1',
        tenant: 'acme',
        createdAt: new Date(T0 + 7000).toISOString(),
      });
      const acme = await everyPage((cursor) =>
        findFailed({ since: T0, until: T0 + 7000, tenant: 'acme', cursor }),
      );
      expect(ids(acme.items)).toEqual(['a4', 'a1']);
      expect(ids((await findFailed({ since: T0, webhookId: 'w4' })).items)).toEqual(['n1']);
      expect((await findFailed({ since: T0 + 8000 })).items).toEqual([]);
    });

    it("answers a webhook's figures: counts by latest outcome, percentiles of the latest attempt, last times", async () => {
      const { log } = await make({ perWebhook: 500 });
      const durations: [string, number, boolean][] = [
        ['x1', 10, true],
        ['x2', 20, true],
        ['x3', 40, false],
        ['x4', 100, false],
      ];
      for (const [i, [id, durationMs, ok]] of durations.entries())
        await log.record(attemptOf('ws', id, T0 + i * 1000, { durationMs, ok, status: ok ? 200 : 500 }));
      // x3 is sent again and delivered in 30 ms: it counts once, delivered, with its latest attempt's latency.
      await log.record(attemptOf('ws', 'x3', T0 + 10_000, { attempt: 2, durationMs: 30 }));
      await log.record(attemptOf('other', 'y1', T0, { durationMs: 5000, ok: false, status: 500 }));
      const stats = required(log, 'webhookStats');
      const all = await stats('ws');
      expect(all).toMatchObject({
        delivered: 3,
        failed: 1,
        successRate: 0.75,
        lastDeliveredAt: new Date(T0 + 10_000).toISOString(),
        lastFailedAt: new Date(T0 + 3000).toISOString(),
      });
      // [10, 20, 30, 100]: the median between 20 and 30, the 95th at 2.85 ranks.
      expect(all.p50Ms).toBeCloseTo(25, 6);
      expect(all.p95Ms).toBeCloseTo(30 + 70 * 0.85, 6);
      const recent = await stats('ws', { since: new Date(T0 + 2000) });
      expect(recent).toMatchObject({
        delivered: 1,
        failed: 1,
        successRate: 0.5,
        lastDeliveredAt: new Date(T0 + 10_000).toISOString(),
      });
      expect(recent.p50Ms).toBeCloseTo(65, 6);
      expect(await stats('nobody')).toEqual({
        delivered: 0,
        failed: 0,
        successRate: null,
        p50Ms: null,
        p95Ms: null,
        lastDeliveredAt: null,
        lastFailedAt: null,
      });
    });

    it('refuses bad search, findFailed and stats queries naming the field', async () => {
      const { log } = await make({});
      const bad: [() => Promise<unknown>, RegExp][] = [
        [() => required(log, 'search')({ tenant: 5 as never }), /`tenant` to be a non-empty string/],
        [() => required(log, 'search')({ webhookId: '' }), /`webhookId` to be a non-empty string/],
        [() => required(log, 'search')({ status: 'nope' as never }), /`status`/],
        [
          () => required(log, 'findFailed')({ since: 'yesterday' as never }),
          /`since` to be a Date or epoch ms/,
        ],
        [() => required(log, 'findFailed')({ limit: 1001 }), /`limit`/],
        [() => required(log, 'webhookStats')('w1', { since: Number.NaN }), /`since`/],
      ];
      for (const [call, message] of bad) {
        await expect(call()).rejects.toMatchObject({
          code: 'ERR_INVALID_OPTIONS',
          message: expect.stringMatching(message),
        });
      }
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { DeliveryAttempt } from '../../src/extend.js';
import type { DeliveryLog, DeliveryRecord } from '../../src/index.js';
import { crossWebhookContract } from './delivery-log-search-contract.js';

/** A log under test, made fresh for each test. */
export interface LogUnderTest {
  log: DeliveryLog;
  /** Lets `ms` pass for the log's retention (an injected clock starting at {@link T0}, or real time). */
  advance(ms: number): Promise<void>;
}

export type LogFactory = (options: { perWebhook?: number; maxAgeMs?: number }) => Promise<LogUnderTest>;

let seq = 0;

/** An attempt at `ms` (epoch ms) of delivery `id` to webhook `webhookId`. */
export function attemptOf(
  webhookId: string,
  id: string,
  ms: number,
  extra: Partial<DeliveryAttempt> = {},
): DeliveryAttempt {
  return {
    deliveryId: id,
    webhookId,
    eventId: `evt-${id}`,
    attempt: 1,
    startedAt: new Date(ms).toISOString(),
    durationMs: 3.5,
    ok: true,
    status: 200,
    request: {
      url: 'https://example.com/hook',
      headers: { 'content-type': 'application/json', 'webhook-id': id, authorization: '[redacted]' },
      body: `{"id":"${id}","n":${seq++}}`,
    },
    response: { headers: { 'content-type': 'text/plain' }, body: 'ok' },
    ...extra,
  };
}

/** The time the contract's attempts start around; an injected clock starts here. */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const ids = (items: DeliveryRecord[]) => items.map((r) => r.deliveryId);

/** Every page of `list`, following nextCursor. */
async function allPages(log: DeliveryLog, webhookId: string, query: Parameters<DeliveryLog['list']>[1] = {}) {
  const pages: DeliveryRecord[][] = [];
  let cursor: string | undefined;
  do {
    const page = await log.list(webhookId, { ...query, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
    expect(pages.length).toBeLessThan(1000);
  } while (cursor);
  return pages;
}

/**
 * An attempt holding NUL and lone surrogates wherever a receiver (or a custom transport) can put them is kept:
 * replaced with U+FFFD and listed in `altered`, the request body (JSON, which escapes them) intact, one with a raw
 * NUL cut there. Shared by the contract and the Postgres log's tests.
 */
export async function expectUnstorableTextKept(log: DeliveryLog): Promise<void> {
  // Now, not T0: the Postgres log reads its age limit from the real clock.
  const now = Date.now();
  const body = '{"note":"a\\u0000b \\ud800"}';
  await log.record(
    attemptOf('w-nul', 'd-nul', now, {
      ok: false,
      status: 500,
      error: { code: 'HTTP_STATUS', message: 'receiver said \u0000' },
      request: { url: 'https://example.com/hook', headers: { 'webhook-id': 'd-nul' }, body },
      response: {
        headers: { 'x-debug': 'a\u0000b', 'x-list': ['ok', 'c\udc00'] },
        body: 'stack\u0000trace \ud800!',
      },
    }),
  );
  await log.record(
    attemptOf('w-nul', 'd-raw', now + 1, {
      request: { url: 'https://example.com/hook', headers: {}, body: 'text\u0000more' },
    }),
  );
  const page = await log.list('w-nul', { status: 'failed' });
  expect(ids(page.items)).toEqual(['d-nul']);
  const [attempt] = page.items[0]!.attempts;
  expect(attempt).toMatchObject({
    request: { body },
    response: {
      headers: { 'x-debug': 'a\ufffdb', 'x-list': ['ok', 'c\ufffd'] },
      body: 'stack\ufffdtrace \ufffd!',
    },
    error: { code: 'HTTP_STATUS', message: 'receiver said \ufffd' },
  });
  expect(new Set(attempt!.altered)).toEqual(new Set(['response.body', 'response.headers', 'error.message']));
  expect(attempt!.request.bodyTruncated).toBeUndefined();
  const raw = (await log.get('d-raw'))!.attempts[0]!;
  expect(raw.request).toMatchObject({ body: 'text', bodyTruncated: true });
  expect(raw.altered).toEqual(['request.body']);
}

/** The behaviour every DeliveryLog implementation shares (memory, Redis, ...). */
export function deliveryLogContract(name: string, make: LogFactory): void {
  describe(`${name}: the DeliveryLog contract`, () => {
    it('groups attempts into a delivery: status of the latest, attempts newest first, body and flags kept', async () => {
      const { log } = await make({});
      const body = '{"kind":"flag","name":"dark-mode","ünï":"cödé"}';
      const failed = attemptOf('w1', 'd1', T0, {
        ok: false,
        status: 503,
        error: { code: 'HTTP_STATUS', message: 'receiver answered 503' },
        tenant: 'acme',
        eventType: 'flag.updated',
        request: { url: 'https://example.com/hook', headers: { 'webhook-id': 'd1' }, body },
        response: { headers: { 'retry-after': '5', 'set-cookie': ['a=1', 'b=2'] }, body: 'busy' },
      });
      await log.record(failed);
      expect((await log.get('d1'))?.status).toBe('failed');
      await log.record({
        ...failed,
        attempt: 2,
        startedAt: new Date(T0 + 5000).toISOString(),
        error: undefined,
      });
      await log.record({
        ...failed,
        attempt: 3,
        ok: true,
        status: 204,
        error: undefined,
        startedAt: new Date(T0 + 60_000).toISOString(),
        redelivery: true,
        request: { ...failed.request, body: `${body} changed`, bodyTruncated: true },
      });

      const record = await log.get('d1');
      expect(record).toMatchObject({
        deliveryId: 'd1',
        webhookId: 'w1',
        eventId: 'evt-d1',
        tenant: 'acme',
        eventType: 'flag.updated',
        status: 'delivered',
        createdAt: new Date(T0).toISOString(),
        updatedAt: new Date(T0 + 60_000).toISOString(),
      });
      expect(record!.attempts.map((a) => a.attempt)).toEqual([3, 2, 1]);
      const [third, second, first] = record!.attempts as [DeliveryAttempt, DeliveryAttempt, DeliveryAttempt];
      expect(first).toEqual(failed);
      expect(second.request.body).toBe(body);
      expect(third).toMatchObject({ redelivery: true, ok: true, status: 204 });
      expect(third.request).toMatchObject({ body: `${body} changed`, bodyTruncated: true });
      expect(first.redelivery).toBeUndefined();
      expect(first.request.bodyTruncated).toBeUndefined();
      expect(first.response?.headers?.['set-cookie']).toEqual(['a=1', 'b=2']);
      expect(await log.get('nope')).toBeUndefined();
    });

    it('keeps an attempt holding NUL or lone surrogates: replaced with U+FFFD, listed in `altered`', async () => {
      const { log } = await make({});
      await expectUnstorableTextKept(log);
    });

    it('returns copies: changing a result does not change the log', async () => {
      const { log } = await make({});
      const input = attemptOf('w1', 'd1', T0);
      await log.record(input);
      input.request.headers['content-type'] = 'changed after record';
      const record = (await log.get('d1'))!;
      expect(record.attempts[0]!.request.headers['content-type']).toBe('application/json');
      record.attempts[0]!.request.headers['content-type'] = 'changed after get';
      record.attempts.pop();
      expect((await log.get('d1'))!.attempts[0]!.request.headers['content-type']).toBe('application/json');
    });

    it('lists newest first by createdAt (ties by deliveryId), per webhook, limit 50 by default', async () => {
      const { log } = await make({ perWebhook: 500 });
      // Recorded out of order, with ties on the same millisecond.
      const times = [5, 1, 3, 3, 9, 0, 7, 3];
      for (const [i, t] of times.entries()) await log.record(attemptOf('w1', `d${i}`, T0 + t));
      await log.record(attemptOf('w2', 'other', T0 + 4));
      // A later attempt of an old delivery does not move it.
      await log.record({ ...attemptOf('w1', 'd5', T0 + 100), attempt: 2 });

      const page = await log.list('w1');
      expect(ids(page.items)).toEqual(['d4', 'd6', 'd0', 'd7', 'd3', 'd2', 'd1', 'd5']);
      expect(page.nextCursor).toBeUndefined();
      expect(ids((await log.list('w2')).items)).toEqual(['other']);
      expect(await log.list('unknown')).toEqual({ items: [] });

      for (let i = 0; i < 60; i++)
        await log.record(attemptOf('w3', `m${String(i).padStart(2, '0')}`, T0 + i));
      const first = await log.list('w3');
      expect(first.items).toHaveLength(50);
      expect(first.items[0]!.deliveryId).toBe('m59');
      expect(first.nextCursor).toEqual(expect.any(String));
    });

    it('pages with an opaque cursor: every delivery exactly once, ties included', async () => {
      const { log } = await make({ perWebhook: 500 });
      const expected: string[] = [];
      for (let i = 0; i < 23; i++) {
        const id = `d${String(i).padStart(2, '0')}`;
        await log.record(attemptOf('w1', id, T0 + Math.floor(i / 4))); // 4 per millisecond
        expected.unshift(id);
      }
      const pages = await allPages(log, 'w1', { limit: 5 });
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
      expect(ids(pages.flat())).toEqual(expected);
      const exact = await allPages(log, 'w1', { limit: 23 });
      expect(exact.map((p) => p.length)).toEqual([23]);
    });

    it('keeps pages stable under concurrent writes', async () => {
      const { log } = await make({ perWebhook: 500 });
      for (let i = 0; i < 10; i++) await log.record(attemptOf('w1', `old${i}`, T0 + i * 10));
      const first = await log.list('w1', { limit: 4 });
      expect(ids(first.items)).toEqual(['old9', 'old8', 'old7', 'old6']);
      // New deliveries, new attempts of listed and unlisted ones, between two pages.
      await log.record(attemptOf('w1', 'new', T0 + 1000));
      await log.record({ ...attemptOf('w1', 'old7', T0 + 2000), attempt: 2 });
      await log.record({ ...attemptOf('w1', 'old3', T0 + 2000), attempt: 2, ok: false, status: 500 });
      await log.record(attemptOf('w1', 'between', T0 + 55)); // older than the cursor: it belongs to a later page
      const rest: DeliveryRecord[] = [];
      let cursor = first.nextCursor;
      while (cursor) {
        const page = await log.list('w1', { limit: 4, cursor });
        rest.push(...page.items);
        cursor = page.nextCursor;
        expect(rest.length).toBeLessThan(100);
      }
      expect(ids(rest)).toEqual(['between', 'old5', 'old4', 'old3', 'old2', 'old1', 'old0']);
      expect(rest.find((r) => r.deliveryId === 'old3')!.status).toBe('failed');
    });

    it('filters by status of the latest attempt, and pages the filtered list', async () => {
      const { log } = await make({ perWebhook: 500 });
      for (let i = 0; i < 30; i++) {
        const id = `d${String(i).padStart(2, '0')}`;
        await log.record(attemptOf('w1', id, T0 + i, { ok: false, status: 500 }));
        if (i % 3 === 0) await log.record(attemptOf('w1', id, T0 + i + 100, { attempt: 2 }));
      }
      const failed = (await allPages(log, 'w1', { status: 'failed', limit: 7 })).flat();
      const delivered = (await allPages(log, 'w1', { status: 'delivered', limit: 7 })).flat();
      expect(failed).toHaveLength(20);
      expect(delivered).toHaveLength(10);
      expect(failed.every((r) => r.status === 'failed' && r.attempts.length === 1)).toBe(true);
      expect(delivered.every((r) => r.status === 'delivered' && r.attempts.length === 2)).toBe(true);
      expect(ids(delivered).slice(0, 3)).toEqual(['d27', 'd24', 'd21']);
      // A filter that matches nothing on a full page: no items, no cursor.
      expect(await log.list('w1', { status: 'delivered', limit: 5, since: T0 + 28 })).toEqual({ items: [] });
    });

    it('filters by createdAt: since inclusive, until exclusive, as Date or epoch ms, with paging', async () => {
      const { log } = await make({ perWebhook: 500 });
      for (let i = 0; i < 20; i++)
        await log.record(attemptOf('w1', `d${String(i).padStart(2, '0')}`, T0 + i * 1000));
      const window = { since: T0 + 5000, until: new Date(T0 + 15_000) };
      const inWindow = (await allPages(log, 'w1', { ...window, limit: 3 })).flat();
      expect(ids(inWindow)).toEqual(['d14', 'd13', 'd12', 'd11', 'd10', 'd09', 'd08', 'd07', 'd06', 'd05']);
      expect(ids((await log.list('w1', { since: new Date(T0 + 18_000) })).items)).toEqual(['d19', 'd18']);
      expect(ids((await log.list('w1', { until: T0 + 2000 })).items)).toEqual(['d01', 'd00']);
      expect((await log.list('w1', { since: T0 + 30_000 })).items).toEqual([]);
      expect((await log.list('w1', { since: T0 + 5000, until: T0 + 5000 })).items).toEqual([]);
    });

    it('keeps the newest perWebhook deliveries of each webhook', async () => {
      const { log } = await make({ perWebhook: 3 });
      for (let i = 1; i <= 7; i++) await log.record(attemptOf('w1', `d${i}`, T0 + i));
      await log.record(attemptOf('w2', 'x', T0));
      expect(ids((await log.list('w1')).items)).toEqual(['d7', 'd6', 'd5']);
      expect(await log.get('d1')).toBeUndefined();
      expect(await log.get('d5')).toBeDefined();
      expect(ids((await log.list('w2')).items)).toEqual(['x']);
      // Gone from the reads across webhooks too.
      expect(ids((await log.search!({})).items)).toEqual(['d7', 'd6', 'd5', 'x']);
    });

    it('drops deliveries maxAgeMs after their latest attempt', async () => {
      // Each attempt is recorded when it starts: the log's clock (T0 at first) and `startedAt` agree.
      const { log, advance } = await make({ maxAgeMs: 1000 });
      await log.record(attemptOf('w1', 'old', T0));
      await log.record(attemptOf('w1', 'touched', T0 + 1));
      await advance(600);
      await log.record({ ...attemptOf('w1', 'touched', T0 + 600), attempt: 2 });
      await log.record(attemptOf('w1', 'young', T0 + 600));
      await advance(600);
      expect(await log.get('old')).toBeUndefined();
      expect(ids((await log.list('w1')).items)).toEqual(['young', 'touched']);
      await advance(1200);
      expect(await log.get('touched')).toBeUndefined();
      expect(await log.list('w1')).toEqual({ items: [] });
    });

    it('refuses bad queries naming the field', async () => {
      const { log } = await make({});
      await log.record(attemptOf('w1', 'd1', T0));
      const bad: [Record<string, unknown>, RegExp][] = [
        [{ status: 'ok' }, /`status` to be 'delivered' or 'failed'/],
        [{ limit: 0 }, /`limit` to be a positive integer of at most 1000, got 0/],
        [{ limit: 1001 }, /`limit`.*got 1001/],
        [{ limit: 2.5 }, /`limit`/],
        [{ since: 'yesterday' }, /`since` to be a Date or epoch ms/],
        [{ until: new Date('nope') }, /`until` to be a Date or epoch ms, got an invalid Date/],
        [{ cursor: 'garbage!' }, /`cursor` to be the nextCursor of a previous page/],
        [{ cursor: Buffer.from('{"a":1}').toString('base64url') }, /`cursor`/],
        [{ cursor: Buffer.from(JSON.stringify([T0, 'd\u0000'])).toString('base64url') }, /`cursor`/],
      ];
      for (const [query, message] of bad) {
        await expect(log.list('w1', query as never), JSON.stringify(query)).rejects.toMatchObject({
          code: 'ERR_INVALID_OPTIONS',
          message: expect.stringMatching(message),
        });
      }
      expect((await log.list('w1', { limit: 1000 })).items).toHaveLength(1);
    });
  });
  crossWebhookContract(name, make);
}

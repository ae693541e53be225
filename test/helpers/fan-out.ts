import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { DeliveryResult, WebhookEvent } from '../../src/core/types.js';
import { type DeliveryJob, type DeliveryQueue, deliveryIdFor } from '../../src/extend.js';
import type { WebhookDispatcher } from '../../src/index.js';
import { verifySignature } from '../../src/index.js';
import { ldEvent } from './events.js';
import type { ReceivedRequest, Receiver } from './receiver.js';

/** Samples this process's RSS while `run` runs: how much it grew at its peak, and how long it took. */
export async function peakRssGrowth<T>(
  run: () => Promise<T>,
): Promise<{ value: T; growth: number; ms: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  try {
    const value = await run();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, growth: peak - before, ms: Math.round(performance.now() - started) };
  } finally {
    clearInterval(sampler);
  }
}

/** An event whose JSON is `bytes` long (random, so that neither Postgres nor Redis can compress it away). */
export function bigEvent(bytes: number): WebhookEvent & { _id: string } {
  const event = ldEvent() as WebhookEvent & { _id: string };
  const blob = randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64');
  const sized = { ...event, blob: '' };
  return { ...sized, blob: blob.slice(0, bytes - JSON.stringify(sized).length) };
}

/** The jobs the dispatcher's emit makes for `event`: one event object and one body shared by all of them. */
export function sharedJobs(event: WebhookEvent & { _id: string }, webhookIds: string[]): DeliveryJob[] {
  const eventBody = JSON.stringify(event);
  return webhookIds.map((webhookId) => ({
    deliveryId: deliveryIdFor(event._id, webhookId),
    webhookId,
    eventId: event._id,
    event,
    eventBody,
  }));
}

/**
 * A 1 MiB event (4 KiB under the default `maxBodyBytes`) to 10,000 webhooks: three that exist (`/0`, `/1`, `/2` of
 * the receiver, secret `shh`) and 9,997 that do not (`elsewhere`), as the jobs the dispatcher's emit makes.
 */
export async function bigFanOut(w: { dispatcher: WebhookDispatcher; receiver: Receiver }) {
  const hooks = await Promise.all(
    [0, 1, 2].map((i) => w.dispatcher.webhooks.create({ url: `${w.receiver.url}/${i}`, secret: 'shh' })),
  );
  const event = bigEvent(1_048_576 - 4096);
  const elsewhere = Array.from({ length: 9_997 }, (_, i) => `elsewhere-${i}`);
  const jobs = sharedJobs(event, [...hooks.map((h) => h.id), ...elsewhere]);
  const eventBody = jobs[0]?.eventBody as string;
  return { hooks, event, eventBody, elsewhere, jobs, bound: 3 * eventBody.length + 2048 * jobs.length };
}

/** Strings no database column type takes as they are: NUL, and surrogates without their pair. */
export const HOSTILE = 'nul \u0000 here, a lone \ud800 high and \udc00 low surrogate, and \u0000\u0000 again';

/**
 * Emits an event carrying `HOSTILE` in its data (and one key) to two webhooks (a fan-out: its body stored once) and
 * another to one webhook of its own (its body inline), lets a worker deliver them, and checks that each receiver got
 * exactly the JSON of its event, signed, its hostile strings intact.
 */
export async function deliverHostileEvents(
  w: { dispatcher: WebhookDispatcher; receiver: Receiver },
  spawnWorker: () => Promise<{ results: DeliveryResult[]; waitForResults(count: number): Promise<void> }>,
): Promise<void> {
  const create = (path: string, tenant?: string) =>
    w.dispatcher.webhooks.create({
      url: `${w.receiver.url}${path}`,
      secret: 'shh',
      ...(tenant ? { tenant } : {}),
    });
  await create('/a');
  await create('/b');
  await create('/solo', 'solo');
  const fanOut = ldEvent('production', { description: HOSTILE, extra: { [HOSTILE]: [HOSTILE] } });
  const solo = ldEvent('production', { description: HOSTILE });
  expect((await w.dispatcher.emit(fanOut)).map((r) => r.outcome)).toEqual(['queued', 'queued']);
  expect((await w.dispatcher.emit(solo, { tenant: 'solo' })).map((r) => r.outcome)).toEqual(['queued']);
  const worker = await spawnWorker();
  await worker.waitForResults(3);

  expect(worker.results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
  const byUrl = new Map(w.receiver.requests.map((r) => [r.url, r]));
  for (const [url, sent] of [
    ['/a', fanOut],
    ['/b', fanOut],
    ['/solo', solo],
  ] as const) {
    const request = byUrl.get(url);
    expect(request?.body).toBe(JSON.stringify(sent));
    expect(JSON.parse(request?.body as string).description).toBe(HOSTILE);
    expect(verifySignature(request?.body as string, request?.headers['x-ld-signature'], 'shh')).toBe(true);
  }
}

/** The requests went to exactly `urls`, each carrying `eventBody` byte for byte, signed with `secret`. */
export function expectSignedCopies(
  requests: ReceivedRequest[],
  urls: string[],
  eventBody: string,
  secret: string,
): void {
  expect(requests.map((r) => r.url).sort()).toEqual([...urls].sort());
  for (const request of requests) {
    // Not toBe: a failure would print two 1 MiB strings.
    expect(request.body === eventBody).toBe(true);
    expect(verifySignature(request.body, request.headers['x-ld-signature'], secret)).toBe(true);
  }
}

/**
 * Starts `queue`'s worker with a stand-in for the dispatcher's engine whose every first attempt asks for a retry in
 * a minute, enqueues the jobs of one emit, and checks that each job reached the engine with its event's body and
 * event read back (from the stored body, for a fan-out).
 */
export async function attemptOnceEach(
  queue: DeliveryQueue & {
    ready(): Promise<void>;
    enqueueMany(jobs: DeliveryJob[]): Promise<DeliveryResult[]>;
  },
  jobs: DeliveryJob[],
): Promise<void> {
  const attempted: DeliveryJob[] = [];
  const unused = () => Promise.reject(new Error('not used when an engine is given'));
  queue.start(unused, () => {}, {
    deliver: unused,
    attempt: async (job) => {
      attempted.push(job);
      return { retry: { job: { ...job, attempt: 1 }, delayMs: 60_000 } };
    },
  });
  await queue.ready();
  await queue.enqueueMany(jobs);
  const deadline = Date.now() + 15_000;
  while (attempted.length < jobs.length) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the attempts');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(attempted.map((j) => j.eventBody)).toEqual(jobs.map((j) => j.eventBody));
  expect(attempted.map((j) => j.event)).toEqual(jobs.map((j) => j.event));
}

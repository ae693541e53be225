// Helpers of the ordering tests (test/ordering*.test.ts): a seeded "random 20%" of failed first attempts and a
// receiver that records the order in which it answered 200.
import { type ReceivedRequest, type Responder, startReceiver } from './receiver.js';

export const EVENTS = 200;

/** A small seeded PRNG (mulberry32), so "a random 20%" is the same set on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const eventNo = (request: ReceivedRequest) =>
  Number((JSON.parse(request.body) as { id: string }).id.slice(1));

/**
 * A receiver that answers 500 to the first attempt of the events in `failFirst` (and to every attempt of those in
 * `failAlways`), 200 otherwise; `delivered` lists the events it answered 200, in arrival order.
 */
export async function flakyReceiver(failFirst: Set<number>, failAlways = new Set<number>()) {
  const seen = new Set<number>();
  const delivered: number[] = [];
  const respond: Responder = (request) => {
    const n = eventNo(request);
    const first = !seen.has(n);
    seen.add(n);
    if (failAlways.has(n) || (first && failFirst.has(n))) return 500;
    delivered.push(n);
    return 200;
  };
  const receiver = await startReceiver(respond);
  return { receiver, delivered };
}

export function failingFirstAttempts(seed: number): Set<number> {
  const random = seeded(seed);
  const failing = new Set<number>();
  for (let i = 0; i < EVENTS; i++) if (random() < 0.2) failing.add(i);
  return failing;
}

export const inOrder = (values: number[]) =>
  values.every((value, i) => i === 0 || (values[i - 1] as number) < value);

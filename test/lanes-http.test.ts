import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createWebhookDispatcher, type DeliveryResult } from '../src/index.js';
import { type Responder, startReceiver } from './helpers/receiver.js';
import { open } from './helpers/setup.js';

// Real receivers on 127.0.0.1: one fast, beside others that hang, ask to retry later, rate-limit or are gone.
// The fast one's delivery times must stay near what they are when it is alone. Bounds are generous (the bench
// measures the ratio); what is checked is that a bad neighbour does not turn milliseconds into seconds.

const EVENTS = 120;

async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/dead`;
}

const p90 = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)] as number;

/** Emits EVENTS events at once; returns, for the fast webhook, the time from emit to each final outcome. */
async function fastLatencies(neighbours: Responder[], extraUrls: string[] = []): Promise<number[]> {
  const fast = await startReceiver(() => 200);
  open.push(fast);
  const emittedAt = new Map<string, number>();
  const latencies: number[] = [];
  let fastId = '';
  const dispatcher = createWebhookDispatcher({
    allowPrivateNetworks: true,
    timeoutMs: 3000,
    retry: { retries: 1, delayMs: 200 },
    onDelivery: (result: DeliveryResult) => {
      if (result.webhookId === fastId)
        latencies.push(performance.now() - (emittedAt.get(result.eventId) as number));
    },
  });
  open.push(dispatcher);
  fastId = (await dispatcher.webhooks.create({ url: `${fast.url}/fast`, events: ['*'] })).id;
  for (const respond of neighbours) {
    const receiver = await startReceiver(respond);
    open.push(receiver);
    await dispatcher.webhooks.create({ url: `${receiver.url}/slow`, events: ['*'] });
  }
  for (const url of extraUrls) await dispatcher.webhooks.create({ url, events: ['*'] });
  const emits: Promise<unknown>[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const id = `e${i}`;
    emittedAt.set(id, performance.now());
    emits.push(dispatcher.emit({ id, type: 'flag-updated' }));
  }
  await fast.waitFor(EVENTS);
  // The neighbours' deliveries may still wait; they do not matter here.
  const deadline = Date.now() + 5000;
  while (latencies.length < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await dispatcher.close({ deadlineMs: 10 });
  await Promise.allSettled(emits);
  return latencies;
}

const hang: Responder = () => 'handled';
const retryLater: Responder = (_req, _n, res) => {
  res.writeHead(503, { 'Retry-After': '6' }).end();
  return 'handled';
};
const tooMany: Responder = (_req, _n, res) => {
  res.writeHead(429, { 'retry-after': '2' }).end();
  return 'handled';
};

describe('lanes over real HTTP', () => {
  it('a hanging, a Retry-After, a 429 and a dead receiver leave the fast one near its time alone', async () => {
    const alone = p90(await fastLatencies([]));
    const withNeighbours = await fastLatencies([hang, hang, retryLater, tooMany], [await deadUrl()]);
    expect(withNeighbours).toHaveLength(EVENTS);
    const crowded = p90(withNeighbours);
    // Before lanes: 95 ms alone became 10.3 s beside one hanging receiver.
    expect(crowded).toBeLessThan(Math.max(alone * 4, alone + 400));
  });
});

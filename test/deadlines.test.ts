import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadlineList, type DeadlineNode } from '../src/delivery/deadlines.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../src/index.js';

// The engine's one deadline structure for every attempt in flight, on real timers.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A node that records when (ms since `t0`) it expired. */
function node(t0: number, expired: Map<string, number>, name: string, onExpire?: () => void): DeadlineNode {
  return {
    deadline: 0,
    prev: undefined,
    next: undefined,
    listed: false,
    expire() {
      expired.set(name, performance.now() - t0);
      onExpire?.();
    },
  };
}

const timeouts = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('DeadlineList', () => {
  it('expires each node timeoutMs after it was added, oldest first, none before its time', async () => {
    const list = new DeadlineList(60);
    const expired = new Map<string, number>();
    const t0 = performance.now();
    list.add(node(t0, expired, 'a'));
    await sleep(30);
    list.add(node(t0, expired, 'b'));
    await sleep(45);
    expect([...expired.keys()]).toEqual(['a']);
    expect(expired.get('a')).toBeGreaterThanOrEqual(58);
    await sleep(60);
    expect([...expired.keys()]).toEqual(['a', 'b']);
    expect(expired.get('b')).toBeGreaterThanOrEqual(30 + 58);
    expect(list.size).toBe(0);
  });

  it('never expires a removed node, and leaves no timer once the last node is removed', async () => {
    const before = timeouts();
    const list = new DeadlineList(40);
    const expired = new Map<string, number>();
    const t0 = performance.now();
    const a = node(t0, expired, 'a');
    const b = node(t0, expired, 'b');
    list.add(a);
    list.add(b);
    expect(timeouts()).toBe(before + 1);
    list.remove(a);
    list.remove(a);
    expect(list.size).toBe(1);
    list.remove(b);
    expect(timeouts()).toBe(before);
    await sleep(80);
    expect(expired.size).toBe(0);
  });

  it('keeps an older node on time when an expiring one adds a new node', async () => {
    const list = new DeadlineList(50);
    const expired = new Map<string, number>();
    const t0 = performance.now();
    list.add(node(t0, expired, 'a', () => list.add(node(t0, expired, 'c'))));
    await sleep(20);
    list.add(node(t0, expired, 'b'));
    await sleep(160);
    expect([...expired.keys()]).toEqual(['a', 'b', 'c']);
    // b is due 20 ms after a (it was added 20 ms later), not 50 ms after a, when c is due.
    expect((expired.get('b') as number) - (expired.get('a') as number)).toBeLessThan(40);
    expect(expired.get('c') as number).toBeGreaterThanOrEqual((expired.get('a') as number) + 48);
  });
});

describe('httpTransport under the engine: the attempt keeps the deadline', () => {
  let server: Server | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.close({ deadlineMs: 50 });
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('a receiver that never answers ends with TIMEOUT at timeoutMs and its connection is closed', async () => {
    let closed = 0;
    server = createServer((request) => request.socket.on('close', () => closed++));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    dispatcher = createWebhookDispatcher({
      // The default transport: httpTransport under the dispatcher's address policy.
      allowPrivateNetworks: true,
      timeoutMs: 150,
      retry: 0,
      deliveryLog: false,
    });
    await dispatcher.webhooks.create({ url: `http://127.0.0.1:${port}/hook`, events: ['*'] });
    const started = performance.now();
    const [result] = await dispatcher.emit({ id: 'e1', type: 'thing.happened' });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'TIMEOUT' } });
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(1500);
    // The request was aborted, so undici closed its connection rather than waiting on it.
    await sleep(50);
    expect(closed).toBe(1);
  });
});

// The memory row, run in its own process so that its RSS is not inflated by the other rows: `events` events
// through a slow receiver (a delay per response) with the default dispatcher (delivery log on). The caller keeps
// at most `window` emits outstanding; the queue (`maxQueued` = window) holds what the 64 connections cannot take
// yet. RSS is sampled all along; the result goes to the parent over IPC.
import { createWebhookDispatcher } from 'webhook-dispatcher';
import { ldEvents, productionHook, startReceiver } from './lib.mjs';

const arg = (name, fallback) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
};
const total = arg('events', 200_000);
const window = arg('window', 10_000);
const delayMs = arg('delay', 20);
const concurrency = 64;

const receiver = await startReceiver({ delayMs });
const dispatcher = createWebhookDispatcher({ allowPrivateNetworks: true, concurrency, maxQueued: window });
await dispatcher.webhooks.create(productionHook(receiver.url));
const events = ldEvents();

const samples = []; // [events emitted, rss bytes, V8 heap used bytes]
let peakRss = 0;
let peakHeap = 0;
const sample = (emitted) => {
  const { rss, heapUsed } = process.memoryUsage();
  if (rss > peakRss) peakRss = rss;
  if (heapUsed > peakHeap) peakHeap = heapUsed;
  samples.push([emitted, rss, heapUsed]);
};
const codes = new Map();
let delivered = 0;
let emitted = 0;
let outstanding = 0;
let wake;
const settle = (results) => {
  outstanding--;
  for (const result of results) {
    if (result.ok) delivered++;
    else codes.set(result.error?.code, (codes.get(result.error?.code) ?? 0) + 1);
  }
  if (wake && outstanding < window) {
    const w = wake;
    wake = undefined;
    w();
  }
};

const rssBefore = process.memoryUsage.rss();
const sampler = setInterval(() => sample(emitted), 100);
const started = performance.now();
const step = Math.max(1, Math.floor(total / 20));
while (emitted < total) {
  if (outstanding >= window) await new Promise((resolve) => (wake = resolve));
  outstanding++;
  dispatcher.emit(events[emitted % events.length]).then(settle);
  emitted++;
  if (emitted % step === 0) sample(emitted);
}
while (outstanding > 0) await new Promise((resolve) => (wake = resolve));
const elapsedMs = performance.now() - started;
clearInterval(sampler);
sample(emitted);
await dispatcher.close();
const received = await receiver.received();
await receiver.stop();

process.send({
  total,
  window,
  delayMs,
  concurrency,
  delivered,
  received,
  failures: Object.fromEntries(codes),
  elapsedMs,
  rssBefore,
  peakRss,
  peakHeap,
  maxRssKb: process.resourceUsage().maxRSS,
  samples,
});

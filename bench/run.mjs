// `npm run bench [-- --quick] [-- --only=http,lanes,pipeline,fanout,matching,memory,scale]`
//
// Benchmarks the built package (imported by its own name) against baselines measured in the same run, and
// prints one table: every figure as a ratio to its baseline, with the absolute numbers beside it. Everything
// runs against receivers on 127.0.0.1 in child processes; the run is bounded in count and in time.
import { fork } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { createWebhookDispatcher } from 'webhook-dispatcher';
import {
  formatNumber,
  interleave,
  ldEvents,
  median,
  pairedRatio,
  productionHook,
  rate,
  runBatchesFor,
  runFor,
  SECRET,
  startReceiver,
} from './lib.mjs';
import { scaleSection } from './scale-section.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : undefined;
const enabled = (section) => !only || only.has(section);

const CONCURRENCY = 64;
const P = quick
  ? {
      httpBlocks: 4,
      httpBlockMs: 500,
      pipeBlocks: 8,
      pipeBlockMs: 150,
      rounds: 3,
      matchEmits: 2000,
      memEvents: 20_000,
      memWindow: 1000,
    }
  : {
      httpBlocks: 12,
      httpBlockMs: 1000,
      pipeBlocks: 30,
      pipeBlockMs: 200,
      rounds: 5,
      matchEmits: 10_000,
      memEvents: 200_000,
      memWindow: 10_000,
    };

// A hard stop, whatever happens: the bench must end by itself.
const watchdog = setTimeout(
  () => {
    console.error('bench: time limit reached, stopping');
    process.exit(2);
  },
  (quick ? 3 : 10) * 60_000,
);
watchdog.unref();

const rows = [];
const notes = [];
const events = ldEvents();
const noopTransport = { send: () => Promise.resolve({ status: 200 }) };

function row(name, value, unit, baselineName, baselineValue, { ratio, target, met, digits = 0 } = {}) {
  rows.push({
    name,
    value: `${formatNumber(value, digits)} ${unit}`,
    baseline: baselineName ? `${baselineName}: ${formatNumber(baselineValue, digits)} ${unit}` : '',
    ratio: ratio ?? (baselineValue ? value / baselineValue : undefined),
    target: target ?? '',
    met,
  });
}

function progress(text) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else process.stderr.write(`${text}\n`);
}

function expectAllOk(label, results) {
  const bad = results.flat().filter((r) => !r.ok);
  if (bad.length > 0)
    throw new Error(`${label}: ${bad.length} deliveries failed, first: ${JSON.stringify(bad[0])}`);
}

// --- HTTP -------------------------------------------------------------------------------------------------------

async function httpSection() {
  const receiver = await startReceiver();
  const url = receiver.url;
  const agent = new Agent({ connections: 128, pipelining: 1 });
  const headersFor = (body) => ({
    'content-type': 'application/json',
    'x-ld-signature': createHmac('sha256', SECRET).update(body).digest('hex'),
  });

  // The bare loop: serialize, sign, POST with undici's request() on a keep-alive pool, read the answer.
  const bareRequest = async (i) => {
    const body = JSON.stringify(events[i % events.length]);
    const response = await request(url, {
      method: 'POST',
      headers: headersFor(body),
      body,
      dispatcher: agent,
    });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`bare request: status ${response.statusCode}`);
  };
  // The floor: undici's Agent.dispatch with a handler that drops the body, as httpTransport does.
  const { origin, pathname } = new URL(url);
  const bareDispatch = (i) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(events[i % events.length]);
      let status = 0;
      agent.dispatch(
        { origin, path: pathname, method: 'POST', headers: headersFor(body), body },
        {
          onRequestStart() {},
          onResponseStart(_controller, statusCode) {
            status = statusCode;
          },
          onResponseData() {},
          onResponseEnd() {
            if (status === 200) resolve();
            else reject(new Error(`bare dispatch: status ${status}`));
          },
          onResponseError(_controller, error) {
            reject(error);
          },
        },
      );
    });
  // What Unleash does: one fetch() per delivery.
  const fetchOne = async (i) => {
    const body = JSON.stringify(events[i % events.length]);
    const response = await fetch(url, { method: 'POST', headers: headersFor(body), body });
    await response.text();
    if (response.status !== 200) throw new Error(`fetch: status ${response.status}`);
  };

  // One receiver, so the lane gets the same concurrency as the bare loops (the default of 8 per webhook is for
  // many receivers sharing the slots).
  const lean = createWebhookDispatcher({
    allowPrivateNetworks: true,
    deliveryLog: false,
    concurrency: CONCURRENCY,
    perWebhookConcurrency: CONCURRENCY,
  });
  await lean.webhooks.create(productionHook(url));
  const defaults = createWebhookDispatcher({
    allowPrivateNetworks: true,
    concurrency: CONCURRENCY,
    perWebhookConcurrency: CONCURRENCY,
  });
  await defaults.webhooks.create(productionHook(url));
  const emitOne = (dispatcher) => async (i) => {
    const results = await dispatcher.emit(events[i % events.length]);
    if (results.length !== 1 || !results[0].ok)
      expectAllOk('HTTP dispatcher', [results.length ? results : [{}]]);
  };

  const variants = [
    ['bare', bareRequest],
    ['dispatch', bareDispatch],
    ['lean', emitOne(lean)],
    ['defaults', emitOne(defaults)],
    ['fetch', fetchOne],
  ].map(([name, worker]) => [name, () => runFor(P.httpBlockMs, CONCURRENCY, worker)]);
  for (const [, run] of variants) await run(); // warm-up: JIT, connections
  const rates = await interleave(variants, P.httpBlocks, (block, name) =>
    progress(`http: block ${block + 1}/${P.httpBlocks}, ${name}`),
  );
  const m = Object.fromEntries(Object.entries(rates).map(([name, values]) => [name, median(values)]));
  const unit = 'deliveries/s';
  const vsBare = pairedRatio(rates.lean, rates.bare);
  const vsFetch = pairedRatio(rates.lean, rates.fetch);
  row('HTTP: emit -> receiver, deliveryLog off', m.lean, unit, 'bare undici request loop', m.bare, {
    ratio: vsBare,
    target: '>= 1.0x',
    met: vsBare >= 1.0,
  });
  const vsDispatch = pairedRatio(rates.lean, rates.dispatch);
  const vsBareDefaults = pairedRatio(rates.defaults, rates.bare);
  row('HTTP: emit -> receiver, deliveryLog off', m.lean, unit, 'bare Agent.dispatch loop', m.dispatch, {
    ratio: vsDispatch,
    target: '>= 0.8x',
    met: vsDispatch >= 0.8,
  });
  row(
    'HTTP: emit -> receiver, default config (log on)',
    m.defaults,
    unit,
    'bare undici request loop',
    m.bare,
    {
      ratio: vsBareDefaults,
      target: '>= 0.9x',
      met: vsBareDefaults >= 0.9,
    },
  );
  row('HTTP: emit -> receiver, deliveryLog off', m.lean, unit, 'fetch-per-delivery loop', m.fetch, {
    ratio: vsFetch,
    target: '>= 3x',
    met: vsFetch >= 3,
  });
  row(
    'HTTP: emit -> receiver, default config (log on)',
    m.defaults,
    unit,
    'fetch-per-delivery loop',
    m.fetch,
    {
      ratio: pairedRatio(rates.defaults, rates.fetch),
      target: '(shown)',
    },
  );
  const spread = (name) =>
    `${formatNumber(Math.min(...rates[name]))}-${formatNumber(Math.max(...rates[name]))}`;
  notes.push(
    `HTTP: ${P.httpBlocks} interleaved blocks of ${P.httpBlockMs} ms per variant, concurrency ${CONCURRENCY}, ` +
      'receiver in its own process (node:http), 801-byte JSON bodies with X-LD-Signature; bare loop = undici ' +
      "`request()` on a keep-alive Agent + `body.dump()`; fetch loop = Node's global `fetch` + `text()`. " +
      'The table shows median rates and the median of per-block ratios. ' +
      `Range per block: bare ${spread('bare')}, Agent.dispatch ${spread('dispatch')}, log off ${spread('lean')}, default ${spread('defaults')}, ` +
      `fetch ${spread('fetch')} deliveries/s.`,
  );

  await Promise.all([lean.close(), defaults.close()]);
  await agent.close();
  await receiver.stop();
}

// --- pipeline without network ------------------------------------------------------------------------------------

const BATCH = 256;

async function pipelineSection() {
  const url = 'http://127.0.0.1:9/hooks'; // never contacted: the transport is a no-op
  let sink = 0;
  const handWritten = () =>
    runBatchesFor(P.pipeBlockMs, BATCH, async (from, size) => {
      for (let i = from; i < from + size; i++) {
        const body = JSON.stringify(events[i % events.length]);
        sink += createHmac('sha256', SECRET).update(body).digest('hex').length;
      }
    });
  const make = async (deliveryLog) => {
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      transport: noopTransport,
      concurrency: CONCURRENCY,
      ...(deliveryLog ? {} : { deliveryLog: false }),
    });
    await dispatcher.webhooks.create(productionHook(url));
    return dispatcher;
  };
  const lean = await make(false);
  const defaults = await make(true);
  // Bursts of BATCH events, each burst awaited: the queue runs CONCURRENCY of them at a time.
  const viaDispatcher = (dispatcher) => () =>
    runBatchesFor(P.pipeBlockMs, BATCH, async (from, size) => {
      const pending = [];
      for (let i = from; i < from + size; i++) pending.push(dispatcher.emit(events[i % events.length]));
      expectAllOk('pipeline', await Promise.all(pending));
    });
  const variants = [
    ['hand', handWritten],
    ['lean', viaDispatcher(lean)],
    ['defaults', viaDispatcher(defaults)],
  ];
  for (const [, run] of variants) await run();
  const rates = await interleave(variants, P.pipeBlocks, (block, name) =>
    progress(`pipeline: block ${block + 1}/${P.pipeBlocks}, ${name}`),
  );
  if (sink === 0) throw new Error('unreachable');
  const ratio = pairedRatio(rates.lean, rates.hand);
  row(
    'Pipeline, no network (filter+policy+render+sign), log off',
    median(rates.lean),
    'deliveries/s',
    'serialize+HMAC loop',
    median(rates.hand),
    { ratio, target: '>= 0.6x', met: ratio >= 0.6 },
  );
  row(
    'Pipeline, no network, default config (log on)',
    median(rates.defaults),
    'deliveries/s',
    'serialize+HMAC loop',
    median(rates.hand),
    { ratio: pairedRatio(rates.defaults, rates.hand), target: '(shown)' },
  );
  notes.push(
    `Pipeline: a no-op transport, events emitted in awaited bursts of ${BATCH}; ${P.pipeBlocks} interleaved ` +
      `blocks of ${P.pipeBlockMs} ms per variant; event JSON ${Buffer.byteLength(JSON.stringify(events[0]))} bytes.`,
  );
  await Promise.all([lean.close(), defaults.close()]);
}

// --- fan-out -----------------------------------------------------------------------------------------------------

async function fanoutSection() {
  const WEBHOOKS = 100;
  const url = 'http://127.0.0.1:9/hooks';
  // One dispatcher where all 100 webhooks match every event, one where each webhook matches its own project.
  const quiet = { transport: noopTransport, allowPrivateNetworks: true, deliveryLog: false };
  const fan = createWebhookDispatcher(quiet);
  const separate = createWebhookDispatcher(quiet);
  for (let i = 0; i < WEBHOOKS; i++) {
    await fan.webhooks.create({ ...productionHook(url), secret: `${SECRET}-${i}` });
    await separate.webhooks.create({ ...productionHook(url, `p${i}`), secret: `${SECRET}-${i}` });
  }
  const perProject = Array.from({ length: WEBHOOKS }, (_, i) => ldEvents(1, `p${i}`)[0]);
  const oneToHundred = async (i) => {
    const results = await fan.emit(events[i % events.length]);
    if (results.length !== WEBHOOKS) throw new Error(`fan-out: ${results.length} results`);
  };
  const hundredSeparate = async () => {
    const results = await Promise.all(perProject.map((event) => separate.emit(event)));
    if (results.flat().length !== WEBHOOKS) throw new Error('separate: wrong result count');
  };

  // Count the JSON.stringify calls of one emit of each kind.
  const stringify = JSON.stringify;
  let calls = 0;
  JSON.stringify = function counting(...args) {
    calls++;
    return stringify.apply(this, args);
  };
  let fanCalls = 0;
  let separateCalls = 0;
  try {
    await oneToHundred(0);
    fanCalls = calls;
    calls = 0;
    await hundredSeparate();
    separateCalls = calls;
  } finally {
    JSON.stringify = stringify;
  }

  // Rates in deliveries/s: one emit of the fan-out is WEBHOOKS deliveries, and so is one round of the other.
  const variants = [
    ['fan', () => runFor(P.pipeBlockMs, 1, oneToHundred)],
    ['separate', () => runFor(P.pipeBlockMs, 1, hundredSeparate)],
  ];
  for (const [, run] of variants) await run();
  const rates = await interleave(variants, P.pipeBlocks, (block, name) =>
    progress(`fan-out: block ${block + 1}/${P.pipeBlocks}, ${name}`),
  );
  const perSecond = (name) => median(rates[name]) * WEBHOOKS;
  row(
    `Fan-out: 1 event -> ${WEBHOOKS} webhooks (${fanCalls} JSON.stringify per emit)`,
    perSecond('fan'),
    'deliveries/s',
    `${WEBHOOKS} events -> 1 webhook each (${separateCalls} JSON.stringify)`,
    perSecond('separate'),
    {
      ratio: pairedRatio(rates.fan, rates.separate),
      target: 'serialize once',
      met: fanCalls === 1,
    },
  );
  await Promise.all([fan.close(), separate.close()]);
}

// --- matching at scale -------------------------------------------------------------------------------------------

async function matchingSection() {
  const url = 'http://127.0.0.1:9/hooks';
  const perEmit = async (count, statementsFor, project = `p${count >> 1}`, emits = P.matchEmits) => {
    const dispatcher = createWebhookDispatcher({
      transport: noopTransport,
      allowPrivateNetworks: true,
      deliveryLog: false,
    });
    for (let i = 0; i < count; i++) {
      await dispatcher.webhooks.create({ url, secret: SECRET, statements: statementsFor(i) });
    }
    const target = ldEvents(64, project);
    const run = async (emits) => {
      const started = performance.now();
      for (let i = 0; i < emits; i++) {
        const results = await dispatcher.emit(target[i & 63]);
        if (results.length !== 1 || !results[0].ok) throw new Error(`matching: ${results.length} results`);
      }
      return performance.now() - started;
    };
    await run(Math.min(1000, emits));
    const times = [];
    for (let round = 0; round < P.rounds; round++) times.push((await run(emits)) / emits);
    await dispatcher.close();
    return median(times);
  };
  const indexed = (i) => [
    { effect: 'allow', actions: ['*'], resources: [`proj/p${i}:env/production:flag/*`] },
  ];
  const sizes = [100, 1000, 10_000];
  const ms = {};
  for (const size of sizes) {
    progress(`matching: ${size} webhooks`);
    ms[size] = await perEmit(size, indexed);
  }
  for (const size of sizes) {
    row(
      `Matching: ${formatNumber(size)} webhooks, 1 matches (ms per emit)`,
      ms[size],
      'ms',
      '100 webhooks',
      ms[100],
      {
        digits: 4,
        target: size === 10_000 ? '<= 0.2 ms, sub-linear' : '',
        met: size === 10_000 ? ms[size] <= 0.2 && ms[size] / ms[100] < 10 : undefined,
      },
    );
  }
  progress('matching: 10,000 webhooks with glob projects');
  // Honest worst case: a glob in the project key cannot be indexed, so every such webhook is checked per emit.
  const globbed = await perEmit(
    10_000,
    (i) => [{ effect: 'allow', actions: ['*'], resources: [`proj/p${i}-*:env/production:flag/*`] }],
    'p5000-eu',
    quick ? 30 : 100,
  );
  row(
    'Matching: 10,000 webhooks with `proj/p<i>-*` globs (not indexable)',
    globbed,
    'ms',
    '100 indexed',
    ms[100],
    {
      digits: 4,
      target: '(shown)',
    },
  );
}

// --- lanes -------------------------------------------------------------------------------------------------------

/**
 * A fast receiver's delivery times (emit to final outcome) at a steady rate, alone and beside a neighbour that
 * hangs or answers 503 with Retry-After: 6. Every event goes to both webhooks, default dispatcher options.
 */
async function lanesSection() {
  const fast = await startReceiver();
  const hanging = await startReceiver({ mode: 'hang' });
  const retryAfter = await startReceiver({ mode: 'retry-after' });
  const durationMs = quick ? 2000 : 5000;
  const perSecond = 200;
  const p99 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)];
  const run = async (neighbourUrl) => {
    const emittedAt = new Map();
    const latencies = [];
    let fastId = '';
    const dispatcher = createWebhookDispatcher({
      allowPrivateNetworks: true,
      timeoutMs: 3000,
      onDelivery: (result) => {
        if (result.webhookId === fastId) latencies.push(performance.now() - emittedAt.get(result.eventId));
      },
    });
    fastId = (await dispatcher.webhooks.create({ url: fast.url, events: ['*'] })).id;
    if (neighbourUrl) await dispatcher.webhooks.create({ url: neighbourUrl, events: ['*'] });
    const emits = [];
    let n = 0;
    const started = performance.now();
    while (performance.now() - started < durationMs) {
      const due = Math.floor(((performance.now() - started) * perSecond) / 1000);
      for (; n < due; n++) {
        const id = `lane-${n}`;
        emittedAt.set(id, performance.now());
        emits.push(dispatcher.emit({ id, type: 'flag-updated' }));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = performance.now() + 5000;
    while (latencies.length < n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await dispatcher.close({ deadlineMs: 10 });
    await Promise.allSettled(emits);
    if (latencies.length < n)
      throw new Error(`lanes: only ${latencies.length} of ${n} fast deliveries finished`);
    return p99(latencies);
  };
  progress('lanes: warm-up');
  await run(undefined); // JIT and connections: the first run is slower whatever it measures
  progress('lanes: fast receiver alone');
  const alone = await run(undefined);
  progress('lanes: beside a hanging receiver');
  const beside = await run(hanging.url);
  progress('lanes: beside a Retry-After receiver');
  const besideRetry = await run(retryAfter.url);
  const unit = 'ms p99';
  row('Lanes: fast receiver beside one that hangs', beside, unit, 'fast receiver alone', alone, {
    digits: 1,
    target: '<= 1.5x',
    met: beside / alone <= 1.5,
  });
  row(
    'Lanes: fast receiver beside one answering 503 Retry-After: 6',
    besideRetry,
    unit,
    'fast receiver alone',
    alone,
    {
      digits: 1,
      target: '<= 1.5x',
      met: besideRetry / alone <= 1.5,
    },
  );
  notes.push(
    `Lanes: ${perSecond} events/s for ${durationMs / 1000} s, each to the fast webhook and (in the last two runs) a ` +
      'neighbour; default options (concurrency 64, perWebhookConcurrency 8, health on), timeoutMs 3000; latency ' +
      'from emit to the final outcome of the fast delivery. Before lanes, the fast p90 went from 95 ms to 10.3 s ' +
      'beside a hanging receiver.',
  );
  await Promise.all([fast.stop(), hanging.stop(), retryAfter.stop()]);
}

// --- memory ------------------------------------------------------------------------------------------------------

async function memorySection() {
  progress(`memory: ${formatNumber(P.memEvents)} events through a slow receiver`);
  const args = [`--events=${P.memEvents}`, `--window=${P.memWindow}`, '--delay=20'];
  const child = fork(fileURLToPath(new URL('./memory.mjs', import.meta.url)), args, {
    stdio: 'inherit',
  });
  const [result] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`bench/memory.mjs exited with ${code}`);
    }),
  ]);
  await once(child, 'exit');
  const mb = (bytes) => bytes / 1_048_576;
  const at = (fraction) => {
    const wanted = result.total * fraction;
    return result.samples.find(([emitted]) => emitted >= wanted)?.[1] ?? result.peakRss;
  };
  // Flat means: the events after the first quarter (three times as many) need no more memory than it did.
  const quarterMark = result.total * 0.25;
  const peakOf = (samples) => Math.max(...samples.map(([, rss]) => rss));
  const firstQuarter = peakOf(result.samples.filter(([emitted]) => emitted <= quarterMark));
  const rest = peakOf(result.samples.filter(([emitted]) => emitted > quarterMark));
  const failures = Object.entries(result.failures);
  row(
    `Memory: ${formatNumber(result.total)} events, receiver +${result.delayMs} ms, peak RSS after the first 25%`,
    mb(rest),
    'MB',
    'peak RSS in the first 25%',
    mb(firstQuarter),
    { digits: 1, target: 'flat (<= 1.2x)', met: rest / firstQuarter <= 1.2 && failures.length === 0 },
  );
  notes.push(
    `Memory: default config (delivery log on), concurrency 64, a receiver answering after ${result.delayMs} ms; ` +
      `the caller keeps at most ${formatNumber(result.window)} emits outstanding (emit-and-await, sliding window) ` +
      `and \`maxQueued\` is set to the same bound. RSS before ${mb(result.rssBefore).toFixed(1)} MB; at ` +
      `25/50/75/100% of the events ${[0.25, 0.5, 0.75, 1].map((f) => mb(at(f)).toFixed(1)).join(' / ')} MB; ` +
      `peak ${mb(result.peakRss).toFixed(1)} MB (V8 heap used at most ${mb(result.peakHeap).toFixed(1)} MB); ` +
      `${formatNumber(result.delivered)} delivered, ${formatNumber(result.received)} received, ` +
      `${formatNumber(rate(result.delivered, result.elapsedMs))} deliveries/s` +
      (failures.length ? `; failures ${JSON.stringify(result.failures)}` : '; no failures (no QUEUE_FULL)') +
      '.',
  );
}

// --- run ---------------------------------------------------------------------------------------------------------

const started = performance.now();
try {
  if (enabled('http')) await httpSection();
  if (enabled('lanes')) await lanesSection();
  if (enabled('pipeline')) await pipelineSection();
  if (enabled('fanout')) await fanoutSection();
  if (enabled('matching')) await matchingSection();
  if (enabled('memory')) await memorySection();
  if (enabled('scale')) await scaleSection({ row, notes, progress, quick });
} catch (error) {
  progress('');
  console.error(error);
  process.exit(1);
}
progress('');

const header = ['Benchmark', 'Measured', 'Baseline (same run)', 'Ratio', 'Target', 'Met'];
const lines = rows.map((r) => [
  r.name,
  r.value,
  r.baseline,
  r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
  r.target,
  r.met === undefined ? '' : r.met ? 'yes' : 'NO',
]);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const line of lines) console.log(`| ${line.join(' | ')} |`);
console.log('');
for (const note of notes) console.log(`- ${note}`);
console.log(
  `- ${quick ? 'Quick run' : 'Full run'} in ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), concurrency ${CONCURRENCY}.`,
);
clearTimeout(watchdog);

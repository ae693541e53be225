// Helpers of the durable-queue tests (test/durable-queues.test.ts and the backend files beside it): a forked
// worker process (test/fixtures/*-worker.ts, bundled by `bundleFixture`), polling for a condition, and the scenario
// of a worker SIGKILLed while it holds jobs.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { DeliveryResult } from '../../src/core/types.js';
import type { WebhookDispatcher } from '../../src/index.js';
import type { Receiver, Responder } from './receiver.js';

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What `make()` throws, or undefined. */
export function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * The receiver of the SIGKILL scenario: worker "a" (header `x-test-worker`) gets no answer at all but a 503 to the
 * first attempt of each /flaky delivery (so it is retried); every other worker gets 200.
 */
export function answerAllButWorkerA(refused: Set<unknown>): Responder {
  return (request) => {
    if (request.headers['x-test-worker'] !== 'a') return 200;
    if (request.url === '/flaky' && !refused.has(request.headers['webhook-id'])) {
      refused.add(request.headers['webhook-id']);
      return 503;
    }
    return 'handled';
  };
}

export interface KillScenario {
  /** An emitter on the durable queue, with default options. */
  emitter: WebhookDispatcher;
  receiver: Receiver;
  /** The set given to `answerAllButWorkerA`. */
  refused: Set<unknown>;
  /** Forks a worker with default options. */
  fork(name: string): Promise<WorkerProcess>;
  /** Whether worker a has deferred a job back to the queue (its full lane). */
  deferred(): Promise<boolean>;
}

/**
 * Worker a takes 30 deliveries to /hang and 3 to /flaky and is SIGKILLed once it holds first attempts, a retry and
 * has deferred jobs, well before its hanging attempts end as failures (the default 10 s timeout). Worker b starts
 * then. Resolves with what a reported, what b delivered and how long after the kill b had delivered everything.
 */
export async function killWorkerHoldingJobs(s: KillScenario) {
  await s.emitter.webhooks.create({ url: `${s.receiver.url}/hang`, events: ['hang'] });
  await s.emitter.webhooks.create({ url: `${s.receiver.url}/flaky`, events: ['flaky'] });
  const a = await s.fork('a');
  const emitted: DeliveryResult[] = [];
  for (let i = 0; i < 30; i++) emitted.push(...(await s.emitter.emit({ id: randomUUID(), type: 'hang' })));
  for (let i = 0; i < 3; i++) emitted.push(...(await s.emitter.emit({ id: randomUUID(), type: 'flaky' })));
  const fromA = (url: string) =>
    s.receiver.requests.filter((r) => r.headers['x-test-worker'] === 'a' && r.url === url);
  const holding = async () =>
    fromA('/hang').length >= 8 && fromA('/flaky').length > s.refused.size && (await s.deferred());
  await until(holding, 'worker a to hold deliveries, retries and deferrals', 30_000);

  await a.kill();
  const killedAt = Date.now();
  const b = await s.fork('b');
  const expected = new Set(emitted.map((r) => r.deliveryId));
  const delivered = () =>
    new Set(b.results.filter((r) => r.outcome === 'delivered').map((r) => r.deliveryId));
  await until(() => delivered().size === expected.size, 'every delivery from worker b', 90_000);
  return {
    queued: emitted.map((r) => r.outcome),
    reportedByA: a.results,
    deliveredByB: delivered(),
    expected,
    resumedAfterMs: Date.now() - killedAt,
  };
}

/** A worker fixture process (test/fixtures/*-worker.ts) of the queue tests, with the results it reported. */
export interface WorkerProcess {
  child: ChildProcess;
  results: DeliveryResult[];
  /** Resolves once `count` results were reported by this worker. */
  waitForResults(count: number): Promise<void>;
  /** SIGKILL, and wait for the exit; nothing if it has already exited. */
  kill(): Promise<void>;
}

/**
 * Forks a worker fixture with its config as JSON and resolves once it is ready. `cleanups` gets its graceful end
 * (disconnect, SIGKILL after 5 s).
 */
export async function spawnWorkerProcess(
  bundle: string,
  config: { name: string },
  cleanups: (() => Promise<unknown> | unknown)[],
): Promise<WorkerProcess> {
  const child = fork(bundle, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const results: DeliveryResult[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  child.on('message', (message: { type: string; result?: DeliveryResult }) => {
    if (message.type !== 'delivery' || !message.result) return;
    results.push(message.result);
    for (const waiter of waiters.filter((x) => results.length >= x.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const exited = once(child, 'exit');
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  cleanups.push(async () => {
    if (gone()) return;
    child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  await Promise.race([
    new Promise<void>((resolve) => {
      const onReady = (message: { type: string }) => {
        if (message.type !== 'ready') return;
        child.off('message', onReady);
        resolve();
      };
      child.on('message', onReady);
    }),
    exited.then(([code]) => {
      throw new Error(`worker ${config.name} exited with ${code} before it was ready`);
    }),
  ]);
  return {
    child,
    results,
    waitForResults: (count) =>
      results.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    kill: async () => {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Bundles a fixture (TypeScript sources, packages external) into `outfile`, once per run. */
export async function bundleFixture(entry: string, outfile: string): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
}

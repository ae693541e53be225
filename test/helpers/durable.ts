// Helpers of the durable-setup tests (test/postgres-webhooks.test.ts, test/bullmq-webhooks.test.ts): a forked
// worker process (test/fixtures/*-worker.ts, bundled by the test) and polling for a condition.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import type { DeliveryResult } from '../../src/types.js';

export interface ForkedWorker {
  child: ChildProcess;
  /** Every DeliveryResult the worker reported. */
  results: DeliveryResult[];
  /** SIGKILL, and wait for the exit; nothing if it has already exited. */
  kill(): Promise<void>;
}

/** Forks a worker fixture with its config as JSON and resolves once it says it is ready to take jobs. */
export async function forkWorker(bundle: string, config: { name: string }): Promise<ForkedWorker> {
  const child = fork(bundle, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const results: DeliveryResult[] = [];
  const exited = once(child, 'exit');
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message: { type: string; result?: DeliveryResult }) => {
      if (message.type === 'ready') resolve();
      if (message.type === 'delivery' && message.result) results.push(message.result);
    });
  });
  const early = exited.then(() =>
    Promise.reject(new Error(`worker ${config.name} exited before it was ready`)),
  );
  await Promise.race([ready, early]).catch(async (error) => {
    await kill();
    throw error;
  });
  early.catch(() => {});
  return { child, results, kill };
}

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

// The whole example in one command: a receiver, two workers and an emitter against one Redis; one worker is
// killed with SIGKILL mid-run and the receiver still gets every delivery.
//   npm run build && REDIS_URL=redis://127.0.0.1:6379 node examples/bullmq/demo.mjs 200
import { fork } from 'node:child_process';
import { createInterface } from 'node:readline';

const count = Number(process.argv[2] ?? 200);
if (!Number.isInteger(count) || count < 1) {
  console.error('usage: node examples/bullmq/demo.mjs [number of deliveries, 200 by default]');
  process.exit(2);
}
const runId = Date.now().toString(36);
const env = {
  ...process.env,
  RUN_ID: runId,
  // Short locks so the killed worker's jobs move within seconds (15 s and 10 s by default).
  LOCK_DURATION_MS: '3000',
  STALLED_INTERVAL_MS: '1000',
};
const here = (file) => new URL(file, import.meta.url);

// Every child dies with the demo: on a failure, Ctrl-C or SIGTERM nothing is left running.
const children = new Set();
const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));
const fail = (message) => {
  console.error(`demo: ${message}`);
  process.exit(1);
};

const received = new Set(); // webhook-ids of this run's deliveries that reached the receiver
let deliveredByW1 = 0;
const checks = new Set();
const until = (condition) =>
  new Promise((resolve) => {
    const check = () => {
      const value = condition();
      if (value) {
        checks.delete(check);
        resolve(value);
      }
    };
    checks.add(check);
    check();
  });

let receiverUrl;
const ready = new Set(); // workers that said "taking jobs"
const start = (name, file, extraEnv = {}, args = []) => {
  const child = fork(here(file), args, {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!child.stopping && !(child.mayExit && code === 0))
      fail(`${name} exited (${signal ?? `code ${code}`})`);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const receipt = /^receiver: received (\S+) event (\S+):/.exec(line);
    if (receipt?.[2].startsWith(`${runId}-`)) received.add(receipt[1]);
    if (line.startsWith('w1: delivered ')) deliveredByW1 += 1;
    if (line === `${name}: taking jobs`) ready.add(name);
    receiverUrl ??= /^receiver: listening on (\S+)/.exec(line)?.[1];
    const committed = /^emitter: (\d+) deliveries/.exec(line);
    if (committed && Number(committed[1]) !== count)
      fail(`the emitter queued ${committed[1]} of ${count} deliveries`);
    // Per-delivery lines are many; show the rest.
    if (!/: (delivered|received) /.test(line)) console.log(line);
    for (const check of checks) check();
  });
  return child;
};
const stop = async (child, signal = 'SIGTERM') => {
  child.stopping = true;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
};

// The receiver on a port the OS picks; its first line says which.
const receiver = start('receiver', './receiver.mjs', { PORT: '0' });
await until(() => receiverUrl);

const w1 = start('w1', './worker.mjs', { WORKER: 'w1' });
const w2 = start('w2', './worker.mjs', { WORKER: 'w2' });
await until(() => ready.size === 2);

const emitter = start('emitter', './emitter.mjs', { RECEIVER_URL: receiverUrl }, [String(count)]);
emitter.mayExit = true;
const emitted = new Promise((resolve) => emitter.once('exit', resolve));

await until(() => received.size >= count / 4);
w1.stopping = true;
w1.kill('SIGKILL');
console.log(
  `demo: killed w1 with SIGKILL after ${received.size} of ${count} deliveries (w1 had delivered ${deliveredByW1}); its jobs go to w2 once their locks expire`,
);
await emitted;
await until(() => received.size >= count);
console.log(`demo: the receiver got all ${count} deliveries`);
await stop(w2);
await stop(receiver);

// The whole example in one command: a receiver, two workers and an emitter against one Redis; one worker is
// killed with SIGKILL mid-run and the receiver still gets every delivery.
//   npm run build && REDIS_URL=redis://127.0.0.1:6379 node examples/bullmq/demo.mjs
import { fork } from 'node:child_process';
import { once } from 'node:events';

const count = Number(process.argv[2] ?? 200);
const port = 4000 + Math.floor(Math.random() * 1000);
const env = {
  ...process.env,
  PORT: String(port),
  RECEIVER_URL: `http://127.0.0.1:${port}/hooks`,
  // Short locks so the killed worker's jobs move within seconds (the defaults are 30 s each).
  LOCK_DURATION_MS: '3000',
  STALLED_INTERVAL_MS: '1000',
};
const here = (file) => new URL(file, import.meta.url);

let distinct = 0;
const start = (file, extraEnv = {}, args = []) => {
  const child = fork(here(file), args, {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    for (const line of text.split('\n').filter(Boolean)) {
      const seen = /\((\d+) distinct\)/.exec(line);
      if (seen) distinct = Number(seen[1]);
      // Per-delivery lines are many; show the rest.
      if (!/: (delivered|received)/.test(line)) console.log(line);
    }
  });
  return child;
};
const waitFor = async (condition) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 50));
};

const receiver = start('./receiver.mjs');
const w1 = start('./worker.mjs', { WORKER: 'w1' });
const w2 = start('./worker.mjs', { WORKER: 'w2' });
await new Promise((resolve) => setTimeout(resolve, 1000));
await once(start('./emitter.mjs', {}, [String(count)]), 'exit');

await waitFor(() => distinct >= count / 4);
w1.kill('SIGKILL');
console.log(
  `demo: killed w1 with SIGKILL after ${distinct} deliveries; its jobs go to w2 once their locks expire`,
);
await waitFor(() => distinct >= count);
console.log(`demo: the receiver got all ${count} deliveries`);
w2.kill('SIGTERM');
await once(w2, 'exit');
receiver.kill();

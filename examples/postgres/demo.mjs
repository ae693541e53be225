// The whole example in one command: a receiver, two workers and a transactional emitter against one Postgres;
// one worker is killed with SIGKILL mid-run and the receiver still gets every delivery.
//   npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node examples/postgres/demo.mjs
import { fork } from 'node:child_process';
import { once } from 'node:events';

const count = Number(process.argv[2] ?? 200);
const port = 4000 + Math.floor(Math.random() * 1000);
const env = {
  ...process.env,
  PORT: String(port),
  RECEIVER_URL: `http://127.0.0.1:${port}/hooks`,
  // Short expiry and maintenance so the killed worker's jobs move within seconds (300 s and 60 s by default).
  EXPIRE_IN_SECONDS: '3',
  MAINTENANCE_INTERVAL_SECONDS: '1',
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
await new Promise((resolve) => setTimeout(resolve, 1500));
const emitter = start('./emitter.mjs', {}, [String(count)]);

await waitFor(() => distinct >= count / 4);
w1.kill('SIGKILL');
console.log(`demo: killed w1 with SIGKILL after ${distinct} deliveries; its jobs go to w2 once they expire`);
await once(emitter, 'exit');
await waitFor(() => distinct >= count);
console.log(`demo: the receiver got all ${count} deliveries`);
w2.kill('SIGTERM');
await once(w2, 'exit');
receiver.kill();

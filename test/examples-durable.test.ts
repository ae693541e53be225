import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const root = new URL('..', import.meta.url).pathname;
const COUNT = 60;
const DEMO_TIMEOUT_MS = 60_000;

interface DemoRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** What of the demo's process group (a worker, the receiver, the emitter) outlived it: `ps` lines. */
  leftBehind: string[];
}

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};
/** `ps` lines of the processes in a group, zombies (already dead, not yet reaped) left out. */
const groupMembers = (pgid: number) =>
  execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, group, stat]) => Number(group) === pgid && !stat?.startsWith('Z'))
    .map((fields) => fields.join(' '));

/** Process groups of demos still running: killed when this file is done or its process exits, whatever happened. */
const running = new Set<number>();
const killRunning = () => {
  for (const pgid of running) if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  running.clear();
};
process.once('exit', killRunning);
afterAll(killRunning);

/**
 * Runs a demo as written (`node examples/<name>/demo.mjs <count>`) in its own process group, so whatever it
 * forked can be found, and killed, once it is over or when it runs past the timeout.
 */
async function runDemo(script: string, env: Record<string, string>): Promise<DemoRun> {
  const child = spawn(process.execPath, [script, String(COUNT)], {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid as number;
  running.add(pgid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => {
    stderr += `\n[test] the demo ran past ${DEMO_TIMEOUT_MS} ms; its process group was killed\n`;
    process.kill(-pgid, 'SIGKILL');
  }, DEMO_TIMEOUT_MS);
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, signal) => resolve([code, signal])),
  );
  // The children write to the same pipes: they close once the last of them is gone.
  const closed = new Promise<boolean>((resolve) => child.once('close', () => resolve(true)));
  try {
    const [code, signal] = await exited;
    const allClosed = await Promise.race([
      closed,
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000)),
    ]);
    let leftBehind = groupMembers(pgid);
    for (let i = 0; leftBehind.length > 0 && i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      leftBehind = groupMembers(pgid);
    }
    if (!allClosed && leftBehind.length === 0) leftBehind = ['(the output pipes stayed open)'];
    return { code, signal, stdout, stderr, leftBehind };
  } finally {
    clearTimeout(timer);
    if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    running.delete(pgid);
  }
}

function expectEveryDeliveryAndAKill(run: DemoRun, emitted: RegExp) {
  expect(run.stderr).toBe('');
  expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
  expect(run.leftBehind).toEqual([]);
  expect(run.stdout).toMatch(/^receiver: listening on http:\/\/127\.0\.0\.1:\d+\/hooks$/m);
  expect(run.stdout).toMatch(/^w1: taking jobs$/m);
  expect(run.stdout).toMatch(/^w2: taking jobs$/m);
  expect(run.stdout).toMatch(emitted);
  // The kill came mid-run: a quarter or more had arrived, not all of them.
  const killed = /^demo: killed w1 with SIGKILL after (\d+) of (\d+) deliveries/m.exec(run.stdout);
  expect(killed, run.stdout).not.toBeNull();
  expect(Number(killed?.[2])).toBe(COUNT);
  expect(Number(killed?.[1])).toBeGreaterThanOrEqual(COUNT / 4);
  expect(Number(killed?.[1])).toBeLessThan(COUNT);
  const done = run.stdout.indexOf(`demo: the receiver got all ${COUNT} deliveries\n`);
  expect(done, run.stdout).toBeGreaterThan(run.stdout.indexOf('demo: killed w1'));
}

describe('examples/postgres and examples/bullmq', () => {
  it('have a build to run against', () => {
    expect(existsSync(`${root}dist/postgres.js`), 'run `npm run build` first').toBe(true);
    expect(existsSync(`${root}dist/bullmq.js`), 'run `npm run build` first').toBe(true);
  });

  it('carry the same receiver (each folder runs on its own)', () => {
    expect(readFileSync(`${root}examples/postgres/receiver.mjs`, 'utf8')).toBe(
      readFileSync(`${root}examples/bullmq/receiver.mjs`, 'utf8'),
    );
  });
});

describe('examples/postgres/demo.mjs', () => {
  let postgres: TestPostgres;
  // Its own schemas, so it shares nothing with other test files on the same DATABASE_URL.
  const id = randomUUID().slice(0, 8);
  const env = {
    SCHEMA: `wd_example_${id}`,
    BOSS_SCHEMA: `wd_example_${id}_boss`,
    QUEUE_NAME: `example-${id}`,
  };

  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);

  afterAll(async () => {
    if (!postgres) return;
    const pool = new pg.Pool({ connectionString: postgres.url });
    try {
      await pool.query(`DROP SCHEMA IF EXISTS ${env.SCHEMA}, ${env.BOSS_SCHEMA} CASCADE`);
    } finally {
      await pool.end();
      await postgres.stop();
    }
  }, 30_000);

  it(
    'delivers every committed change although a worker is SIGKILLed mid-run, and leaves nothing running',
    async () => {
      const run = await runDemo('examples/postgres/demo.mjs', { ...env, DATABASE_URL: postgres.url });
      expectEveryDeliveryAndAKill(
        run,
        new RegExp(`^emitter: ${COUNT} deliveries committed for webhook \\S+$`, 'm'),
      );
      // It ran in its own schemas and queue.
      const pool = new pg.Pool({ connectionString: postgres.url });
      try {
        const hooks = await pool.query(`SELECT record->>'name' AS name FROM ${env.SCHEMA}.webhooks`);
        expect(hooks.rows).toEqual([{ name: 'postgres example' }]);
        const queues = await pool.query(`SELECT name FROM ${env.BOSS_SCHEMA}.queue`);
        expect(queues.rows).toEqual([{ name: env.QUEUE_NAME }]);
      } finally {
        await pool.end();
      }
    },
    DEMO_TIMEOUT_MS + 10_000,
  );
});

describe('examples/bullmq/demo.mjs', () => {
  let redis: TestRedis;
  // Its own keys, so it shares nothing with other test files on the same REDIS_URL.
  const id = randomUUID().slice(0, 8);
  const prefix = `wd-example-${id}`;
  const env = { PREFIX: prefix, QUEUE_NAME: `example-${id}`, STORE_KEY: `${prefix}:webhooks` };

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);

  afterAll(async () => {
    if (!redis) return;
    const client = new Redis(redis.url);
    try {
      for await (const keys of client.scanStream({ match: `${prefix}:*`, count: 500 })) {
        if ((keys as string[]).length > 0) await client.del(...(keys as string[]));
      }
    } finally {
      client.disconnect();
      await redis.stop();
    }
  }, 30_000);

  it(
    'delivers every queued job although a worker is SIGKILLed mid-run, and leaves nothing running',
    async () => {
      const run = await runDemo('examples/bullmq/demo.mjs', { ...env, REDIS_URL: redis.url });
      expectEveryDeliveryAndAKill(
        run,
        new RegExp(`^emitter: ${COUNT} deliveries queued for webhook \\S+$`, 'm'),
      );
      const client = new Redis(redis.url);
      try {
        // It ran in its own keys: its queue and webhooks under its prefix, nothing under BullMQ's default one.
        expect(await client.exists(env.STORE_KEY)).toBe(1);
        expect(await client.keys(`${prefix}:${env.QUEUE_NAME}:*`)).not.toEqual([]);
        expect(await client.keys(`bull:${env.QUEUE_NAME}:*`)).toEqual([]);
      } finally {
        client.disconnect();
      }
    },
    DEMO_TIMEOUT_MS + 10_000,
  );
});

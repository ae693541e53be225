import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  host: string;
  port: number;
  /** Stops the server if this helper started it. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'The BullMQ integration tests need a real Redis. Either set REDIS_URL=redis://127.0.0.1:6379 to a running ' +
  'server, or install the Debian package so the tests can start one themselves: ' +
  '`sudo apt-get update && sudo apt-get install -y redis-server` (macOS: `brew install redis`).';

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The Redis the integration tests run against: `REDIS_URL` when set (CI starts one), else a throwaway
 * `redis-server` on a random loopback port, without persistence. Fails loudly, never skips, when neither exists.
 */
export async function startRedis(): Promise<TestRedis> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    const parsed = new URL(fromEnv);
    return {
      url: fromEnv,
      host: parsed.hostname,
      port: Number(parsed.port || 6379),
      stop: async () => {},
    };
  }
  if (!hasRedisServer()) throw new Error(`redis-server was not found on PATH. ${INSTALL_HINT}`);

  // A port can be taken between the probe and the bind; one more try covers that rare race.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await ready(child);
    } catch (error) {
      child.kill('SIGKILL');
      if (attempt < 2) continue;
      throw error;
    }
    return {
      url: `redis://127.0.0.1:${port}`,
      host: '127.0.0.1',
      port,
      async stop() {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      },
    };
  }
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`redis-server did not start within 10 s:\n${output}`)),
      10_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        cleanup();
        output = '';
        // Keep draining the pipes so the server never blocks on a full one.
        child.stdout?.resume();
        resolve();
      }
    };
    const onExit = (code: number | null) => fail(new Error(`redis-server exited with ${code}:\n${output}`));
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (output.length < 10_000) output += chunk.toString();
    });
    child.on('exit', onExit);
  });
}

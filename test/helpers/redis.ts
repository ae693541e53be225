import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * A `redis-server` of a test's own, which the test can kill and start again on the same port: loopback only, in a
 * temp dir, with the append-only file fsynced on every write (`appendfsync always`), so that whatever Redis
 * acknowledged survives a `SIGKILL`, as in a deployment with persistence. Independent of `REDIS_URL`.
 */
export interface RestartableRedis extends TestRedis {
  /** `SIGKILL`s the server (no shutdown, no save): clients see their connections reset, then refused. */
  kill(): Promise<void>;
  /** Starts the server again on the same port, from the same append-only file. */
  start(): Promise<void>;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
  /** Whether the server is running (not killed since it was last started). */
  readonly running: boolean;
}

export async function startRestartableRedis(): Promise<RestartableRedis> {
  if (!hasRedisServer()) throw new Error(`redis-server was not found on PATH. ${INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'wd-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  const spawnServer = async () => {
    const server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await ready(server);
    } catch (error) {
      server.kill('SIGKILL');
      throw error;
    }
    child = server;
  };
  const kill = async () => {
    const server = child;
    child = undefined;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = once(server, 'exit');
    server.kill('SIGKILL');
    await exited;
  };
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await spawnServer();
        break;
      } catch (error) {
        if (attempt >= 2) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    kill,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) throw new Error('this redis-server is already running');
      await spawnServer();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy on a loopback port in front of Redis, for a network that stops answering: `blackhole()` keeps every
 * connection open but forwards nothing either way, and accepts new connections that are never answered (what a
 * client sees when a link or a host silently drops packets: no reset, no refusal); `up()` forwards again (held
 * connections are reset: their clients reconnect).
 */
export interface BlackholeProxy {
  /** The Redis URL with the proxy's port. */
  url: string;
  blackhole(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startBlackholeProxy(target: TestRedis): Promise<BlackholeProxy> {
  let holding = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server = createServer((client) => {
    track(client);
    if (holding) {
      client.pause();
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    blackhole() {
      holding = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    up() {
      holding = false;
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A TCP proxy on a loopback port in front of Redis that counts round trips: one begins each time a client sends
 * data after Redis last answered it (or first). Commands written together, before any reply came back, are one
 * round trip; commands awaited one by one are one each. Each reply is held 50 ms after the client's last data. `commands(name)` counts a command in what clients sent.
 */
export interface RoundTripProxy {
  url: string;
  readonly roundTrips: number;
  /** How many times `name` (e.g. `evalsha`) occurs as a command name in what clients sent since `reset()`. */
  commands(name: string): number;
  /** Counts from zero again. */
  reset(): void;
  close(): Promise<void>;
}

const QUIET_MS = 50;

export async function startRoundTripProxy(target: TestRedis): Promise<RoundTripProxy> {
  let roundTrips = 0;
  let sent: string[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server = createServer((client) => {
    track(client);
    const upstream = connect(target.port, target.host);
    track(upstream);
    let answered = true;
    // Replies are held until the client has sent nothing for QUIET_MS: Redis answers the start of a large write
    // while the rest is still coming, which is still one round trip.
    let replies: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const flush = () => {
      quiet = undefined;
      if (replies.length === 0) return;
      answered = true;
      client.write(Buffer.concat(replies));
      replies = [];
    };
    const holdReplies = () => {
      clearTimeout(quiet);
      quiet = setTimeout(flush, QUIET_MS);
    };
    client.on('data', (chunk: Buffer) => {
      if (answered) roundTrips++;
      answered = false;
      sent.push(chunk.toString('latin1'));
      upstream.write(chunk);
      holdReplies();
    });
    upstream.on('data', (chunk: Buffer) => {
      replies.push(chunk);
      if (quiet === undefined) holdReplies();
    });
    client.on('close', () => {
      clearTimeout(quiet);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    get roundTrips() {
      return roundTrips;
    },
    commands(name) {
      // RESP: a command name is a bulk string of its own, `$<length>\r\n<name>\r\n`.
      const pattern = new RegExp(`\\$${name.length}\\r\\n${name}\\r\\n`, 'gi');
      return sent.join('').match(pattern)?.length ?? 0;
    },
    reset() {
      roundTrips = 0;
      sent = [];
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

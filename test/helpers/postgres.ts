import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPostgres {
  /** `postgres://user@127.0.0.1:<port>/db` */
  url: string;
  host: string;
  port: number;
  /** Stops the server if this helper started it. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'The Postgres integration tests need a real Postgres. Either set DATABASE_URL=postgres://user@127.0.0.1:5432/db ' +
  'to a running server (.ci/run starts one and sets it), or install the Debian package so the tests can start a ' +
  'throwaway one themselves: `sudo apt-get update && sudo apt-get install -y postgresql` (macOS: `brew install postgresql`).';

function findBin(): string | undefined {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  return path ? path.slice(0, path.lastIndexOf('/')) : undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The Postgres the integration tests run against: `DATABASE_URL` when set (CI starts one), else a throwaway
 * server (`initdb` into a temp dir, loopback only, no fsync) run as the `postgres` user when we are root. Fails
 * loudly, never skips, when neither is possible.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    const parsed = new URL(fromEnv);
    return { url: fromEnv, host: parsed.hostname, port: Number(parsed.port || 5432), stop: async () => {} };
  }
  const bin = findBin();
  if (!bin) throw new Error(`DATABASE_URL is not set and initdb was not found. ${INSTALL_HINT}`);
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'wd-pg-'));
  const as = (cmd: string, args: string[]) =>
    root
      ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' })
      : execFileSync(cmd, args, { stdio: 'pipe' });
  try {
    if (root) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), 0);
    as(join(bin, 'initdb'), [
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    const port = await freePort();
    as(join(bin, 'pg_ctl'), [
      '-D',
      join(dir, 'data'),
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      host: '127.0.0.1',
      port,
      async stop() {
        try {
          as(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `could not start a throwaway Postgres with ${bin}: ${(error as Error).message}\n${stderr}\n${INSTALL_HINT}`,
    );
  }
}

/**
 * A TCP proxy on a loopback port in front of Postgres, to take "Postgres" away and bring it back mid-test: `down()`
 * resets every connection and refuses new ones (what clients see when the server is stopped), `hang()` accepts
 * and never answers (a network black hole), `up()` forwards again.
 */
export interface OutageProxy {
  /** `DATABASE_URL` with the proxy's port. */
  url: string;
  up(): Promise<void>;
  down(): Promise<void>;
  hang(): Promise<void>;
  /** Stops forwarding on the open connections without closing them (a connection that died silently). */
  freeze(): void;
  close(): Promise<void>;
}

export async function startOutageProxy(target: TestPostgres): Promise<OutageProxy> {
  let mode: 'up' | 'hang' = 'up';
  let listening: Server | undefined;
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  const port = await freePort();
  const { connect } = await import('node:net');

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const server = createServer((client) => {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        client.on('error', () => {});
        if (mode === 'hang') return;
        const upstream = connect(target.port, target.host);
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        const pair: [Socket, Socket] = [client, upstream];
        pairs.add(pair);
        client.on('close', () => pairs.delete(pair));
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        listening = server;
        resolve();
      });
    });
  const stopListening = async () => {
    const server = listening;
    listening = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await listen();
  const url = new URL(target.url);
  url.port = String(port);
  url.hostname = '127.0.0.1';
  return {
    url: url.toString(),
    async up() {
      mode = 'up';
      if (!listening) await listen();
    },
    down: stopListening,
    async hang() {
      mode = 'hang';
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!listening) await listen();
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close: stopListening,
  };
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs Node programs in a network namespace of their own (`unshare -rn`) where only loopback exists, so a program
 * that tries to reach the outside (a DNS lookup of `example.com`, a webhook sent there) cannot send a packet off this
 * machine. Services of the test (Postgres, Redis) stay reachable at the same `127.0.0.1:<port>`: inside the namespace
 * a listener on that port forwards each connection through a Unix socket (filesystem sockets cross network
 * namespaces) to the real service outside.
 */
export class LoopbackOnly {
  private readonly dir = mkdtempSync(join(tmpdir(), 'wd-netns-'));
  private readonly bridges: Server[] = [];
  private readonly forwards: Array<{ port: number; path: string }> = [];
  private readonly sockets = new Set<Socket>();
  readonly runner = join(this.dir, 'run.mjs');

  constructor() {
    writeFileSync(this.runner, RUNNER);
  }

  /** Makes `127.0.0.1:port` inside the namespace reach `127.0.0.1:port` outside it. */
  async forward(port: number): Promise<void> {
    const path = join(this.dir, `${port}.sock`);
    const server = createServer((inside) => {
      const outside = createConnection(port, '127.0.0.1');
      for (const socket of [inside, outside]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          inside.destroy();
          outside.destroy();
        });
      }
      inside.pipe(outside).pipe(inside);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    this.bridges.push(server);
    this.forwards.push({ port, path });
  }

  /** The command and arguments that run `node file` in the namespace, with the forwards in place first. */
  command(file: string): [string, string[]] {
    const forwards = this.forwards.map(({ port, path }) => `${port}=${path}`).join(',');
    const script = 'ip link set lo up && exec "$0" "$@"';
    return ['unshare', ['-rn', 'sh', '-c', script, process.execPath, this.runner, forwards, file]];
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.bridges.map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Inside the namespace: listens on each forwarded port (unref'd: it keeps no program alive), then runs the program. */
const RUNNER = `import { createConnection, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
const [forwards, file] = process.argv.slice(2);
for (const entry of forwards ? forwards.split(',') : []) {
  const [port, path] = entry.split('=');
  const server = createServer((inside) => {
    const outside = createConnection(path);
    inside.on('error', () => outside.destroy());
    outside.on('error', () => inside.destroy());
    inside.pipe(outside).pipe(inside);
  });
  await new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
  server.unref();
}
process.argv.splice(1, 2);
await import(pathToFileURL(file).href);
`;

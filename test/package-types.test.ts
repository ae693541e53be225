import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
let project: string;
const compilers: Record<'5' | '7', string> = { '5': '', '7': '' };

/**
 * TypeScript 7 is the `typescript7` devDependency (an alias of typescript@^7). A tree installed before that
 * alias was added gets it once from npm (the cache first) into the temporary project instead.
 */
async function typescript7(dir: string): Promise<string> {
  try {
    return join(dirname(require.resolve('typescript7/package.json')), 'bin', 'tsc');
  } catch {
    const prefix = join(dir, 'ts7');
    await run(
      'npm',
      ['install', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', 'typescript@^7'],
      {
        cwd: dir,
      },
    );
    return join(prefix, 'node_modules', 'typescript', 'bin', 'tsc');
  }
}

// A consumer of the packed tarball: what users compile against, not the sources.
beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'index.d.ts')) || !existsSync(join(root, 'dist', 'receiver.d.cts'))) {
    await run('npx', ['tsup', '--silent'], { cwd: root }); // `npm run demo` builds JavaScript only
  }
  project = await mkdtemp(join(tmpdir(), 'webhook-dispatcher-types-'));
  await installPacked(project);
  compilers['5'] = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  compilers['7'] = await typescript7(project);

  await mkdir(join(project, 'src'));
  await writeFile(join(project, 'src', 'core.ts'), CORE);
  await writeFile(join(project, 'src', 'receiver.ts'), RECEIVER);
  await writeFile(join(project, 'src', 'node-types.ts'), WITH_NODE);
  await writeFile(join(project, 'src', 'cjs.cts'), CJS);
  await writeFile(join(project, 'src', 'entries.ts'), EVERY_ENTRY);
  await writeFile(join(project, 'src', 'entries.cts'), EVERY_ENTRY);
}, 240_000);

/**
 * The tarball from `npm pack`, unpacked as `node_modules/webhook-dispatcher` of `dir`, beside links to the repo's
 * own copies of its dependencies and peer dependencies: what `npm install <tarball>` would give, without a network.
 */
async function installPacked(dir: string): Promise<void> {
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root });
  const tarball = join(dir, stdout.trim().split('\n').pop() as string);
  const target = join(dir, 'node_modules', 'webhook-dispatcher');
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const manifest = JSON.parse(await readFile(join(target, 'package.json'), 'utf8'));
  const names = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ];
  for (const name of names) {
    await mkdir(dirname(join(dir, 'node_modules', name)), { recursive: true });
    await symlink(join(root, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  }
}

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

// Uses the public API the way users do; compiled with no DOM lib, and with or without @types/node.
const CORE = `
import {
  createWebhookDispatcher, fetchTransport, httpTransport, memoryStore, guardedLookup, createAddressPolicy,
  signPayload, verifySignature, verifyStandardWebhook, toLogger, WebhookError,
  type DeliveryResult, type Transport, type WebhookDispatcherOptions,
} from 'webhook-dispatcher';

const transport: Transport = httpTransport({ ca: new Uint8Array([1]) });
const options: WebhookDispatcherOptions = { store: memoryStore(), transport, logger: toLogger(undefined) };
const dispatcher = createWebhookDispatcher(options);
const lookup = guardedLookup(createAddressPolicy({}));
lookup('example.com', { all: true }, (error, addresses) => void [error?.code, addresses]);
export async function main(): Promise<string> {
  const hook = await dispatcher.webhooks.create({ url: 'https://example.com/hooks', events: ['invoice.paid'] });
  const results: DeliveryResult[] = await dispatcher.emit({ id: 'evt_1', type: 'invoice.paid' });
  const ok: boolean = verifySignature('{}', signPayload('{}', 'shh'), 'shh');
  verifyStandardWebhook({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers: {}, body: new Uint8Array(0) });
  void fetchTransport;
  try { await dispatcher.close(); } catch (error) { if (error instanceof WebhookError) return error.code; }
  return hook.id + results.length + ok;
}
`;

const RECEIVER = `
import {
  verifyWebhookRequest, fastifyWebhook, expressWebhook, nodeWebhookHandler, fetchWebhookHandler, memoryDedupeStore,
  type FetchRequestLike, type VerifiedWebhook,
} from 'webhook-dispatcher/receiver';

const options = { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', scheme: 'standard', dedupe: memoryDedupeStore() } as const;
export async function receive(request: FetchRequestLike): Promise<string> {
  const webhook: VerifiedWebhook<{ type: string }> = await verifyWebhookRequest(request, options);
  if (webhook.scheme === 'standard') return webhook.id + webhook.timestamp + webhook.payload.type;
  return webhook.body;
}
export const handlers = [expressWebhook(options), nodeWebhookHandler(options, () => {}), fastifyWebhook];
export const fetchHandler = fetchWebhookHandler(options, (webhook) => { void webhook; return undefined as never; });
`;

// Only with @types/node: Node's own objects fit the structural types of the receiver adapters.
const WITH_NODE = `
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { nodeWebhookHandler, verifyWebhookRequest, fetchWebhookHandler } from 'webhook-dispatcher/receiver';

const options = { secret: 'shh', scheme: 'launchdarkly' } as const;
// Annotated parameters give the handler Node's full types; unannotated ones get the structural types.
createServer(nodeWebhookHandler(options, (webhook, req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(204).end(String(webhook.id) + req.url);
}));
createServer(nodeWebhookHandler(options, (_webhook, _req, res) => { res.statusCode = 204; res.end(); }));
export const verified = verifyWebhookRequest(new Request('http://127.0.0.1/', { method: 'POST', body: '{}' }), options);
const handle = fetchWebhookHandler(options, async () => new Response(null, { status: 204 }));
export const response: Promise<Response> = handle(new Request('http://127.0.0.1/'));
`;

const CJS = `
import { createWebhookDispatcher } from 'webhook-dispatcher';
import { verifyWebhook } from 'webhook-dispatcher/receiver';
export const both = [createWebhookDispatcher, verifyWebhook];
`;

// Every entry of the `exports` map, with a value and a type from each (compiled as ESM and, as `.cts`, as CJS).
// The Node-facing entries (`/api`, `/bullmq`, `/postgres`) need `@types/node`, so only the node cases compile it.
const EVERY_ENTRY = `
import { createWebhookDispatcher, type WebhookDispatcherOptions } from 'webhook-dispatcher';
import { numberOption, type DeliveryQueue } from 'webhook-dispatcher/extend';
import { createWebhookApi, toNodeHandler, type WebhookApiOptions } from 'webhook-dispatcher/api';
import { bullmqQueue, redisStore, type RedisStoreOptions } from 'webhook-dispatcher/bullmq';
import { openTelemetry, type OpenTelemetryOptions } from 'webhook-dispatcher/otel';
import { migrate, postgresStore, type PostgresStoreOptions } from 'webhook-dispatcher/postgres';
import { verifyWebhookRequest, type VerifiedWebhook } from 'webhook-dispatcher/receiver';

export const values = [
  createWebhookDispatcher, createWebhookApi, toNodeHandler, bullmqQueue, redisStore, openTelemetry, migrate,
  postgresStore, postgresStore.migrate, verifyWebhookRequest, numberOption,
];
export type Types = [
  WebhookDispatcherOptions, DeliveryQueue, WebhookApiOptions, RedisStoreOptions, OpenTelemetryOptions, PostgresStoreOptions,
  VerifiedWebhook,
];
export const migrating = (pool: Parameters<typeof migrate>[0]): Promise<void> => postgresStore.migrate(pool);
`;

type Case = { ts: '5' | '7'; node: boolean; resolution: 'node16' | 'bundler' | 'node10' };
const cases: Case[] = [];
for (const ts of ['5', '7'] as const) {
  for (const node of [false, true]) {
    for (const resolution of ['node16', 'bundler'] as const) cases.push({ ts, node, resolution });
  }
}
// TypeScript 7 no longer has `moduleResolution: node10`; the `typesVersions` map serves TypeScript 5 users of it.
cases.push({ ts: '5', node: false, resolution: 'node10' }, { ts: '5', node: true, resolution: 'node10' });

describe('the packed declarations compile in a consumer project', () => {
  it.each(cases)(
    'TypeScript $ts, types node: $node, moduleResolution $resolution',
    async ({ ts, node, resolution }) => {
      const name = `tsconfig.ts${ts}-${resolution}-${node ? 'node' : 'bare'}.json`;
      const module = resolution === 'node16' ? 'node16' : resolution === 'bundler' ? 'esnext' : 'commonjs';
      const files = ['src/core.ts', 'src/receiver.ts'];
      if (node) files.push('src/node-types.ts', 'src/entries.ts');
      if (resolution === 'node16') files.push('src/cjs.cts');
      if (resolution === 'node16' && node) files.push('src/entries.cts');
      await writeFile(
        join(project, name),
        JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            lib: ['es2022'],
            module,
            moduleResolution: resolution,
            strict: true,
            noEmit: true,
            // The point: errors inside the package's own .d.ts files are reported, not skipped.
            skipLibCheck: false,
            types: node ? ['node'] : [],
            ...(node && { typeRoots: [join(root, 'node_modules', '@types')] }),
            // pg-boss's own types are `export = PgBoss`: under node10/CommonJS they take a default import only with
            // esModuleInterop, for this package's declarations as for pg-boss's own users.
            ...(node && resolution === 'node10' && { esModuleInterop: true }),
          },
          files,
        }),
      );
      const result = await run(process.execPath, [compilers[ts], '-p', name], { cwd: project }).then(
        () => '',
        (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
      );
      expect(result).toBe('');
    },
    120_000,
  );

  it('fails on a real type error (the check can fail)', async () => {
    await writeFile(
      join(project, 'src', 'wrong.ts'),
      "import { signPayload } from 'webhook-dispatcher';\nsignPayload(1, 2);\n",
    );
    await writeFile(
      join(project, 'tsconfig.wrong.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ['src/wrong.ts'],
      }),
    );
    const failed = await run(process.execPath, [compilers['7'], '-p', 'tsconfig.wrong.json'], {
      cwd: project,
    }).then(
      () => false,
      (error: { stdout?: string }) => /TS2345/.test(error.stdout ?? ''),
    );
    expect(failed).toBe(true);
  });
});

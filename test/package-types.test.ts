import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], { cwd: root });
  const tarball = join(project, stdout.trim().split('\n').pop() as string);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], {
    cwd: project,
  });
  compilers['5'] = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  compilers['7'] = await typescript7(project);

  await mkdir(join(project, 'src'));
  await writeFile(join(project, 'src', 'core.ts'), CORE);
  await writeFile(join(project, 'src', 'receiver.ts'), RECEIVER);
  await writeFile(join(project, 'src', 'node-types.ts'), WITH_NODE);
  await writeFile(join(project, 'src', 'cjs.cts'), CJS);
}, 240_000);

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
      if (node) files.push('src/node-types.ts');
      if (resolution === 'node16') files.push('src/cjs.cts');
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

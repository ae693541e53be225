import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../src/core/version.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
let project: string;

// What a user gets: the tarball from `npm pack`, installed into an empty project, used through import and require.
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'webhook-dispatcher-pack-'));
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], { cwd: root });
  const tarball = join(project, stdout.trim().split('\n').pop() as string);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project });
}, 120_000);

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

const script = (load: string) => `
${load}
const secret = 'shh';
const body = '{"a":1}';
if (!verifySignature(body, signPayload(body, secret), secret)) throw new Error('signature');
const dispatcher = createWebhookDispatcher();
const hook = await dispatcher.webhooks.create({ url: 'https://hooks.example.com/x', secret });
const request = await dispatcher.preview(hook.id, { _id: 'e1', accesses: [{ action: 'updateOn', resource: 'proj/p:env/production:flag/f' }] });
if (request.headers['x-ld-signature'] !== signPayload(request.body, secret)) throw new Error('preview');
console.log(request.headers['user-agent']);
await dispatcher.close();
`;

describe('the packed package', () => {
  it('works through import (ESM)', async () => {
    await writeFile(
      join(project, 'esm.mjs'),
      script("import { createWebhookDispatcher, signPayload, verifySignature } from 'webhook-dispatcher';"),
    );
    const { stdout } = await run(process.execPath, ['esm.mjs'], { cwd: project });
    expect(stdout.trim()).toBe(`webhook-dispatcher/${VERSION}`);
  });

  it('works through require (CommonJS)', async () => {
    await writeFile(
      join(project, 'cjs.cjs'),
      `(async () => {${script("const { createWebhookDispatcher, signPayload, verifySignature } = require('webhook-dispatcher');")}})().catch((e) => { console.error(e); process.exit(1); });`,
    );
    const { stdout } = await run(process.execPath, ['cjs.cjs'], { cwd: project });
    expect(stdout.trim()).toBe(`webhook-dispatcher/${VERSION}`);
  });

  it('ships only dist with types for both module systems', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: root });
    const files = (JSON.parse(stdout)[0].files as { path: string }[]).map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']),
    );
    expect(
      files.filter(
        (f) =>
          !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f),
      ),
    ).toEqual([]);
  });

  it('keeps VERSION equal to package.json', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });
});

describe('the API reference (`npm run docs:api`)', () => {
  it('documents every entry of the exports map, from the sources tsup builds', async () => {
    const typedoc = JSON.parse(await readFile(join(root, 'typedoc.json'), 'utf8'));
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    const tsup = await readFile(join(root, 'tsup.config.ts'), 'utf8');
    const sources = Object.fromEntries(
      [...tsup.matchAll(/^\s+(\w+): '(src\/[\w/]+\.ts)'/gm)].map((m) => [m[1], m[2]]),
    );
    const entries = Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'index' : key.slice(2)));
    expect(entries).toContain('extend');
    expect([...typedoc.entryPoints].sort()).toEqual(entries.map((entry) => sources[entry]).sort());
    expect(typedoc.out).toBe('docs/api');
    expect(pkg.scripts['docs:api']).toBe('typedoc');
  });
});

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { PORTAL_JS, PORTAL_PAGE } from '../src/api/portal/assets.generated.js';
import { bundlePortalScript, PORTAL_SOURCES, portalAssetsModule } from '../src/api/portal/bundle.js';

// The portal's script is TypeScript under src/api/portal/browser/ and its markup src/api/portal/page.html; the
// package carries both as text (src/api/portal/bundle.ts). These tests hold the three copies together: the
// sources, the committed generated module the tests run against, and what the build ships.
const run = promisify(execFile);
const root = PORTAL_SOURCES.root;
const browserDir = join(root, 'src/api/portal/browser');

describe('the portal sources', () => {
  it('type-check with the DOM types (their own tsconfig, as `npm run typecheck` runs it)', async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const { stdout } = await run(process.execPath, [tsc, '--noEmit', '-p', browserDir], { cwd: root });
    expect(stdout).toBe('');
  }, 120_000);

  it('pass biome: the script and the markup', async () => {
    const biome = join(root, 'node_modules/@biomejs/biome/bin/biome');
    const { stdout, stderr } = await run(
      process.execPath,
      [biome, 'check', '--error-on-warnings', browserDir, PORTAL_SOURCES.page],
      { cwd: root },
    );
    expect(stdout + stderr).toMatch(/Checked \d+ files/);
  }, 60_000);

  it('are what the committed module holds (after editing them, `npx tsup` rewrites it)', async () => {
    const committed = await readFile(PORTAL_SOURCES.generated, 'utf8');
    expect(committed === (await portalAssetsModule()), 'src/api/portal/assets.generated.ts is stale').toBe(
      true,
    );
  }, 60_000);

  it('bundle to one self-contained script: no import or export left, every module of browser/ in it', async () => {
    const script = await bundlePortalScript();
    expect(script).not.toMatch(/^\s*(import|export)\b/m);
    for (const module of ['api', 'dom', 'editor', 'deliveries', 'events', 'json', 'list', 'main']) {
      expect(script).toContain(`// src/api/portal/browser/${module}.ts`);
    }
    // It is the script the tests drive in Chromium (test/portal.test.ts) and the page loads it as a module.
    expect(PORTAL_JS).toBe(script);
    expect(PORTAL_PAGE).toContain('<script type="module" src="assets/portal.js"></script>');
  }, 60_000);
});

describe('the built package', () => {
  const dist = join(root, 'dist');
  beforeAll(() => {
    if (!existsSync(join(dist, 'api.js'))) throw new Error('dist/ is missing: run `npx tsup` first');
  });

  it('serves the script and the page bundled fresh from the sources, reading no file at run time', async () => {
    const api = await import(join(dist, 'api.js'));
    const core = await import(join(dist, 'index.js'));
    const dispatcher = core.createWebhookDispatcher();
    try {
      const handler = api.createWebhookApi({ dispatcher, tenant: () => api.NO_TENANT, portal: true });
      const script = await handler(new Request('http://host/assets/portal.js'));
      expect(script.status).toBe(200);
      expect(await script.text()).toBe(await bundlePortalScript());
      const page = await (await handler(new Request('http://host/'))).text();
      const markup = await readFile(PORTAL_SOURCES.page, 'utf8');
      expect(page).toBe(markup.replaceAll('{{title}}', 'Webhooks').replace('{{stylesheets}}', ''));
      const built =
        (await readFile(join(dist, 'api.js'), 'utf8')) + (await readFile(join(dist, 'api.cjs'), 'utf8'));
      expect(built).not.toMatch(/\bnode:fs\b|\breadFile/);
    } finally {
      await dispatcher.close();
    }
  });
});

/**
 * Build step of the portal's assets (not part of the package: no entry imports it). The page's script is
 * TypeScript under `browser/` (its own tsconfig, with the DOM types) and its markup is `page.html`; both reach the
 * package as text in one generated module, `assets.generated.ts`, so the published code reads no file at run time.
 *
 * - `npx tsup` bundles them fresh into the build (tsup.config.ts, plugin `portal-assets`) and rewrites the
 *   generated module when it is stale, so the sources and the build cannot disagree.
 * - The generated module is committed so that vitest, tsc and anything else that runs `src/` directly need no
 *   plugin; test/portal-source.test.ts fails when it is not what a fresh bundle makes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** The browser entry, the markup and the generated module they become. */
export const PORTAL_SOURCES = {
  root: here('../../../'),
  script: here('./browser/main.ts'),
  page: here('./page.html'),
  generated: here('./assets.generated.ts'),
} as const;

/** The browser script as one ES module (the page loads it with `type="module"`; it reads `import.meta.url`). */
export async function bundlePortalScript(): Promise<string> {
  const result = await build({
    entryPoints: [PORTAL_SOURCES.script],
    absWorkingDir: PORTAL_SOURCES.root,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1)
    throw new Error('The portal script did not bundle to one file');
  return output.text;
}

/** The text of `assets.generated.ts`, from the sources as they are now. */
export async function portalAssetsModule(): Promise<string> {
  const [script, page] = await Promise.all([bundlePortalScript(), readFile(PORTAL_SOURCES.page, 'utf8')]);
  return [
    '// Generated from browser/*.ts and page.html by bundle.ts (`npx tsup` rewrites it). Do not edit.',
    '',
    "/** The portal's script, bundled from `browser/main.ts`. */",
    `export const PORTAL_JS: string = ${JSON.stringify(script)};`,
    '',
    "/** The portal's page, with `{{title}}` and `{{stylesheets}}` to fill in. */",
    `export const PORTAL_PAGE: string = ${JSON.stringify(page)};`,
    '',
  ].join('\n');
}

/**
 * Rewrites `assets.generated.ts` when it differs from a fresh bundle; returns the fresh text. Under CI (`CI` set, as
 * `.ci/run` does) it leaves the committed file as it is, so test/portal-source.test.ts catches a stale commit there.
 */
export async function refreshPortalAssets(): Promise<string> {
  const fresh = await portalAssetsModule();
  const committed = await readFile(PORTAL_SOURCES.generated, 'utf8').catch(() => '');
  if (committed !== fresh && !process.env.CI) await writeFile(PORTAL_SOURCES.generated, fresh);
  return fresh;
}

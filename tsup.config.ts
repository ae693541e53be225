import { defineConfig } from 'tsup';
import { PORTAL_SOURCES, refreshPortalAssets } from './src/api/portal/bundle.js';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    bullmq: 'src/bullmq/index.ts',
    otel: 'src/otel/index.ts',
    postgres: 'src/postgres/index.ts',
    receiver: 'src/receiver/index.ts',
    api: 'src/api/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // Code the entries share (the error classes above all) goes to one chunk, not a copy per entry: an error thrown
  // by `/api` or `/receiver` is then the very class a user imports from the root.
  splitting: true,
  esbuildPlugins: [
    {
      // The portal's script (TypeScript in src/api/portal/browser/) and page, bundled fresh as text into the
      // build; the committed module they make is rewritten when stale (see src/api/portal/bundle.ts).
      name: 'portal-assets',
      setup(build) {
        build.onLoad({ filter: /[\\/]src[\\/]api[\\/]portal[\\/]assets\.generated\.ts$/ }, async (args) => {
          if (args.path !== PORTAL_SOURCES.generated) return undefined;
          return { contents: await refreshPortalAssets(), loader: 'ts' };
        });
      },
    },
    {
      // The entries other than the core (`/bullmq`, `/otel`, `/receiver`, ...) use it through `src/index.ts`; they must load the one built
      // core module (`./index.js` beside them), not carry a second copy whose classes would fail `instanceof` checks.
      name: 'core-entry-external',
      setup(build) {
        // With splitting, tsup builds the CJS files as ESM and converts them after: the extension tells them apart.
        const core = build.initialOptions.outExtension?.['.js'] === '.cjs' ? './index.cjs' : './index.js';
        build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
          /[\\/]src[\\/](?:bullmq|otel|receiver|api|postgres|durable)[\\/]/.test(args.importer)
            ? { path: core, external: true }
            : undefined,
        );
      },
    },
  ],
});

import { defineConfig } from 'tsup';
import { PORTAL_SOURCES, refreshPortalAssets } from './src/api/portal/bundle.js';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    extend: 'src/extend.ts',
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
      // The entries other than the core (`/bullmq`, `/otel`, `/receiver`, ...) use it through `src/index.ts` and
      // `src/extend.ts`; they must load those built modules (`./index.js`, `./extend.js` beside them), not carry a
      // second copy whose classes would fail `instanceof` checks.
      name: 'core-entry-external',
      setup(build) {
        // With splitting, tsup builds the CJS files as ESM and converts them after: the extension tells them apart.
        const extension = build.initialOptions.outExtension?.['.js'] === '.cjs' ? '.cjs' : '.js';
        build.onResolve({ filter: /^(?:\.\.\/)+(?:index|extend)\.js$/ }, (args) =>
          /[\\/]src[\\/](?:bullmq|otel|receiver|api|postgres|durable)[\\/]/.test(args.importer)
            ? {
                path: `./${args.path.endsWith('extend.js') ? 'extend' : 'index'}${extension}`,
                external: true,
              }
            : undefined,
        );
      },
    },
  ],
});

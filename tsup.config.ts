import { defineConfig } from 'tsup';

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
  splitting: false,
  esbuildPlugins: [
    {
      // The entries other than the core (`/bullmq`, `/otel`, `/receiver`, ...) use it through `src/index.ts`; they must load the one built
      // core module (`./index.js` beside them), not carry a second copy whose classes would fail `instanceof` checks.
      name: 'core-entry-external',
      setup(build) {
        const core = build.initialOptions.format === 'cjs' ? './index.cjs' : './index.js';
        build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
          /[\\/]src[\\/](?:bullmq|otel|receiver|api|postgres|durable)[\\/]/.test(args.importer)
            ? { path: core, external: true }
            : undefined,
        );
      },
    },
  ],
});

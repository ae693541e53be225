import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { LoopbackOnly } from './helpers/loopback-only.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
// Where only loopback exists: an example that tried to reach a real host could not.
const isolated = new LoopbackOnly();
afterAll(() => isolated.close());
const runExample = (file: string) => run(...isolated.command(file), { cwd: root, timeout: 30_000 });

// The examples import the package by its name, so they run against the build (`npm test` builds first).
// examples/postgres/ and examples/bullmq/ need a real Postgres and Redis: test/examples-durable.test.ts runs them.
describe('examples/', () => {
  it('has a build to run against', () => {
    expect(existsSync(`${root}dist/index.js`), 'run `npm run build` first').toBe(true);
  });

  const scripts = readdirSync(`${root}examples`).filter((file) => file.endsWith('.mjs'));

  it.each(scripts)('%s runs as written and exits 0', async (script) => {
    const { stdout } = await runExample(`examples/${script}`);
    expect(stdout.length).toBeGreaterThan(0);
  });

  it('quickstart verifies every signature and shows the retry', async () => {
    const { stdout } = await runExample('examples/quickstart.mjs');
    expect(stdout).toContain('Every signature verified; the 503 was retried.');
    expect(stdout).not.toContain('INVALID');
  });
});

import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoopbackOnly } from './helpers/loopback-only.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const dir = `${root}.readme-snippets`;

/**
 * Every ```js and ```ts block of README.md and docs/*.md is a whole program and must run as written (```ts is
 * transpiled by esbuild first). The files live inside the package, so `import ... from 'webhook-dispatcher'`
 * resolves to the build. An HTML comment on the line before a block changes how it runs:
 * - `<!-- snippet: module NAME -->`: written as `NAME` beside the document's other snippets (which import it
 *   as `./NAME`), not run on its own;
 * - `<!-- snippet: postgres -->` / `<!-- snippet: redis -->`: runs with DATABASE_URL / REDIS_URL set to a test server;
 * - `<!-- snippet: not run: REASON -->`: not run, for the few blocks that cannot be (kept few, see below).
 */
interface Snippet {
  name: string;
  code: string;
  file: string;
  needs?: 'postgres' | 'redis';
}

const documents = ['README.md', ...readdirSync(`${root}docs`).map((name) => `docs/${name}`)].filter((name) =>
  name.endsWith('.md'),
);
const notRun: string[] = [];
const snippets: Snippet[] = documents.flatMap(collect);

function collect(document: string): Snippet[] {
  const text = readFileSync(`${root}${document}`, 'utf8');
  const folder = `${dir}/${document.replace(/[/.]/g, '_')}`;
  mkdirSync(folder, { recursive: true });
  const found: Snippet[] = [];
  for (const match of text.matchAll(/(?:<!-- snippet: ([^\n]*?) -->\n)?```(js|ts)\n([\s\S]*?)```/g)) {
    const [, mark = '', lang, source] = match;
    const code = lang === 'ts' ? transpile(source!) : source!;
    const line = text.slice(0, match.index).split('\n').length + (mark ? 1 : 0);
    if (mark.startsWith('module ')) {
      writeFileSync(`${folder}/${mark.slice('module '.length)}`, code);
    } else if (mark.startsWith('not run: ')) {
      notRun.push(`${document}:${line}: ${mark}`);
    } else {
      found.push({
        name: `${document}:${line + 1}: ${firstStatement(source!)}`,
        code,
        file: `${folder}/snippet-${line + 1}.mjs`,
        needs: mark === 'postgres' || mark === 'redis' ? mark : undefined,
      });
    }
  }
  return found;
}

/** TypeScript to a module Node runs; a block that does not even parse becomes a program that says so. */
function transpile(source: string): string {
  try {
    return transformSync(source, { loader: 'ts', format: 'esm' }).code;
  } catch (error) {
    return `throw new Error(${JSON.stringify(`not a program: ${(error as Error).message}`)});\n`;
  }
}

function firstStatement(source: string): string | undefined {
  return source
    .split('\n')
    .find((line) => line.trim() && !line.startsWith('import') && !line.startsWith('//'))
    ?.trim();
}

let postgres: TestPostgres | undefined;
let redis: TestRedis | undefined;
// Snippets send webhooks to example.com and the like: they run where only loopback exists.
const isolated = new LoopbackOnly();
beforeAll(async () => {
  if (snippets.some((s) => s.needs === 'postgres')) postgres = await startPostgres();
  if (snippets.some((s) => s.needs === 'redis')) redis = await startRedis();
  for (const service of [postgres, redis]) if (service) await isolated.forward(service.port);
}, 120_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await isolated.close();
  await postgres?.stop();
  await redis?.stop();
});

function environment(needs: Snippet['needs']): NodeJS.ProcessEnv {
  if (needs === 'postgres') return { ...process.env, DATABASE_URL: postgres!.url };
  if (needs === 'redis') return { ...process.env, REDIS_URL: redis!.url };
  return process.env;
}

/**
 * A long-running snippet (a server that listens and never closes, a worker that waits for SIGTERM) runs as written
 * when it is still up, and has written nothing to stderr, after `ms`; it is then killed.
 */
function staysUp(
  file: string,
  env: NodeJS.ProcessEnv,
  ms: number,
): Promise<{ running: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const [command, args] = isolated.command(file);
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    setTimeout(() => {
      const result = { running: child.exitCode === null && child.signalCode === null, stderr };
      if (!result.running) return resolve(result);
      child.on('exit', () => resolve(result));
      child.kill('SIGKILL');
    }, ms);
  });
}

const longRunning = (code: string) =>
  (/\.listen\(/.test(code) && !/\.close\(/.test(code)) || /process\.on\(['"]SIGTERM['"]/.test(code);

describe('README.md and docs/', () => {
  it('has runnable snippets in the README and in every guide', () => {
    expect(snippets.filter((s) => s.name.startsWith('README.md')).length).toBeGreaterThan(0);
    expect(documents.length).toBeGreaterThan(5);
  });

  it('runs nearly every block: the ones marked "not run" are few and say why', () => {
    expect(notRun.length, notRun.join('\n')).toBeLessThanOrEqual(8);
    for (const mark of notRun) expect(mark).toMatch(/not run: \S.{10,}/);
  });

  it.each(snippets)('$name', async ({ code, file, needs }) => {
    writeFileSync(file, code);
    if (longRunning(code)) {
      const { running, stderr } = await staysUp(file, environment(needs), 3000);
      expect(stderr).toBe('');
      expect(running).toBe(true);
    } else {
      const options = { cwd: root, timeout: 30_000, env: environment(needs) };
      const [command, args] = isolated.command(file);
      const { stdout, stderr } = await run(command, args, options);
      expect(stderr).toBe('');
      // Snippets print what they show; a `false` (e.g. "signature valid: false") means it did not work.
      expect(stdout).not.toMatch(/\bfalse\b|undefined/);
    }
  });
});

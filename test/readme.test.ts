import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const dir = `${root}.readme-snippets`;

// Every ```js block of the README is a whole program and must run as written (```ts blocks are fragments).
// The files live inside the package, so `import ... from 'webhook-dispatcher'` resolves to the build.
const readme = readFileSync(`${root}README.md`, 'utf8');
const snippets = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match, i) => ({
  name: `snippet-${i + 1}: ${match[1]!
    .split('\n')
    .find((line) => line.trim() && !line.startsWith('import'))
    ?.trim()}`,
  code: match[1]!,
  file: `${dir}/snippet-${i + 1}.mjs`,
}));

mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A server snippet runs as written when it starts listening and does not crash. */
function staysUp(file: string, ms: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill(), ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('README.md', () => {
  it('has runnable snippets', () => {
    expect(snippets.length).toBeGreaterThan(3);
  });

  it.each(snippets)('$name', async ({ code, file }) => {
    writeFileSync(file, code);
    // A server snippet listens and never closes; it runs as written when it starts and stays up.
    if (/\.listen\(/.test(code) && !/\.close\(/.test(code)) {
      const { code: exit, stderr } = await staysUp(file, 1500);
      expect(stderr).toBe('');
      expect(exit).toBeNull(); // still running when stopped
    } else {
      const { stdout, stderr } = await run(process.execPath, [file], { cwd: root, timeout: 20_000 });
      expect(stderr).toBe('');
      // Snippets print what they show; a `false` (e.g. "signature valid: false") means it did not work.
      expect(stdout).not.toMatch(/\bfalse\b|undefined/);
    }
  });
});

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('the host is sacred', () => {
  it('no hostile callback, transport or store crashes the host process (run in a child process)', async () => {
    // `npm test` builds dist/ before the suite; the fixture loads it as a user's process would.
    expect(existsSync(`${ROOT}dist/index.js`)).toBe(true);
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        [`${ROOT}test/fixtures/hostile-host.mjs`],
        { timeout: 15_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(out.callbacks).toEqual([
      ['delivered', 200, 1],
      ['failed', 410, 1],
      // A retryOn that throws does not retry.
      ['failed', 500, 1],
    ]);
    expect(out.transports).toEqual([
      'ok',
      'INVALID_RESPONSE',
      'TRANSPORT_ERROR',
      'TIMEOUT',
      'INVALID_RESPONSE',
    ]);
    expect(out.forget).toBe('survived');
    expect(out.results).toEqual([
      'INVALID_RESPONSE',
      'INVALID_RESPONSE',
      'TRANSPORT_ERROR',
      'TRANSPORT_ERROR',
    ]);
  });
});

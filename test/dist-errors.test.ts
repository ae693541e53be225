import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

// What `npx tsup` built: every entry must use the one definition of the error classes, or an error thrown by
// `/receiver` is not the class a user imported from the root (`error.constructor !== OptionsError`).
const run = promisify(execFile);
const dist = new URL('../dist/', import.meta.url).pathname;

beforeAll(() => {
  if (!existsSync(join(dist, 'index.js'))) throw new Error('dist/ is missing: run `npx tsup` first');
});

async function definitionsIn(extension: '.js' | '.cjs'): Promise<string[]> {
  const files = (await readdir(dist)).filter((file) => file.endsWith(extension));
  const defining = await Promise.all(
    files.map(async (file) =>
      (await readFile(join(dist, file), 'utf8')).includes('BASE_BRAND = ') ? file : '',
    ),
  );
  return defining.filter(Boolean);
}

// Each entry's error against the root's classes, by identity: the brand makes `instanceof` pass even between
// copies, so the test compares constructors and prototypes.
const checks = `
const checks = {};
try { memoryDedupeStore({ maxEntries: -1 }); } catch (error) {
  checks.options = error.constructor === OptionsError && error instanceof WebhookError;
}
try {
  await verifyWebhook({ headers: {}, body: '{}' }, { scheme: 'standard', secret: 'whsec_' + Buffer.from('k'.repeat(24)).toString('base64') });
} catch (error) {
  checks.verify = error.constructor === SignatureVerificationError && error instanceof WebhookError;
}
checks.subclass = Object.getPrototypeOf(WebhookRequestError) === WebhookError;
checks.extend = Object.getPrototypeOf(OptionsError) === WebhookError;
console.log(JSON.stringify(checks));
`;
const expected = { options: true, verify: true, subclass: true, extend: true };

describe('the built error classes', () => {
  it.each(['.js', '.cjs'] as const)('are defined in one %s file', async (extension) => {
    expect(await definitionsIn(extension)).toHaveLength(1);
  });

  it('are the same classes in the root, `/extend` and the receiver entry (ESM)', async () => {
    const load = `
import { SignatureVerificationError, WebhookError } from '${dist}index.js';
import { OptionsError } from '${dist}extend.js';
import { memoryDedupeStore, verifyWebhook, WebhookRequestError } from '${dist}receiver.js';`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', load + checks]);
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('are the same classes in the root, `/extend` and the receiver entry (CommonJS)', async () => {
    const load = `
const { SignatureVerificationError, WebhookError } = require('${dist}index.cjs');
const { OptionsError } = require('${dist}extend.cjs');
const { memoryDedupeStore, verifyWebhook, WebhookRequestError } = require('${dist}receiver.cjs');`;
    const { stdout } = await run(process.execPath, [
      '--input-type=commonjs',
      '-e',
      `${load}(async () => {${checks}})();`,
    ]);
    expect(JSON.parse(stdout)).toEqual(expected);
  });
});

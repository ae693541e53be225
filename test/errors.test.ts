import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as extendSource from '../src/extend.js';
import {
  BlockedAddressError,
  InvalidEventError,
  OptionsError,
  PolicyError,
  TemplateError,
} from '../src/extend.js';
import type * as source from '../src/index.js';
import {
  DispatcherClosedError,
  isTransportError,
  isWebhookError,
  SignatureVerificationError,
  TransportError,
  WebhookError,
  WebhookNotFoundError,
  WebhookValidationError,
} from '../src/index.js';
import { toTransportError } from '../src/transport/errors.js';

// The root entry and `/extend` together: the error classes are split between them.
type Api = typeof source & typeof extendSource;
const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
let built: string;
let esm: Api;
let cjs: Api;

// Two real copies of the package, as a user gets them: the ESM and the CJS build of the same sources, loaded side
// by side. Built into a directory of their own so that tests reading dist/ are not disturbed.
beforeAll(async () => {
  mkdirSync(join(root, '.vitest'), { recursive: true });
  built = mkdtempSync(join(root, '.vitest', 'dual-build-'));
  await run('npx', ['tsup', '--out-dir', built, '--no-dts', '--silent'], { cwd: root });
  esm = { ...(await import(join(built, 'index.js'))), ...(await import(join(built, 'extend.js'))) } as Api;
  const require = createRequire(import.meta.url);
  cjs = { ...require(join(built, 'index.cjs')), ...require(join(built, 'extend.cjs')) } as Api;
}, 60_000);

afterAll(() => {
  if (built) rmSync(built, { recursive: true, force: true });
});

describe('WebhookError across the ESM and CJS builds', () => {
  it('loads two distinct copies of every class', () => {
    expect(esm.WebhookError).not.toBe(cjs.WebhookError);
    expect(Object.getPrototypeOf(new cjs.WebhookError('ERR_INVALID_OPTIONS', 'x'))).not.toBe(
      esm.WebhookError.prototype,
    );
  });

  it('answers instanceof for an error from the other copy, both ways', () => {
    expect(new cjs.WebhookError('ERR_INVALID_OPTIONS', 'x')).toBeInstanceOf(esm.WebhookError);
    expect(new esm.WebhookError('ERR_INVALID_OPTIONS', 'x')).toBeInstanceOf(cjs.WebhookError);
    expect(new cjs.TransportError('ECONNRESET', 'x')).toBeInstanceOf(esm.TransportError);
    expect(new cjs.TransportError('ECONNRESET', 'x')).toBeInstanceOf(esm.WebhookError);
    expect(new cjs.PolicyError('statements', 'x')).toBeInstanceOf(esm.WebhookValidationError);
    expect(new cjs.PolicyError('statements', 'x')).toBeInstanceOf(extendSource.PolicyError);
  });

  it('keeps the class hierarchy: an error is not an instance of a sibling or of a subclass', () => {
    const fromCjs = new cjs.WebhookValidationError('url', 'x');
    expect(fromCjs).not.toBeInstanceOf(esm.PolicyError);
    expect(fromCjs).not.toBeInstanceOf(esm.TransportError);
    expect(new cjs.TransportError('TIMEOUT', 'x')).not.toBeInstanceOf(esm.OptionsError);
    expect(new cjs.WebhookError('ERR_INVALID_OPTIONS', 'x')).not.toBeInstanceOf(esm.TransportError);
  });

  it('recognizes errors the other copy throws from its own code paths', async () => {
    const thrown = await cjs
      .createWebhookDispatcher()
      .webhooks.create({ url: 'ftp://x' })
      .catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(esm.WebhookValidationError);
    expect(esm.isWebhookError(thrown)).toBe(true);
    const refused = await esm
      .httpTransport()
      .send(
        { url: 'http://127.0.0.1:9/', method: 'POST', headers: {}, body: '' },
        { signal: new AbortController().signal, timeoutMs: 1000 },
      )
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(cjs.TransportError);
    expect(cjs.isTransportError(refused)).toBe(true);
    expect(refused).toMatchObject({ code: 'BLOCKED_ADDRESS' });
  });

  it('does not take a look-alike for one: the brand is not the name', () => {
    const fake = Object.assign(new Error('x'), { name: 'WebhookError', code: 'ERR_INVALID_OPTIONS' });
    expect(fake).not.toBeInstanceOf(esm.WebhookError);
    expect(esm.isWebhookError(fake)).toBe(false);
    expect(esm.isWebhookError(null)).toBe(false);
    expect(esm.isWebhookError('ERR_INVALID_OPTIONS')).toBe(false);
  });
});

describe('the error classes', () => {
  const cases: [WebhookError, string, string][] = [
    [new WebhookValidationError('url', 'm'), 'WebhookValidationError', 'ERR_INVALID_WEBHOOK'],
    [new PolicyError('statements[0]', 'm'), 'PolicyError', 'ERR_INVALID_POLICY'],
    [new TemplateError('bodyTemplate', 'm'), 'TemplateError', 'ERR_INVALID_TEMPLATE'],
    [new InvalidEventError('m'), 'InvalidEventError', 'ERR_INVALID_EVENT'],
    [new OptionsError('timeoutMs', 'm'), 'OptionsError', 'ERR_INVALID_OPTIONS'],
    [new WebhookNotFoundError('get', 'w1'), 'WebhookNotFoundError', 'ERR_WEBHOOK_NOT_FOUND'],
    [new DispatcherClosedError('emit'), 'DispatcherClosedError', 'ERR_DISPATCHER_CLOSED'],
    [new BlockedAddressError('127.0.0.1', 'm'), 'BlockedAddressError', 'ERR_BLOCKED_ADDRESS'],
    [
      new SignatureVerificationError('ERR_MISSING_HEADERS', 'm'),
      'SignatureVerificationError',
      'ERR_MISSING_HEADERS',
    ],
    [new TransportError('ECONNRESET', 'm'), 'TransportError', 'ECONNRESET'],
  ];

  it.each(cases)('%s is a WebhookError and an Error with its name and code', (error, name, code) => {
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(isWebhookError(error)).toBe(true);
    expect(String(error)).toBe(`${name}: ${error.message}`);
  });

  it('keeps the brand off the enumerable properties, so errors compare and serialize as before', () => {
    const error = new TransportError('TIMEOUT', 'late');
    expect(
      Object.getOwnPropertySymbols(error).every(
        (s) => !Object.getOwnPropertyDescriptor(error, s)?.enumerable,
      ),
    ).toBe(true);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ name: 'TransportError', code: 'TIMEOUT' });
  });

  it('keeps the ordinary prototype check for subclasses defined outside the library', () => {
    class QueueDown extends TransportError {}
    const mine = new QueueDown('QUEUE_DOWN', 'm');
    expect(mine).toBeInstanceOf(QueueDown);
    expect(mine).toBeInstanceOf(TransportError);
    expect(mine).toBeInstanceOf(WebhookError);
    expect(isTransportError(mine)).toBe(true);
    expect(new TransportError('TIMEOUT', 'm')).not.toBeInstanceOf(QueueDown);
  });

  it('toTransportError keeps a TransportError and wraps anything else, original in cause', () => {
    const own = new TransportError('QUEUE_DOWN', 'm');
    expect(toTransportError(own)).toBe(own);
    const wrapped = toTransportError(new Error('boom'));
    expect(wrapped).toMatchObject({ name: 'TransportError', code: 'TRANSPORT_ERROR', message: 'boom' });
    expect(wrapped).toBeInstanceOf(WebhookError);
    expect(toTransportError('a string')).toMatchObject({ code: 'TRANSPORT_ERROR', message: 'a string' });
    expect(toTransportError(undefined)).toMatchObject({ code: 'TRANSPORT_ERROR' });
  });
});

import { describe, expect, it } from 'vitest';
import { assertKnownKeys, closest } from '../src/core/option-checks.js';
import { OptionsError } from '../src/extend.js';
import { fetchTransport, httpTransport } from '../src/index.js';

/** The OptionsError `fn` throws; fails the test when it throws nothing or something else. */
function refusal(fn: () => unknown): OptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionsError);
    return error as OptionsError;
  }
  throw new Error('expected an OptionsError');
}

describe('transport options: unknown keys are refused with a suggestion', () => {
  it('httpTransport({ timeout }) names `timeout` and suggests `connectTimeoutMs`', () => {
    // @ts-expect-error a typo on purpose
    const error = refusal(() => httpTransport({ timeout: 5 }));
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS', field: 'timeout' });
    expect(error.message).toBe(
      'Unknown option `timeout` of httpTransport(); did you mean `connectTimeoutMs`?',
    );
  });

  it('fetchTransport({ allowPrivateNetwork }) suggests `allowPrivateNetworks`', () => {
    // @ts-expect-error a typo on purpose
    const error = refusal(() => fetchTransport({ allowPrivateNetwork: true }));
    expect(error.field).toBe('allowPrivateNetwork');
    expect(error.message).toContain('did you mean `allowPrivateNetworks`?');
  });

  it('refuses a key even when its value is undefined, and options that are not an object', () => {
    // @ts-expect-error a typo on purpose
    expect(refusal(() => httpTransport({ maxResponseByte: undefined })).field).toBe('maxResponseByte');
    // @ts-expect-error not an object
    expect(refusal(() => fetchTransport('fast')).message).toBe(
      'Expected `options` of fetchTransport() to be an object, got "fast"',
    );
  });

  it('validates values with the one message pattern', () => {
    expect(refusal(() => httpTransport({ connections: 1.5 })).message).toMatch(
      /^Expected `connections` to be a positive integer of at most \d+, got 1\.5$/,
    );
    expect(refusal(() => fetchTransport({ maxDiscardBytes: -1 })).field).toBe('maxDiscardBytes');
    // @ts-expect-error wrong type on purpose
    expect(refusal(() => fetchTransport({ allowPrivateNetworks: 'yes' })).message).toBe(
      'Expected `allowPrivateNetworks` to be a boolean, got "yes"',
    );
    // @ts-expect-error wrong type on purpose
    expect(refusal(() => fetchTransport({ fetch: 'globalThis.fetch' })).field).toBe('fetch');
    // @ts-expect-error wrong type on purpose
    expect(refusal(() => httpTransport({ ca: 42 })).field).toBe('ca');
    expect(refusal(() => fetchTransport({ allowedHosts: ['10.0.0.0/33'] })).field).toBe('allowedHosts[0]');
  });
});

describe('assertKnownKeys and closest (the one unknown-key check, shared with the dispatcher)', () => {
  const DISPATCHER = ['store', 'transport', 'retry', 'timeoutMs', 'concurrency', 'allowPrivateNetworks'];

  it('suggests the option a typo most likely meant', () => {
    const cases: [string, readonly string[], string][] = [
      ['retries', DISPATCHER, 'retry'],
      ['timeout', DISPATCHER, 'timeoutMs'],
      ['Concurency', DISPATCHER, 'concurrency'],
      ['allowPrivateNetwork', DISPATCHER, 'allowPrivateNetworks'],
      ['timeout', ['connectTimeoutMs', 'maxResponseBytes', 'connections'], 'connectTimeoutMs'],
    ];
    for (const [typo, known, meant] of cases) expect(closest(typo, known), typo).toBe(meant);
    const error = refusal(() => assertKnownKeys({ retries: 3 }, DISPATCHER, 'createWebhookDispatcher()'));
    expect(error.message).toBe(
      'Unknown option `retries` of createWebhookDispatcher(); did you mean `retry`?',
    );
  });

  it('lists the known options, without a guess, when nothing is close', () => {
    expect(closest('colour', DISPATCHER)).toBeUndefined();
    const error = refusal(() => assertKnownKeys({ colour: 'red' }, DISPATCHER, 'createWebhookDispatcher()'));
    expect(error.message).toBe(
      `Unknown option \`colour\` of createWebhookDispatcher(); known options: ${DISPATCHER.join(', ')}`,
    );
  });

  it('names the field of a nested object with its path', () => {
    const error = refusal(() => assertKnownKeys({ limit: 3 }, ['retries', 'delayMs'], 'retry'));
    expect(error.field).toBe('retry.limit');
  });

  it('accepts known keys and an empty object', () => {
    expect(() => assertKnownKeys({}, DISPATCHER, 'x()')).not.toThrow();
    expect(() => assertKnownKeys({ retry: 1, timeoutMs: undefined }, DISPATCHER, 'x()')).not.toThrow();
  });
});

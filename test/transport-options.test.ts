import { describe, expect, it } from 'vitest';
import { fetchTransport, httpTransport, OptionsError } from '../src/index.js';
import { assertKnownOptions } from '../src/options.js';

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
    expect(error.message).toMatch(
      /^Unknown option `timeout` of httpTransport\(\); did you mean `connectTimeoutMs`\?/,
    );
    expect(error.message).toContain('Known options: connectTimeoutMs, maxResponseBytes');
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

describe('assertKnownOptions', () => {
  const DISPATCHER = ['store', 'transport', 'retry', 'timeoutMs', 'concurrency', 'allowPrivateNetworks'];

  it('suggests the option a typo most likely meant', () => {
    const cases: [string, string][] = [
      ['retries', 'retry'],
      ['timeout', 'timeoutMs'],
      ['Concurency', 'concurrency'],
      ['allowPrivateNetwork', 'allowPrivateNetworks'],
    ];
    for (const [typo, meant] of cases) {
      const error = refusal(() => assertKnownOptions({ [typo]: 1 }, DISPATCHER, 'createWebhookDispatcher()'));
      expect(error.message, typo).toContain(`did you mean \`${meant}\`?`);
    }
  });

  it('lists the known options, without a guess, when nothing is close', () => {
    const error = refusal(() =>
      assertKnownOptions({ colour: 'red' }, DISPATCHER, 'createWebhookDispatcher()'),
    );
    expect(error.message).toBe(
      `Unknown option \`colour\` of createWebhookDispatcher(). Known options: ${DISPATCHER.join(', ')}`,
    );
  });

  it('names the field of a nested object with its path', () => {
    const error = refusal(() =>
      assertKnownOptions({ limit: 3 }, ['retries', 'delayMs'], 'createWebhookDispatcher()', 'retry.'),
    );
    expect(error.field).toBe('retry.limit');
    expect(
      refusal(() => assertKnownOptions(3, ['retries'], 'createWebhookDispatcher()', 'retry.')).message,
    ).toBe('Expected `retry` of createWebhookDispatcher() to be an object, got 3');
  });

  it('accepts known keys, undefined options and an empty object', () => {
    expect(() => assertKnownOptions(undefined, DISPATCHER, 'x()')).not.toThrow();
    expect(() => assertKnownOptions({}, DISPATCHER, 'x()')).not.toThrow();
    expect(() => assertKnownOptions({ retry: 1, timeoutMs: undefined }, DISPATCHER, 'x()')).not.toThrow();
  });
});

import { Console } from 'node:console';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { safeJson, toLogger } from '../src/core/logger.js';

/** A stream that keeps what was written, split into lines. */
function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const failure = { webhookId: 'wh_1', code: 'HTTP_STATUS', status: 503, attempts: 2 };

describe('toLogger with pino', () => {
  it('logs meta fields as JSON properties and the message as msg', () => {
    const { stream, lines } = capture();
    const logger = toLogger(pino({ level: 'debug' }, stream));
    logger.warn('webhook delivery failed', failure);
    logger.debug('webhook delivered', { webhookId: 'wh_2', status: 200 });

    const [warn, debug] = lines().map((line) => JSON.parse(line));
    expect(warn).toMatchObject({ level: 40, msg: 'webhook delivery failed', ...failure });
    expect(debug).toMatchObject({ level: 20, msg: 'webhook delivered', webhookId: 'wh_2', status: 200 });
  });

  it('works with a child logger and follows level changes made later', () => {
    const { stream, lines } = capture();
    const root = pino({ level: 'info' }, stream);
    const child = root.child({ component: 'webhooks' });
    const logger = toLogger(child);
    logger.debug('hidden', { webhookId: 'a' });
    child.level = 'debug';
    logger.debug('shown', { webhookId: 'b' });
    const logged = lines().map((line) => JSON.parse(line));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ msg: 'shown', webhookId: 'b', component: 'webhooks' });
  });

  it('uses the style given when detection cannot tell', () => {
    const calls: unknown[][] = [];
    const wrapper = { info: (...args: unknown[]) => calls.push(args) };
    toLogger(wrapper, { style: 'meta-first' }).info('hello', { webhookId: 'x' });
    toLogger(wrapper).info('hello', { webhookId: 'y' });
    expect(calls).toEqual([
      [{ webhookId: 'x' }, 'hello'],
      ['hello', { webhookId: 'y' }],
    ]);
  });
});

describe('toLogger with console', () => {
  it('writes one line per call with meta as JSON on the same line', () => {
    const { stream, lines } = capture();
    const logger = toLogger(new Console({ stdout: stream, stderr: stream }));
    logger.warn('webhook delivery failed', {
      ...failure,
      error: { code: 'HTTP_STATUS', message: 'HTTP 503' },
    });
    logger.info('plain');
    expect(lines()).toEqual([
      'webhook delivery failed {"webhookId":"wh_1","code":"HTTP_STATUS","status":503,"attempts":2,"error":{"code":"HTTP_STATUS","message":"HTTP 503"}}',
      'plain',
    ]);
  });

  it('survives cycles, BigInt and huge values, still on one bounded line', () => {
    const { stream, lines } = capture();
    const meta: Record<string, unknown> = { n: 10n, big: 'x'.repeat(100_000), list: Array(100_000).fill(1) };
    meta.self = meta;
    const logger = toLogger(new Console({ stdout: stream, stderr: stream }));
    logger.error('odd meta', meta);
    const cyclic: Record<string, unknown> = { id: 1 };
    cyclic.again = cyclic;
    logger.error('cyclic', cyclic);
    const [odd, cyc] = lines();
    expect(odd!.length).toBeLessThan(5000);
    expect(odd).toMatch(/^odd meta \{"n":"10","big":"x{1024}…","list":\[1(,1)+,?…\(truncated\)$/);
    expect(cyc).toBe('cyclic {"id":1,"again":"[Circular]"}');
  });
});

describe('toLogger never lets the logger hurt the caller', () => {
  it('ignores a method that throws, a missing method and a non-function', () => {
    const logger = toLogger({
      error: () => {
        throw new Error('disk full');
      },
      warn: 'nope' as never,
    });
    expect(() => logger.error('x', {})).not.toThrow();
    expect(() => logger.warn('x', {})).not.toThrow();
    expect(() => logger.debug('x', {})).not.toThrow();
  });

  it('swallows a rejected promise returned by a method (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const logger = toLogger({ info: async () => Promise.reject(new Error('remote sink down')) });
      logger.info('x', { webhookId: 'w' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('calls methods with the logger as this', () => {
    class Sink {
      seen: string[] = [];
      info(message: string) {
        this.seen.push(message);
      }
    }
    const sink = new Sink();
    toLogger(sink).info('bound', {});
    expect(sink.seen).toEqual(['bound']);
  });

  it('is silent without a logger and returns an adapted logger as it is', () => {
    const silent = toLogger(undefined);
    expect(() => silent.error('x', {})).not.toThrow();
    expect(toLogger(silent)).toBe(silent);
  });
});

describe('safeJson', () => {
  it('renders errors, dates and non-finite numbers', () => {
    const error = Object.assign(new Error('boom'), { code: 'E1' });
    expect(safeJson({ error, at: new Date(0), n: Number.NaN, f: () => 1 }, 1000)).toBe(
      '{"error":{"name":"Error","message":"boom","code":"E1"},"at":"1970-01-01T00:00:00.000Z","n":null}',
    );
  });

  it('keeps a value seen twice (not a cycle)', () => {
    const shared = { a: 1 };
    expect(safeJson({ x: shared, y: shared }, 1000)).toBe('{"x":{"a":1},"y":{"a":1}}');
  });

  it('stops at a throwing getter', () => {
    const hostile = {
      ok: 1,
      get bad() {
        throw new Error('getter');
      },
    };
    expect(safeJson(hostile, 1000)).toBe('{"ok":1…(truncated)');
  });
});

import { describe, expect, it } from 'vitest';
import { normalizeHeaders } from '../src/transport/response-headers.js';

describe('normalizeHeaders', () => {
  it('lower-cases names and joins repeated values with a comma', () => {
    expect(normalizeHeaders({ 'Retry-After': '5', 'X-A': ['1', '2'], 'x-a': '3' })).toEqual({
      'retry-after': '5',
      'x-a': '1, 2, 3',
    });
  });

  it('keeps every set-cookie value apart, one per line, since cookies contain commas', () => {
    const headers = normalizeHeaders({ 'Set-Cookie': ['a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'b=2'] });
    expect(headers['set-cookie']!.split('\n')).toEqual(['a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'b=2']);
  });

  it('reads a WHATWG Headers, set-cookie included', () => {
    const headers = new Headers([
      ['Retry-After', '9'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
    expect(normalizeHeaders(headers)).toEqual({ 'retry-after': '9', 'set-cookie': 'a=1\nb=2' });
  });

  it('reads a list of [name, value] pairs', () => {
    expect(normalizeHeaders([['Retry-After', '5'], ['X-A', '1'], 'junk'])).toEqual({
      'retry-after': '5',
      'x-a': '1',
    });
  });

  it('turns values into strings and drops undefined and null', () => {
    expect(
      normalizeHeaders({ 'Content-Length': 12, 'X-Gone': undefined, 'X-Null': null, 'X-Empty': [] }),
    ).toEqual({
      'content-length': '12',
    });
  });

  it('never throws on what a hostile transport returns', () => {
    const hostile = {
      get 'X-Boom'() {
        throw new Error('getter');
      },
    };
    const badValue = { 'X-Bad': { toString: () => Symbol('x') }, 'X-Ok': 'yes' };
    expect(normalizeHeaders(hostile)).toEqual({});
    expect(normalizeHeaders(badValue)).toEqual({ 'x-ok': 'yes' });
    for (const value of [undefined, null, 'text', 42, ['a', 'b']])
      expect(normalizeHeaders(value)).toEqual({});
  });

  it('keeps at most maxBytes of headers', () => {
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, 'v'.repeat(100)]));
    const kept = normalizeHeaders(many, 1024);
    expect(Object.keys(kept).length).toBeGreaterThan(5);
    expect(JSON.stringify(kept).length).toBeLessThan(1300);
  });
});

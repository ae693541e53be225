import { expect } from 'vitest';
import { PolicyError } from '../../src/core/errors.js';

/** The PolicyError `fn` throws; fails the test when it throws nothing or something else. */
export function thrown(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return error as PolicyError;
  }
  throw new Error('expected a PolicyError');
}

import { Value } from '@sinclair/typebox/value';
import { describe } from '../core/describe.js';
import { ApiError } from './errors.js';
import { check } from './validate.js';

/** Reads the query of `url` through `schema` (numbers converted), refusing unknown or bad parameters with a 400. */
export function query<T>(url: URL, schema: Parameters<typeof check>[0]): T {
  const raw: Record<string, string> = {};
  for (const [key, value] of url.searchParams) raw[key] = value;
  const converted = Value.Convert(schema, raw);
  check(schema, converted, { status: 400, code: 'ERR_INVALID_QUERY' });
  return converted as T;
}

/**
 * Reads a page; a `cursor` the dispatcher or its log refuses (whatever error it throws for it) is the client's
 * mistake in the query, a 400, not a 422 or a 500.
 */
export async function pageAt<T>(cursor: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (cursor === undefined || (error as { field?: unknown } | null)?.field !== 'cursor') throw error;
    throw new ApiError(400, 'ERR_INVALID_QUERY', (error as Error).message, { field: 'cursor', cause: error });
  }
}

/** ISO-8601 or epoch ms, as epoch ms; anything else is refused naming `field`. */
export function timeOf(value: unknown, field: string, status: number): number | undefined {
  if (value === undefined) return undefined;
  const ms =
    typeof value === 'number'
      ? value
      : /^\d+$/.test(String(value))
        ? Number(value)
        : Date.parse(String(value));
  if (!Number.isFinite(ms)) {
    throw new ApiError(
      status,
      status === 400 ? 'ERR_INVALID_QUERY' : 'ERR_INVALID_WEBHOOK',
      `Expected \`${field}\` to be an ISO-8601 date or epoch milliseconds, got ${describe(value)}`,
      { field },
    );
  }
  return ms;
}

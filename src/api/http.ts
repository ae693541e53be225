import type { ApiError } from './errors.js';

export const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  // Responses may carry a secret (create, rotate): never cached by a browser or a proxy.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** A page of items as the API answers it: `nextCursor` only when there is a next page. */
export function pageResponse(items: unknown[], nextCursor: string | undefined): Response {
  return json(200, nextCursor === undefined ? { items } : { items, nextCursor });
}

/** `{ error: { code, message, field?, position?, line?, column? } }` with the error's status and headers. */
export function errorResponse(error: ApiError): Response {
  const body: {
    code: string;
    message: string;
    field?: string;
    position?: number;
    line?: number;
    column?: number;
  } = {
    code: error.code,
    message: error.message,
  };
  if (error.field !== undefined) body.field = error.field;
  // Where in the field: a policy's 0-based offset in the specifier, a template's line and column.
  const cause = error.cause as { position?: unknown; line?: unknown; column?: unknown } | undefined;
  for (const key of ['position', 'line', 'column'] as const) {
    if (typeof cause?.[key] === 'number') body[key] = cause[key] as number;
  }
  const headers: Record<string, string> = { ...error.headers };
  // The rest of an over-limit body is not read: close the connection rather than drain it.
  if (error.status === 413) headers.connection = 'close';
  return json(error.status, { error: body }, headers);
}

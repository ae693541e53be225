/** The page's one way to the admin API: URLs relative to the page, the custom header on every request. */

// The script is served from `assets/portal.js` beside the page: the API is one level up.
const BASE = new URL('../', import.meta.url);

interface ErrorBody {
  message?: unknown;
  code?: unknown;
  field?: unknown;
  position?: unknown;
  line?: unknown;
  column?: unknown;
  error?: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: unknown;
  readonly field: unknown;
  readonly position: unknown;
  readonly line: unknown;
  readonly column: unknown;

  constructor(status: number, body: ErrorBody | undefined) {
    const detail: ErrorBody =
      body && typeof body.error === 'object' && body.error !== null
        ? (body.error as ErrorBody)
        : (body ?? {});
    super(typeof detail.message === 'string' ? detail.message : `Request failed with status ${status}`);
    this.status = status;
    this.code = detail.code;
    this.field = detail.field;
    this.position = detail.position;
    this.line = detail.line;
    this.column = detail.column;
  }
}

/** The status of an error the API answered with; undefined for any other error. */
export const statusOf = (error: unknown): number | undefined =>
  error instanceof ApiError ? error.status : undefined;

/** The message of anything thrown. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

// biome-ignore lint/suspicious/noExplicitAny: the answer is JSON the callers check field by field
export async function api(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'x-requested-with': 'webhook-portal',
  };
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = contentType || 'application/json';
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(new URL(path, BASE), init);
  } catch {
    throw new ApiError(0, { message: 'The server could not be reached.' });
  }
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      data && typeof data === 'object' ? (data as ErrorBody) : { message: text || response.statusText },
    );
  }
  return data;
}

/** The items of a page (`{ items, nextCursor }`) or of a bare array. */
export function itemsOf<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  const items = (data as { items?: unknown } | null | undefined)?.items;
  return Array.isArray(items) ? (items as T[]) : [];
}

/** A path of encoded segments: `path('webhooks', id)`. */
export const path = (...parts: string[]): string => parts.map((part) => encodeURIComponent(part)).join('/');

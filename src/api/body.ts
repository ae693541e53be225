import { ApiError } from './errors.js';
import { PORTAL_REQUEST_HEADER } from './portal/index.js';

/** The media type of a Content-Type header, lower-cased, without parameters; undefined when absent. */
export function mediaTypeOf(request: Request): string | undefined {
  const header = request.headers.get('content-type');
  if (header === null || header.trim() === '') return undefined;
  const [type, ...parameters] = header.split(';');
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=').map((part) => part.trim().toLowerCase());
    if (name === 'charset' && value !== 'utf-8' && value !== '"utf-8"' && value !== 'utf8') {
      throw new ApiError(
        415,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
        `Expected a UTF-8 body, got charset ${JSON.stringify(value)}`,
      );
    }
  }
  return type!.trim().toLowerCase();
}

/**
 * Reads the whole body, refusing more than `maxBytes` (413) without buffering past it: a declared Content-Length
 * over the limit is refused before reading, a body that grows past it is cancelled mid-stream.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  const tooLarge = () =>
    new ApiError(413, 'ERR_BODY_TOO_LARGE', `Expected a body of at most ${maxBytes} bytes`);
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (request.body === null) return undefined;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (size === 0) return undefined;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON body; malformed JSON or invalid UTF-8 is a 400 saying where. */
export function parseJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new ApiError(400, 'ERR_MALFORMED_JSON', 'Expected the body to be UTF-8 JSON, got invalid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(
      400,
      'ERR_MALFORMED_JSON',
      `Expected the body to be JSON: ${(error as Error).message}`,
    );
  }
}

/** Which bodies a route accepts, by media type. */
export type BodyKind = 'json' | 'json-patch' | 'merge-patch';

const MEDIA_TYPES: Record<string, BodyKind> = {
  'application/json': 'json',
  'application/json-patch+json': 'json-patch',
  'application/merge-patch+json': 'merge-patch',
};

/**
 * A POST without a body is what a cross-site HTML form sends with the user's cookies (`rotate-secret`, `test`,
 * `redeliver` need no body). A form can set neither a JSON Content-Type nor a custom header (a cross-site `fetch`
 * cannot without a CORS preflight), so an empty POST needs one of them: `Content-Type: application/json`, or the
 * portal's `x-requested-with: webhook-portal`. A POST with a body needs a JSON Content-Type anyway.
 */
function refuseFormPost(request: Request): void {
  if (request.headers.get(PORTAL_REQUEST_HEADER.name) === PORTAL_REQUEST_HEADER.value) return;
  const media = mediaTypeOf(request);
  if (media !== undefined && MEDIA_TYPES[media] !== undefined) return;
  throw new ApiError(
    415,
    'ERR_UNSUPPORTED_MEDIA_TYPE',
    `Expected Content-Type application/json (or the header \`${PORTAL_REQUEST_HEADER.name}: ` +
      `${PORTAL_REQUEST_HEADER.value}\`) on a POST without a body, got ${media === undefined ? 'none' : JSON.stringify(media)}: ` +
      'this is what a cross-site form sends',
  );
}

/**
 * The parsed JSON body and its kind, or undefined when there is none. `accepted` lists the kinds this route takes;
 * another media type is a 415 that names them.
 */
export async function jsonBody(
  request: Request,
  maxBytes: number,
  accepted: readonly BodyKind[],
): Promise<{ kind: BodyKind; value: unknown } | undefined> {
  const body = await readBody(request, maxBytes);
  if (body === undefined) {
    if (request.method === 'POST') refuseFormPost(request);
    return undefined;
  }
  const media = mediaTypeOf(request);
  const kind = media === undefined ? undefined : MEDIA_TYPES[media];
  if (kind === undefined || !accepted.includes(kind)) {
    const names = Object.keys(MEDIA_TYPES).filter((name) => accepted.includes(MEDIA_TYPES[name]!));
    throw new ApiError(
      415,
      'ERR_UNSUPPORTED_MEDIA_TYPE',
      `Expected Content-Type ${names.join(' or ')}, got ${media === undefined ? 'none' : JSON.stringify(media)}`,
      { headers: { 'accept-patch': 'application/json-patch+json, application/merge-patch+json' } },
    );
  }
  return { kind, value: parseJson(body) };
}

import { WebhookRequestError } from './errors.js';

/** The part of a fetch `ReadableStream` the reader uses. */
export interface WebBodyLike {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
    cancel(reason?: unknown): Promise<void>;
  };
}

/** The part of a Node `IncomingMessage` the reader uses (Express and Connect requests are ones). */
export interface NodeBodyLike {
  on(event: 'data', listener: (chunk: Uint8Array | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  resume(): unknown;
  readonly readableEnded?: boolean;
}

function tooLarge(maxBytes: number, webhookId: string | undefined): WebhookRequestError {
  return new WebhookRequestError(
    'ERR_BODY_TOO_LARGE',
    `verifyWebhookRequest: the body is larger than \`maxBodyBytes\` (${maxBytes} bytes).`,
    webhookId,
  );
}

const encoder = new TextEncoder();

/**
 * `true` when `body` is over `maxBytes` in UTF-8 (a string is counted in the bytes it was sent as, not in UTF-16
 * units). Each unit is at least one byte and at most three, so only strings between the two bounds are encoded.
 */
export function overLimit(body: string | Uint8Array, maxBytes: number): boolean {
  if (typeof body !== 'string') return body.byteLength > maxBytes;
  if (body.length > maxBytes) return true;
  if (body.length * 3 <= maxBytes) return false;
  return encoder.encode(body).byteLength > maxBytes;
}

/** Refuses a declared Content-Length over the limit before reading anything. */
export function checkContentLength(
  value: string | null | undefined,
  maxBytes: number,
  webhookId?: string,
): void {
  if (value === null || value === undefined) return;
  const length = Number(value);
  if (Number.isFinite(length) && length > maxBytes) throw tooLarge(maxBytes, webhookId);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Reads a fetch body to its end, refusing it once it passes `maxBytes` (the rest is not read). */
export async function readWebBody(
  body: WebBodyLike | null,
  maxBytes: number,
  webhookId?: string,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value === undefined) continue;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      throw tooLarge(maxBytes, webhookId);
    }
    chunks.push(value);
  }
  return concat(chunks, total);
}

/**
 * Reads a Node request body to its end, refusing it once it passes `maxBytes`. The rest is then discarded
 * (`resume()`), not buffered, and the socket stays usable, so the middleware can still answer 413.
 */
export function readNodeBody(
  request: NodeBodyLike,
  maxBytes: number,
  webhookId?: string,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const cleanup = () => {
      request.removeListener('data', onData);
      request.removeListener('end', onEnd);
      request.removeListener('error', onError);
      request.removeListener('close', onClose);
    };
    const onData = (chunk: Uint8Array | string) => {
      const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
      total += bytes.byteLength;
      if (total > maxBytes) {
        cleanup();
        request.resume();
        reject(tooLarge(maxBytes, webhookId));
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = () => {
      cleanup();
      resolve(concat(chunks, total));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('verifyWebhookRequest: the request was closed before its body was read.'));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

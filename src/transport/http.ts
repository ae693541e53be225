import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { OptionsError } from '../errors.js';
import { createAddressPolicy, guardedLookup } from '../ssrf.js';
import type { Transport, TransportResponse } from '../types.js';
import { TransportError } from './errors.js';
import { readCapped } from './read-capped.js';

export interface HttpTransportOptions {
  /** Time to establish a connection (TCP + TLS). @default 5000 */
  connectTimeoutMs?: number;
  /** Bytes of each response body kept (for the delivery log); the rest is read and discarded. @default 16384 */
  maxResponseBytes?: number;
  /** A response body longer than this is not read to the end: the connection is closed instead. @default 1048576 */
  maxDiscardBytes?: number;
  /** Keep-alive connections per origin at most. @default 128 */
  connections?: number;
  /** How long an idle keep-alive connection is kept. @default 4000 */
  keepAliveTimeoutMs?: number;
  /**
   * Extra trusted CA certificates (PEM) for receivers with private certificates, added to Node's bundled roots.
   * The per-transport answer to `NODE_EXTRA_CA_CERTS`.
   */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * Allow connections to loopback, private, link-local and other non-public addresses. The dispatcher's default
   * transport takes the dispatcher's setting. @default false
   */
  allowPrivateNetworks?: boolean;
  /** Hosts (exact names) and CIDR ranges that are allowed even when private. */
  allowedHosts?: string[];
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function positive(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new OptionsError(field, `Expected \`${field}\` to be a positive number, got ${String(value)}`);
  }
  return value;
}

/**
 * The default transport: undici's keep-alive connection pool with explicit timeouts, redirects not followed, the
 * SSRF guard applied to every resolved address (connecting only to the address that was checked), and response
 * bodies read up to a small cap.
 */
export function httpTransport(options: HttpTransportOptions = {}): Transport {
  const connectTimeout = positive('connectTimeoutMs', options.connectTimeoutMs, 5000);
  const keepBytes = positive('maxResponseBytes', options.maxResponseBytes, 16_384);
  const discardBytes = positive('maxDiscardBytes', options.maxDiscardBytes, 1_048_576);
  const addressPolicy = createAddressPolicy({
    allowPrivateNetworks: options.allowPrivateNetworks,
    allow: options.allowedHosts,
  });
  const ca = options.ca === undefined ? undefined : [...rootCertificates, ...[options.ca].flat()];
  const agent = new Agent({
    connections: positive('connections', options.connections, 128),
    keepAliveTimeout: positive('keepAliveTimeoutMs', options.keepAliveTimeoutMs, 4000),
    pipelining: 1,
    connect: { timeout: connectTimeout, lookup: guardedLookup(addressPolicy), ...(ca && { ca }) },
  });
  // Literal IP hosts never reach `lookup`, so they are checked here (once per origin).
  const checkedOrigins = new Map<string, { origin: string; path: string }>();

  const target = (url: string) => {
    let parsed = checkedOrigins.get(url);
    if (!parsed) {
      const u = new URL(url);
      addressPolicy.checkHost(u.hostname);
      parsed = { origin: u.origin, path: `${u.pathname}${u.search}` };
      if (checkedOrigins.size > 10_000) checkedOrigins.clear();
      checkedOrigins.set(url, parsed);
    }
    return parsed;
  };

  return {
    async send(request, { timeoutMs }): Promise<TransportResponse> {
      const started = performance.now();
      let response: Awaited<ReturnType<Agent['request']>>;
      try {
        const { origin, path } = target(request.url);
        response = await agent.request({
          origin,
          path,
          method: request.method,
          headers: request.headers,
          body: request.body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (error) {
        throw toTransportError(error);
      }
      const remaining = Math.max(1, timeoutMs - (performance.now() - started));
      const timer = setTimeout(
        () => response.body.destroy(new TransportError('TIMEOUT', 'body timeout')),
        remaining,
      );
      let body = '';
      try {
        const read = await readCapped(response.body, keepBytes, discardBytes);
        body = read.text;
        if (!read.complete) response.body.destroy();
      } catch {
        // The status is what counts; a body cut short (timeout, reset) still leaves a response.
      } finally {
        clearTimeout(timer);
      }
      return { status: response.statusCode, headers: response.headers, body };
    },
    async close() {
      if (!agent.closed && !agent.destroyed) await agent.close();
    },
    async destroy() {
      if (!agent.destroyed) await agent.destroy();
    },
  };
}

function toTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const err = error as { code?: string; message?: string; cause?: { code?: string } };
  let code = err.code ?? err.cause?.code ?? 'TRANSPORT_ERROR';
  if (TIMEOUT_CODES.has(code)) code = 'TIMEOUT';
  if (code === 'ERR_BLOCKED_ADDRESS') code = 'BLOCKED_ADDRESS';
  return new TransportError(code, err.message ?? String(error), { cause: error });
}

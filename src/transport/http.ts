import type { IncomingHttpHeaders } from 'node:http';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { describe, OptionsError } from '../core/errors.js';
import { numberOption } from '../core/option-checks.js';
import type { DeliveryRequest, Transport, TransportResponse } from '../core/types.js';
import {
  type AddressOptions,
  hasOwnPolicy,
  inheritsPolicy,
  type PolicySource,
  transportPolicy,
} from './address-policy.js';
import { AgentPool, withCertificate } from './agent-pool.js';
import { type ClientCertificate, checkClientCertificate } from './client-certificate.js';
import { abortedError, TransportError, toTransportError } from './errors.js';
import { normalizeHeaders } from './response-headers.js';
import { guardedLookup } from './ssrf.js';
import { attemptWatch, checkOptionKeys, sendSignal, sendTimeout } from './transport-options.js';

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
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /**
   * Allow connections to loopback, private, link-local and other non-public addresses. Set here (or
   * `allowedHosts`), it is this transport's own policy; left out of both, a dispatcher given this transport applies
   * its own `allowPrivateNetworks` / `allowedHosts` to it. @default false
   */
  allowPrivateNetworks?: boolean;
  /** Hosts (exact names) and CIDR ranges that are allowed even when private. See `allowPrivateNetworks`. */
  allowedHosts?: string[];
  /**
   * The sender's TLS client certificate, presented to receivers that require mutual TLS (and ignored by the others).
   * Checked when the transport is made: the key must open (with `passphrase`) and match the certificate. DNS pinning
   * and the SSRF guard apply as without it.
   * @example clientCertificate: { cert: readFileSync('sender.pem'), key: readFileSync('sender.key') }
   */
  clientCertificate?: ClientCertificate;
  /**
   * Connection pools kept for the distinct client certificates that requests carry (`request.clientCertificate`, a
   * per-webhook identity), least recently used closed first. The transport's own pool is not counted.
   * @default 32
   */
  maxClientCertificates?: number;
}

/**
 * A request as `httpTransport().send()` reads it: a `DeliveryRequest`, optionally with the client certificate to
 * present for this request alone (it replaces the transport's own `clientCertificate`).
 */
export type CertifiedDeliveryRequest = DeliveryRequest & { clientCertificate?: ClientCertificate };

// A record rather than a list, so that an option added to the interface and not here fails to compile.
const KNOWN_OPTIONS = Object.keys({
  connectTimeoutMs: true,
  maxResponseBytes: true,
  maxDiscardBytes: true,
  connections: true,
  keepAliveTimeoutMs: true,
  ca: true,
  allowPrivateNetworks: true,
  allowedHosts: true,
  clientCertificate: true,
  maxClientCertificates: true,
} satisfies Record<keyof HttpTransportOptions, true>);

function checkCa(ca: unknown): void {
  const valid = (x: unknown) => typeof x === 'string' || Buffer.isBuffer(x);
  if (ca !== undefined && !(valid(ca) || (Array.isArray(ca) && ca.every(valid)))) {
    throw new OptionsError(
      'ca',
      `Expected \`ca\` to be a PEM string, a Buffer or an array of them, got ${describe(ca)}`,
    );
  }
}

interface Target {
  origin: string;
  path: string;
}

/**
 * The default transport: undici's keep-alive connection pool with explicit timeouts, redirects not followed, the
 * SSRF guard applied to every resolved address (connecting only to the address that was checked), and response
 * bodies read up to a small cap.
 *
 * It talks to the pool through `Agent.dispatch` with its own response handler instead of `request()`: no response
 * stream, no body buffering beyond the kept bytes, one deadline timer per attempt (connection to last body byte).
 *
 * Without `allowPrivateNetworks` and `allowedHosts` of its own, a dispatcher given this transport sends through a
 * copy of it (same options) under the dispatcher's address policy, and closes that copy itself.
 */
export function httpTransport(options: HttpTransportOptions = {}): Transport {
  checkOptionKeys(options, KNOWN_OPTIONS, 'httpTransport()');
  const transport = createHttpTransport(options, 'httpTransport()');
  if (hasOwnPolicy(options)) return transport;
  return inheritsPolicy(transport, (policy) =>
    createHttpTransport({ ...options, ...policy }, 'createWebhookDispatcher()'),
  );
}

/** The transport a dispatcher creates when it is given none, under the dispatcher's address policy. */
export function dispatcherHttpTransport(policy: AddressOptions): Transport {
  return createHttpTransport(policy, 'createWebhookDispatcher()');
}

function createHttpTransport(options: HttpTransportOptions, source: PolicySource): Transport {
  const bytes = { positive: true, integer: true, max: Number.MAX_SAFE_INTEGER };
  const connectTimeout = numberOption('connectTimeoutMs', options.connectTimeoutMs, 5000, { positive: true });
  const keepBytes = numberOption('maxResponseBytes', options.maxResponseBytes, 16_384, bytes);
  const discardBytes = numberOption('maxDiscardBytes', options.maxDiscardBytes, 1_048_576, bytes);
  const connections = numberOption('connections', options.connections, 128, {
    positive: true,
    integer: true,
  });
  const keepAlive = numberOption('keepAliveTimeoutMs', options.keepAliveTimeoutMs, 4000, { positive: true });
  const maxCertificates = numberOption('maxClientCertificates', options.maxClientCertificates, 32, {
    positive: true,
    integer: true,
  });
  checkCa(options.ca);
  const own =
    options.clientCertificate === undefined ? undefined : checkClientCertificate(options.clientCertificate);
  const addressPolicy = transportPolicy(options, source);
  const ca = options.ca === undefined ? undefined : [...rootCertificates, ...[options.ca].flat()];
  const connect = { timeout: connectTimeout, lookup: guardedLookup(addressPolicy), ...(ca && { ca }) };
  const makeAgent = (certificate: ClientCertificate | undefined) =>
    new Agent({
      connections,
      keepAliveTimeout: keepAlive,
      pipelining: 1,
      connect: withCertificate(connect, certificate),
    });
  const agents = new AgentPool(makeAgent, maxCertificates, makeAgent(own));
  // Literal IP hosts never reach `lookup`, so they are checked here (once per URL).
  const checkedUrls = new Map<string, Target>();

  const target = (url: string): Target => {
    let parsed = checkedUrls.get(url);
    if (!parsed) {
      const u = new URL(url);
      addressPolicy.checkHost(u.hostname);
      parsed = { origin: u.origin, path: `${u.pathname}${u.search}` };
      if (checkedUrls.size >= 10_000) checkedUrls.clear();
      checkedUrls.set(url, parsed);
    }
    return parsed;
  };

  return {
    send(request, sendOptions): Promise<TransportResponse> {
      // An engine attempt times out and aborts the request itself: no signal and no timer of our own for it.
      const watch = attemptWatch(sendOptions);
      const signal = watch === undefined ? sendSignal(sendOptions) : undefined;
      if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
      const timeoutMs = sendTimeout(sendOptions);
      let to: Target;
      try {
        to = target(request.url);
      } catch (error) {
        return Promise.reject(toTransportError(error));
      }
      return new Promise<TransportResponse>((resolve, reject) => {
        const handler = new CappedResponseHandler(
          resolve,
          reject,
          keepBytes,
          discardBytes,
          timeoutMs,
          signal,
          watch === undefined,
        );
        watch?.watch(handler);
        try {
          const certificate = (request as CertifiedDeliveryRequest).clientCertificate;
          agents
            .agentFor(certificate ?? undefined)
            .dispatch(dispatchOptions(to, request, timeoutMs), handler);
        } catch (error) {
          handler.refused(error);
        }
      });
    },
    close: () => agents.close(),
    destroy: () => agents.destroy(),
  };
}

function dispatchOptions(
  to: Target,
  request: DeliveryRequest,
  timeoutMs: number,
): Dispatcher.DispatchOptions {
  return {
    origin: to.origin,
    path: to.path,
    method: request.method,
    headers: request.headers,
    body: request.body,
    // undici's own idle timers stay as a second line behind the attempt's deadline.
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  };
}

/** Why the handler aborted a request itself; never surfaces as such. */
class HandlerAbort extends Error {}

/**
 * Collects one response: status and headers, the first `keepBytes` of the body, and the rest counted and dropped.
 * A body over `discardBytes` ends the request (and with it the connection) instead of being read to the end. The
 * deadline covers the whole attempt: waiting for a connection, the request, the headers and the body. An abort of
 * the caller's `signal` ends it the same way, with the signal's reason; the listener goes when the attempt settles.
 */
class CappedResponseHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private settled = false;
  private status = 0;
  private headers: IncomingHttpHeaders | undefined;
  private chunks: Buffer[] | undefined;
  private kept = 0;
  private total = 0;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly resolve: (response: TransportResponse) => void,
    private readonly reject: (error: TransportError) => void,
    private readonly keepBytes: number,
    private readonly discardBytes: number,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    /** False when the caller (an engine attempt) keeps the deadline. */
    timed: boolean,
  ) {
    this.timer = timed ? setTimeout(onDeadline, timeoutMs, this) : undefined;
    if (signal !== undefined) {
      this.onAbort = () => this.abort(signal.reason);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The deadline passed (or the caller aborted) while the request waited for a free connection: do not send it.
    if (this.settled) controller.abort(new HandlerAbort('deadline passed before the request was sent'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ) {
    // 1xx informational answers come before the final one.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.kept < this.keepBytes) {
      const part =
        chunk.length > this.keepBytes - this.kept ? chunk.subarray(0, this.keepBytes - this.kept) : chunk;
      if (this.chunks === undefined) this.chunks = [part];
      else this.chunks.push(part);
      this.kept += part.length;
    }
    this.total += chunk.length;
    if (this.total > this.discardBytes) {
      // Reading a huge body to the end would hold the connection; closing it is cheaper than draining it.
      this.succeed();
      controller.abort(new HandlerAbort('response body over the discard limit'));
    }
  }

  onResponseEnd(): void {
    this.succeed();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    const failure = toTransportError(error);
    // A body cut short by the receiver (reset, close) still leaves a response: the status is what counts. Time
    // running out does not: `timeoutMs` runs to the last body byte.
    if (this.status !== 0 && failure.code !== 'TIMEOUT') this.succeed();
    else this.fail(failure);
  }

  /** Called by the deadline timer. */
  expire(): void {
    if (this.settled) return;
    this.fail(
      new TransportError(
        'TIMEOUT',
        this.status === 0
          ? `no response within ${this.timeoutMs} ms`
          : `response body not received within ${this.timeoutMs} ms`,
      ),
    );
    this.controller?.abort(new HandlerAbort('deadline passed'));
  }

  /** Called when the pool refuses the request outright (it is closed, the request is malformed). */
  refused(error: unknown): void {
    if (!this.settled) this.fail(toTransportError(error));
  }

  /** Called when the caller's signal aborts. */
  abort(reason: unknown): void {
    if (this.settled) return;
    this.fail(abortedError(reason));
    this.controller?.abort(new HandlerAbort('the caller aborted'));
  }

  private succeed(): void {
    if (this.settled) return;
    this.settle();
    this.resolve({
      status: this.status,
      headers: normalizeHeaders(this.headers),
      body: decode(this.chunks, this.kept),
    });
  }

  private fail(error: TransportError): void {
    this.settle();
    this.reject(error);
  }

  private settle(): void {
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
  }
}

function onDeadline(handler: CappedResponseHandler): void {
  handler.expire();
}

const decoder = new TextDecoder();

function decode(chunks: Buffer[] | undefined, size: number): string {
  if (chunks === undefined || size === 0) return '';
  return decoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
}

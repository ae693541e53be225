import { describe, OptionsError } from '../core/errors.js';
import { numberOption } from '../core/option-checks.js';
import type { DeliveryRequest, Transport, TransportResponse, TransportSendOptions } from '../core/types.js';
import type { FetchFunction } from '../core/web-types.js';
import { hasOwnPolicy, inheritsPolicy, type PolicySource, transportPolicy } from './address-policy.js';
import { abortedError, TransportError, toTransportError } from './errors.js';
import type { CertifiedDeliveryRequest } from './http.js';
import { readCapped } from './read-capped.js';
import { normalizeHeaders } from './response-headers.js';
import { checkResolvedHost, type GuardedLookupOptions } from './ssrf.js';
import { checkOptionKeys, sendSignal, sendTimeout } from './transport-options.js';

export interface FetchTransportOptions {
  /** The fetch function. @default globalThis.fetch, looked up on every call (so msw and other patches apply) */
  fetch?: FetchFunction;
  /** Bytes of each response body kept; the rest is read and discarded. @default 16384 */
  maxResponseBytes?: number;
  /** A response body longer than this is not read to the end: it is cancelled. @default 1048576 */
  maxDiscardBytes?: number;
  /**
   * Allow loopback, private, link-local and other non-public targets. Off, a URL whose host is such an address,
   * `localhost`, or a name that resolves to one is refused with `BLOCKED_ADDRESS` before `fetch` is called.
   * A custom `fetch` that does not connect anywhere (a test double) can set it to `true`. Set here (or
   * `allowedHosts`), it is this transport's own policy; left out of both, a dispatcher given this transport applies
   * its own `allowPrivateNetworks` / `allowedHosts` to it.
   * @default false
   */
  allowPrivateNetworks?: boolean;
  /**
   * Hosts (exact names), IP addresses and CIDR ranges allowed even when private, as for `httpTransport`. See
   * `allowPrivateNetworks`.
   */
  allowedHosts?: string[];
  /**
   * The resolver used for the address check, called with `{ all: true }`. @default dns.lookup
   */
  lookup?: GuardedLookupOptions['lookup'];
}

const KNOWN_OPTIONS = Object.keys({
  fetch: true,
  maxResponseBytes: true,
  maxDiscardBytes: true,
  allowPrivateNetworks: true,
  allowedHosts: true,
  lookup: true,
} satisfies Record<keyof FetchTransportOptions, true>);

function optionalFunction(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new OptionsError(field, `Expected \`${field}\` to be a function, got ${describe(value)}`);
  }
}

/**
 * A transport over a WHATWG `fetch` function, with `redirect: 'manual'`, the attempt's deadline (`timeoutMs`, to
 * the last body byte) and the caller's `signal`, and the same error codes as `httpTransport()` for the same
 * failure. Slower than `httpTransport()` (about 3x for small bodies); useful for runtimes or test setups built
 * around fetch (msw intercepts `globalThis.fetch`).
 *
 * The SSRF guard is applied before `fetch` is called: the URL host is checked, and a host name is resolved
 * (`node:dns` lookup, every address) and refused with `BLOCKED_ADDRESS` when any address is not public. `fetch`
 * then resolves the name again itself, so this is check-then-connect: a DNS server that answers a public address
 * to the check and a private one to the connection (DNS rebinding) gets through. `httpTransport()` connects to
 * the address it checked and has no such gap; prefer it wherever the webhook URLs come from untrusted users. A
 * name that does not resolve for the check is passed on to `fetch` (which reports the failure, or an interceptor
 * such as msw answers it).
 *
 * Without `allowPrivateNetworks` and `allowedHosts` of its own, a dispatcher given this transport sends through a
 * copy of it (same options) under the dispatcher's address policy.
 */
export function fetchTransport(options: FetchTransportOptions = {}): Transport {
  checkOptionKeys(options, KNOWN_OPTIONS, 'fetchTransport()');
  optionalFunction('fetch', options.fetch);
  optionalFunction('lookup', options.lookup);
  const transport = createFetchTransport(options, 'fetchTransport()');
  if (hasOwnPolicy(options)) return transport;
  return inheritsPolicy(transport, (policy) =>
    createFetchTransport({ ...options, ...policy }, 'createWebhookDispatcher()'),
  );
}

function createFetchTransport(options: FetchTransportOptions, source: PolicySource): Transport {
  const bytes = { positive: true, integer: true, max: Number.MAX_SAFE_INTEGER };
  const keepBytes = numberOption('maxResponseBytes', options.maxResponseBytes, 16_384, bytes);
  const discardBytes = numberOption('maxDiscardBytes', options.maxDiscardBytes, 1_048_576, bytes);
  const policy = transportPolicy(options, source);
  const send = async (request: DeliveryRequest, signal: AbortSignal): Promise<TransportResponse> => {
    if ((request as CertifiedDeliveryRequest).clientCertificate !== undefined) {
      // fetch has no per-request TLS identity: sending without the certificate would only be refused, or worse.
      throw new TransportError(
        'CLIENT_CERTIFICATE_UNSUPPORTED',
        "fetchTransport cannot present the webhook's clientCertificate (mutual TLS): use httpTransport",
      );
    }
    // A URL that does not parse is left to fetch, so that the error (and its code) is fetch's own.
    if (URL.canParse(request.url)) {
      await checkResolvedHost(policy, new URL(request.url).hostname, { lookup: options.lookup, signal });
    }
    const fetchFn = (options.fetch ?? globalThis.fetch) as typeof globalThis.fetch;
    const response = await fetchFn(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal,
    });
    const body = await readBody(response, keepBytes, discardBytes, signal);
    // An opaque redirect (status 0) is what some fetch implementations return for `redirect: 'manual'`.
    const status = response.type === 'opaqueredirect' ? 302 : response.status;
    return { status, headers: normalizeHeaders(response.headers), body };
  };
  return {
    async send(request, sendOptions) {
      const attempt = new AttemptSignal(sendOptions);
      try {
        if (attempt.signal.aborted) throw attempt.signal.reason;
        return await send(request, attempt.signal);
      } catch (error) {
        throw attempt.signal.aborted ? abortedError(attempt.signal.reason) : toTransportError(error);
      } finally {
        attempt.release();
      }
    },
  };
}

/** The start of the body; a body cut short by the receiver keeps what arrived, running out of time does not. */
async function readBody(
  response: Response,
  keepBytes: number,
  discardBytes: number,
  signal: AbortSignal,
): Promise<string> {
  if (!response.body) return '';
  const read = await readCapped(response.body, keepBytes, discardBytes);
  if (read.error !== undefined && signal.aborted) throw read.error;
  if (!read.complete && read.error === undefined) await response.body.cancel().catch(() => {});
  return read.text;
}

/**
 * One signal for an attempt: aborted at its deadline (`TIMEOUT`) or when the caller's signal aborts (with its
 * reason). `release()` clears the timer and the listener on the caller's signal, so nothing is left per attempt.
 */
class AttemptSignal {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly caller: AbortSignal | undefined;
  private readonly onAbort = () => this.controller.abort(this.caller?.reason);

  constructor(options: Partial<TransportSendOptions> | undefined) {
    const timeoutMs = sendTimeout(options);
    this.caller = sendSignal(options);
    this.timer = setTimeout(expire, timeoutMs, this.controller, timeoutMs);
    if (this.caller?.aborted) this.onAbort();
    else this.caller?.addEventListener('abort', this.onAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  release(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onAbort);
  }
}

function expire(controller: AbortController, timeoutMs: number): void {
  controller.abort(new TransportError('TIMEOUT', `no complete response within ${timeoutMs} ms`));
}

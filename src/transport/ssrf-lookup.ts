// The SSRF guard at connection time: a DNS lookup whose every answer is checked against the address policy.
import dns from 'node:dns';
import type { BlockedAddressError } from '../core/errors.js';
import type { AddressPolicy } from './ssrf.js';
import { parseAddress } from './ssrf-ranges.js';

// The public types below are spelled out rather than taken from `node:dns`/`node:net`, so the package's
// declarations compile in projects without `@types/node` (TypeScript 7 no longer loads it implicitly).

/** One address of a DNS answer (`dns.LookupAddress`). */
export interface LookupAddress {
  address: string;
  family: number;
}

/** A resolver called as `dns.lookup(hostname, { all: true }, callback)`. `dns.lookup` is one. */
export type LookupAll = (
  hostname: string,
  options: { all: true; family?: number | 'IPv4' | 'IPv6'; hints?: number; verbatim?: boolean },
  callback: (error: (Error & { code?: string }) | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` function for `net.connect` / `tls.connect` (`net.LookupFunction`): called with the host name, the
 * socket's lookup options and a callback taking one address and its family, or all of them with `all: true`.
 */
export type GuardedLookupFunction = (
  hostname: string,
  options: { family?: number | 'IPv4' | 'IPv6'; hints?: number; all?: boolean; verbatim?: boolean },
  callback: (
    error: (Error & { code?: string }) | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void,
) => void;

/** Options of {@link guardedLookup}. */
export interface GuardedLookupOptions {
  /**
   * The resolver, called once per connection with `{ all: true }`. Inject one to use a custom DNS.
   * @default dns.lookup
   */
  lookup?: LookupAll;
}

/**
 * A `lookup` function for `net.connect` / `tls.connect` (and so for undici's `connect` option) that resolves
 * the host once, checks every address in the answer, refuses the whole answer with a
 * {@link BlockedAddressError} if any address is blocked, and otherwise hands the checked addresses to the
 * socket. The socket connects to an address that was checked (no second lookup, so DNS rebinding cannot
 * swap it), while the Host header and the TLS server name keep the original host name.
 *
 * Literal IP hosts never reach `lookup`: check them with {@link AddressPolicy.checkHost}.
 *
 * @example
 * new Agent({ connect: { lookup: guardedLookup(policy) } })
 */
export function guardedLookup(
  policy: AddressPolicy,
  options: GuardedLookupOptions = {},
): GuardedLookupFunction {
  const resolve = (options.lookup ?? dns.lookup) as LookupAll;
  return (hostname, lookupOptions, callback) => {
    // Node passes (hostname, options, callback); be tolerant of the (hostname, callback) and family forms.
    let cb = callback;
    let opts: dns.LookupOptions = {};
    if (typeof lookupOptions === 'function') cb = lookupOptions as typeof callback;
    else if (typeof lookupOptions === 'number') opts = { family: lookupOptions };
    else if (lookupOptions !== null && typeof lookupOptions === 'object') opts = lookupOptions;

    const query: dns.LookupAllOptions = { all: true };
    if (opts.family !== undefined) query.family = opts.family;
    if (opts.hints !== undefined) query.hints = opts.hints;
    if (opts.verbatim !== undefined) query.verbatim = opts.verbatim;

    resolve(hostname, query, (error, addresses) => {
      if (error) {
        cb(error, opts.all ? [] : '');
        return;
      }
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = Object.assign(
          new Error(`getaddrinfo ENOTFOUND ${hostname}`),
          {
            code: 'ENOTFOUND',
            hostname,
          },
        );
        cb(notFound, opts.all ? [] : '');
        return;
      }
      try {
        for (const entry of addresses) policy.checkAddress(entry.address, hostname);
      } catch (blocked) {
        cb(blocked as BlockedAddressError, opts.all ? [] : '');
        return;
      }
      if (opts.all) cb(null, addresses);
      else cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * For transports that cannot hand a checked address to the socket (a `fetch` function): checks the URL host with
 * {@link AddressPolicy.checkHost}, then resolves a host name (every address) and checks each address. Resolves
 * when the host may be reached; rejects with a {@link BlockedAddressError} otherwise, or with `signal.reason` when
 * the signal aborts first. A name that does not resolve here passes: the caller's own connection resolves it again
 * and reports the failure (and an interceptor such as msw can serve made-up names).
 *
 * This is check-then-connect: the connection makes a lookup of its own, so a DNS server that answers a public
 * address now and a private one a moment later (DNS rebinding) gets past it. {@link guardedLookup} has no such gap.
 */
export function checkResolvedHost(
  policy: AddressPolicy,
  hostname: string,
  options: { lookup?: LookupAll; signal?: AbortSignal } = {},
): Promise<void> {
  if (policy.allowPrivateNetworks) return Promise.resolve();
  try {
    policy.checkHost(hostname);
  } catch (error) {
    return Promise.reject(error);
  }
  if (parseAddress(hostname) !== undefined) return Promise.resolve();
  const { signal } = options;
  const resolve: LookupAll = options.lookup ?? dns.lookup;
  return new Promise<void>((done, fail) => {
    if (signal?.aborted) {
      fail(signal.reason);
      return;
    }
    const onAbort = () => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const answer = (error: unknown, addresses: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      if (error || !Array.isArray(addresses)) {
        done();
        return;
      }
      try {
        for (const entry of addresses as dns.LookupAddress[])
          policy.checkAddress(String(entry?.address), hostname);
        done();
      } catch (blocked) {
        fail(blocked);
      }
    };
    try {
      resolve(hostname, { all: true }, answer);
    } catch (error) {
      answer(error, undefined);
    }
  });
}

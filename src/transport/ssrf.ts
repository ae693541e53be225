import dns from 'node:dns';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { BlockedAddressError, describe, OptionsError, WebhookValidationError } from '../core/errors.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;
type Cidr = [IPv4 | IPv6, number];

/** Options of {@link createAddressPolicy}. */
export interface AddressPolicyOptions {
  /**
   * Turn the guard off: loopback, private, link-local and every other non-public target may be reached.
   * Use it for development, or when the webhook URLs are typed in by trusted operators only.
   * @default false
   */
  allowPrivateNetworks?: boolean;
  /**
   * Targets that may be reached although their address is not public. Each entry is either a host name
   * (exact, case-insensitive: `'hooks.internal.example'` allows whatever it resolves to), an IP address
   * (`'10.0.0.7'`, `'::1'`) or a CIDR block (`'10.1.0.0/16'`, `'fd00::/8'`).
   * @default []
   * @example ['jenkins.corp.example', '10.20.0.0/16']
   */
  allow?: readonly string[];
  /**
   * Where the options were set, named in refusals so that the user changes the right ones, e.g.
   * `'createWebhookDispatcher()'` or `'httpTransport()'`.
   * @default undefined (the refusal names the options only)
   */
  source?: string;
}

/** A compiled SSRF policy. Both checks throw {@link BlockedAddressError} and return nothing otherwise. */
export interface AddressPolicy {
  /** `true` when the guard is off (`allowPrivateNetworks: true`). */
  readonly allowPrivateNetworks: boolean;
  /**
   * Checks a URL host before any DNS lookup: literal IP addresses (in any spelling the WHATWG URL parser
   * accepts, with or without IPv6 brackets) and `localhost` / `*.localhost`. Other host names pass; their
   * addresses are checked after resolution with {@link AddressPolicy.checkAddress}.
   */
  checkHost(hostname: string): void;
  /** Checks one resolved address. `hostname` is the name it was resolved from (for the allowlist and messages). */
  checkAddress(address: string, hostname?: string): void;
}

function cidr4(text: string): Cidr {
  return ipaddr.IPv4.parseCIDR(text);
}

function cidr6(text: string): Cidr {
  return ipaddr.IPv6.parseCIDR(text);
}

// First match wins, so more specific blocks come before the blocks that contain them.
const IPV4_RANGES: ReadonlyArray<readonly [string, Cidr]> = [
  ['unspecified', cidr4('0.0.0.0/8')],
  ['private', cidr4('10.0.0.0/8')],
  ['carrierGradeNat', cidr4('100.64.0.0/10')],
  ['loopback', cidr4('127.0.0.0/8')],
  ['linkLocal', cidr4('169.254.0.0/16')],
  ['private', cidr4('172.16.0.0/12')],
  ['reserved', cidr4('192.0.0.0/24')],
  ['documentation', cidr4('192.0.2.0/24')],
  ['reserved', cidr4('192.88.99.0/24')],
  ['private', cidr4('192.168.0.0/16')],
  ['benchmarking', cidr4('198.18.0.0/15')],
  ['documentation', cidr4('198.51.100.0/24')],
  ['documentation', cidr4('203.0.113.0/24')],
  ['multicast', cidr4('224.0.0.0/4')],
  ['broadcast', cidr4('255.255.255.255/32')],
  ['reserved', cidr4('240.0.0.0/4')],
];

// Prefixes whose addresses carry an IPv4 address; the embedded address decides.
const MAPPED = cidr6('::ffff:0:0/96');
const TRANSLATED = cidr6('::ffff:0:0:0/96');
const COMPATIBLE = cidr6('::/96');
const NAT64 = cidr6('64:ff9b::/96');
const SIX_TO_FOUR = cidr6('2002::/16');

const IPV6_RANGES: ReadonlyArray<readonly [string, Cidr]> = [
  ['nat64LocalUse', cidr6('64:ff9b:1::/48')],
  ['reserved', cidr6('::/8')],
  ['reserved', cidr6('100::/64')],
  ['teredo', cidr6('2001::/32')],
  ['benchmarking', cidr6('2001:2::/48')],
  ['documentation', cidr6('2001:db8::/32')],
  ['documentation', cidr6('3fff::/20')],
  ['uniqueLocal', cidr6('fc00::/7')],
  ['linkLocal', cidr6('fe80::/10')],
  ['siteLocal', cidr6('fec0::/10')],
  ['multicast', cidr6('ff00::/8')],
];

function classifyV4(address: IPv4): string | undefined {
  for (const [name, range] of IPV4_RANGES) {
    if (address.match(range)) return name;
  }
  return undefined;
}

function v4FromParts(high: number, low: number): IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function embedded(label: string, inner: IPv4): string | undefined {
  const range = classifyV4(inner);
  return range === undefined ? undefined : `${label}->${range}`;
}

function classifyV6(address: IPv6): string | undefined {
  const parts = address.parts as [number, number, number, number, number, number, number, number];
  if (address.match(MAPPED)) return embedded('ipv4Mapped', v4FromParts(parts[6], parts[7]));
  if (address.match(TRANSLATED)) return embedded('ipv4Translated', v4FromParts(parts[6], parts[7]));
  if (address.match(COMPATIBLE)) {
    if (parts[7] === 0 && parts[6] === 0) return 'unspecified';
    if (parts[7] === 1 && parts[6] === 0) return 'loopback';
    return embedded('ipv4Compatible', v4FromParts(parts[6], parts[7]));
  }
  if (address.match(NAT64)) return embedded('nat64', v4FromParts(parts[6], parts[7]));
  if (address.match(SIX_TO_FOUR)) return embedded('6to4', v4FromParts(parts[1], parts[2]));
  for (const [name, range] of IPV6_RANGES) {
    if (address.match(range)) return name;
  }
  return undefined;
}

// The WHATWG host parser treats a host as IPv4 when its last label is a number (`127.1`, `0x7f.1`,
// `2130706433`); those spellings are normalized through it so that they mean what a URL would mean.
const ENDS_IN_NUMBER = /(?:^|\.)(?:\d+|0x[\da-f]*)\.?$/i;

// ipaddr.js reads every `::a.b.c.d` as IPv4-mapped (`::ffff:a.b.c.d`); spell the tail in hex so that
// `::127.0.0.1` stays the IPv4-compatible address the socket layer would use.
function dottedTailToHex(host: string): string {
  const cut = host.lastIndexOf(':') + 1;
  const [a, b, c, d] = ipaddr.IPv4.parse(host.slice(cut)).octets as [number, number, number, number];
  return `${host.slice(0, cut)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function parseAddress(text: string): IPv4 | IPv6 | undefined {
  let host = text;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const zone = host.indexOf('%');
  if (zone !== -1) host = host.slice(0, zone);
  if (isIPv4(host)) return ipaddr.IPv4.parse(host);
  if (isIPv6(host)) return ipaddr.IPv6.parse(host.includes('.') ? dottedTailToHex(host) : host);
  if (!ENDS_IN_NUMBER.test(host)) return undefined;
  let normalized: string;
  try {
    normalized = new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
  return isIPv4(normalized) ? ipaddr.IPv4.parse(normalized) : undefined;
}

/**
 * Names the non-public range an IP address belongs to, or returns `undefined` for a public address.
 *
 * Accepts IPv4 and IPv6 text (brackets and zone ids are ignored) and every IPv4 spelling the WHATWG URL
 * parser accepts (`127.1`, `0x7f.0.0.1`, `2130706433`). IPv4 embedded in IPv6 (`::ffff:a.b.c.d`,
 * `::a.b.c.d`, `64:ff9b::/96`, `2002::/16`) is judged by the embedded address, e.g. `'ipv4Mapped->loopback'`.
 * Text that is not an IP address yields `'invalid'`, so that callers fail closed.
 *
 * @example classifyAddress('169.254.169.254') // 'linkLocal'
 */
export function classifyAddress(ip: string): string | undefined {
  const address = parseAddress(ip);
  if (address === undefined) return 'invalid';
  return address.kind() === 'ipv4' ? classifyV4(address as IPv4) : classifyV6(address as IPv6);
}

function normalizeHostname(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

const LOOPBACK_V4 = ipaddr.IPv4.parse('127.0.0.1');
const LOOPBACK_V6 = ipaddr.IPv6.parse('::1');
const OPT_IN = 'set `allowPrivateNetworks: true` or list the host or its network in `allowedHosts`';

function optInHint(source: string | undefined): string {
  return source === undefined ? OPT_IN : `${OPT_IN} of ${source}`;
}

/**
 * Compiles an SSRF policy once; its checks are then cheap enough for every connection.
 *
 * @example
 * const policy = createAddressPolicy({ allow: ['10.20.0.0/16', 'ci.corp.example'] });
 * policy.checkAddress('10.20.1.5');   // ok
 * policy.checkAddress('10.30.1.5');   // throws BlockedAddressError (private)
 */
export function createAddressPolicy(options: AddressPolicyOptions = {}): AddressPolicy {
  const allowPrivateNetworks = options.allowPrivateNetworks === true;
  const hint = optInHint(options.source);
  const hosts = new Set<string>();
  const networks: Array<Cidr> = [];

  const allow = options.allow ?? [];
  if (!Array.isArray(allow)) {
    throw new OptionsError(
      'allowedHosts',
      `Expected \`allowedHosts\` to be an array of strings, got ${describe(allow)}.`,
    );
  }
  allow.forEach((entry: unknown, index) => {
    const field = `allowedHosts[${index}]`;
    if (typeof entry !== 'string' || entry.trim() === '') {
      throw new OptionsError(
        field,
        `Expected \`${field}\` to be a host name, IP address or CIDR, got ${describe(entry)}.`,
      );
    }
    const text = normalizeHostname(entry.trim());
    if (text.includes('/')) {
      if (!ipaddr.isValidCIDR(text) || !isIP(text.slice(0, text.indexOf('/')))) {
        throw new OptionsError(
          field,
          `Expected \`${field}\` to be a valid CIDR block, got ${describe(entry)}.`,
        );
      }
      networks.push(ipaddr.parseCIDR(text));
      return;
    }
    const address = parseAddress(text);
    if (address !== undefined) {
      networks.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      return;
    }
    if (text.includes(':') || /[\s/?#@\\*]/.test(text)) {
      throw new OptionsError(
        field,
        `Expected \`${field}\` to be a host name (exact, no wildcards), IP address or CIDR, got ${describe(entry)}.`,
      );
    }
    hosts.add(text);
  });

  function inAllowedNetwork(address: IPv4 | IPv6): boolean {
    if (networks.length === 0) return false;
    let candidate = address;
    if (address.kind() === 'ipv6' && (address as IPv6).isIPv4MappedAddress()) {
      candidate = (address as IPv6).toIPv4Address();
    }
    for (const network of networks) {
      if (network[0].kind() === candidate.kind() && candidate.match(network)) return true;
    }
    return false;
  }

  function refuse(address: string, range: string, hostname: string | undefined): never {
    const target =
      hostname === undefined || normalizeHostname(hostname) === normalizeHostname(address)
        ? `${address} is`
        : `${JSON.stringify(hostname)} (${address}) is`;
    throw new BlockedAddressError(
      address,
      `Refused to connect: ${target} a ${range} address, not a public one. To allow it, ${hint}.`,
      hostname === undefined ? { range } : { hostname, range },
    );
  }

  function checkAddress(address: string, hostname?: string): void {
    if (allowPrivateNetworks) return;
    if (hostname !== undefined && hosts.has(normalizeHostname(hostname))) return;
    const parsed = parseAddress(address);
    if (parsed === undefined) refuse(address, 'invalid', hostname);
    const range = parsed.kind() === 'ipv4' ? classifyV4(parsed as IPv4) : classifyV6(parsed as IPv6);
    if (range === undefined || inAllowedNetwork(parsed)) return;
    refuse(address, range, hostname);
  }

  function checkHost(hostname: string): void {
    if (allowPrivateNetworks) return;
    const host = normalizeHostname(hostname);
    if (hosts.has(host)) return;
    if (isLocalhostName(host)) {
      if (inAllowedNetwork(LOOPBACK_V4) || inAllowedNetwork(LOOPBACK_V6)) return;
      throw new BlockedAddressError(
        hostname,
        `Refused to connect: ${JSON.stringify(hostname)} is a loopback host name. To allow it, ${hint}.`,
        { hostname, range: 'loopback' },
      );
    }
    const literal = parseAddress(host);
    if (literal !== undefined) checkAddress(literal.toString(), hostname);
  }

  return { allowPrivateNetworks, checkHost, checkAddress };
}

function redactUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z\d+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

/**
 * Validates a webhook URL when it is saved: an absolute `http:` or `https:` URL, without credentials, whose
 * host is not a blocked literal address (host names are checked again after DNS resolution, at connect time).
 *
 * @param field Name of the field in error messages, e.g. `url`.
 * @returns The parsed URL.
 * @throws {WebhookValidationError} The URL is not an absolute http(s) URL or carries credentials.
 * @throws {BlockedAddressError} The host is a blocked address or `localhost`.
 */
export function checkUrl(url: string, policy: AddressPolicy, field = 'url'): URL {
  const fail = (message: string): never => {
    throw new WebhookValidationError(field, message);
  };
  const shown = typeof url === 'string' ? describe(redactUserinfo(url)) : describe(url);
  if (typeof url !== 'string') fail(`Expected \`${field}\` to be an absolute http(s) URL, got ${shown}.`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    return fail(`Expected \`${field}\` to be an absolute http(s) URL, got ${shown}.`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    fail(
      `Expected \`${field}\` to carry no credentials (user:password@), got ${shown}. Send them in \`headers\` instead.`,
    );
  }
  policy.checkHost(parsed.hostname);
  return parsed;
}

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

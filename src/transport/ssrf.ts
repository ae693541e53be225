import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { BlockedAddressError, describe, OptionsError, WebhookValidationError } from '../core/errors.js';
import {
  type Cidr,
  classifyV4,
  classifyV6,
  type IPv4,
  type IPv6,
  isLocalhostName,
  normalizeHostname,
  parseAddress,
} from './ssrf-ranges.js';

// The guard's names, whichever file of it holds them (address ranges, the guarded DNS lookup).
export {
  checkResolvedHost,
  type GuardedLookupFunction,
  type GuardedLookupOptions,
  guardedLookup,
  type LookupAddress,
  type LookupAll,
} from './ssrf-lookup.js';
export { classifyAddress } from './ssrf-ranges.js';

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

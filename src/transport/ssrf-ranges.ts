// Which network an IP address is in (loopback, private, link-local, ...), IPv4-in-IPv6 forms included.
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';

export type IPv4 = ipaddr.IPv4;
export type IPv6 = ipaddr.IPv6;
export type Cidr = [IPv4 | IPv6, number];

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

export function classifyV4(address: IPv4): string | undefined {
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

export function classifyV6(address: IPv6): string | undefined {
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

export function parseAddress(text: string): IPv4 | IPv6 | undefined {
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

export function normalizeHostname(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

export function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

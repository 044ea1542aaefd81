import { lookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses a referrer's webhook may reach. Built from IANA's IPv4 and IPv6
 * special-purpose address registries and address-space registries:
 * https://www.iana.org/assignments/iana-ipv4-special-registry/
 * https://www.iana.org/assignments/iana-ipv6-special-registry/
 * https://www.iana.org/assignments/ipv6-address-space/
 *
 * Documentation prefixes (TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20) route nowhere, so they are
 * no way in and stay reachable: examples and tests use them as stand-ins for the internet.
 */
const INTERNAL_V4 = subnets('ipv4', [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, limited broadcast
]);

/** IANA's global unicast space; every other IPv6 prefix is reserved, local, multicast or special. */
const GLOBAL_UNICAST_V6 = subnets('ipv6', [['2000::', 3]]);

/** Special-purpose blocks inside 2000::/3 that are not a public host. */
const INTERNAL_GLOBAL_V6 = subnets('ipv6', [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID, AMT, anycast services
  ['2002::', 16], // 6to4: an IPv4 address (any, private included) behind a relay
]);

/** IPv6 forms that carry an IPv4 address in their last 32 bits; that address decides. */
const EMBEDDING_V4 = subnets('ipv6', [
  ['::ffff:0:0', 96], // IPv4-mapped
  ['64:ff9b::', 96], // IPv4/IPv6 translation (NAT64 well-known prefix)
]);

function subnets(family: 'ipv4' | 'ipv6', list: [string, number][]): BlockList {
  const blocks = new BlockList();
  for (const [network, prefix] of list) blocks.addSubnet(network, prefix, family);
  return blocks;
}

/**
 * True when `address` reaches this host or a network that is not the public internet: loopback,
 * private, link-local, CGNAT, multicast, reserved, and IPv6 forms that embed one of those
 * (mapped, NAT64) or an IPv4 address generally (IPv4-compatible, SIIT, 6to4, Teredo).
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, ''); // a zone id (fe80::1%eth0) belongs to a link-local address
  if (isIPv4(bare)) return INTERNAL_V4.check(bare, 'ipv4');
  if (!isIPv6(bare)) throw new Error(`Not an IP address: ${address}`);
  if (EMBEDDING_V4.check(bare, 'ipv6')) return INTERNAL_V4.check(embeddedIpv4(bare), 'ipv4');
  return !GLOBAL_UNICAST_V6.check(bare, 'ipv6') || INTERNAL_GLOBAL_V6.check(bare, 'ipv6');
}

/** The last 32 bits of an IPv6 address, dotted. */
function embeddedIpv4(address: string): string {
  const hextets = expandIpv6(address);
  const high = hextets[6]!;
  const low = hextets[7]!;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** Eight 16-bit groups of a valid IPv6 address, `::` and a trailing dotted quad expanded. */
function expandIpv6(address: string): number[] {
  let text = address.toLowerCase();
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

export type EndpointUrlVerdict = { ok: true; url: string } | { ok: false; reason: string };

export interface EndpointUrlOptions {
  allowPrivate: boolean;
  /** Resolves a host name to its addresses; DNS by default. */
  resolve?: (hostname: string) => Promise<string[]>;
}

const resolveDns = async (hostname: string) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Checks a webhook endpoint URL at setup: absolute http(s), no credentials, and (unless allowed)
 * no host that is or resolves to a private address. Delivery checks the resolved address again.
 */
export async function validateEndpointUrl(raw: string, options: EndpointUrlOptions): Promise<EndpointUrlVerdict> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: 'not an absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: `scheme ${url.protocol} is not http or https` };
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed; the signature authenticates us' };
  if (url.href.length > 2048) return { ok: false, reason: 'longer than 2048 characters' };
  url.hash = '';
  if (options.allowPrivate) return { ok: true, url: url.href };

  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (options.resolve ?? resolveDns)(host);
    } catch {
      return { ok: false, reason: `host ${host} does not resolve` };
    }
  }
  const blocked = addresses.find(isPrivateAddress);
  if (blocked) return { ok: false, reason: `host ${host} is a private, loopback or link-local address (${blocked})` };
  if (addresses.length === 0) return { ok: false, reason: `host ${host} does not resolve` };
  return { ok: true, url: url.href };
}

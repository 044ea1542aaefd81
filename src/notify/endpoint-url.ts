import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Addresses a webhook must never reach when the program forbids private endpoints (SSRF). */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** Loopback, private, link-local, CGNAT, multicast or reserved; IPv4-mapped IPv6 included. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) throw new Error(`Not an IP address: ${address}`);
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
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

import { describe, expect, test } from 'vitest';
import { isPrivateAddress, validateEndpointUrl } from '../../../src/notify/endpoint-url.ts';

const dns: Record<string, string[]> = {
  'hooks.partner.test': ['203.0.113.10'],
  'rebind.partner.test': ['203.0.113.11', '10.1.2.3'],
  'v6.partner.test': ['2001:db8::1'],
};
const resolve = async (host: string) => {
  const addresses = dns[host];
  if (!addresses) throw new Error(`ENOTFOUND ${host}`);
  return addresses;
};

describe('isPrivateAddress', () => {
  test.each([
    ['127.0.0.1', true],
    ['10.20.30.40', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.0.10', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd12:3456::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.0.0.1', true],
    ['172.32.0.1', false],
    ['8.8.8.8', false],
    ['203.0.113.10', false],
    ['2001:db8::1', false],
    ['::ffff:8.8.8.8', false],
  ])('%s → %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  // The rarer IPv6 spellings of an internal address (issue #17): each reaches loopback or a
  // reserved network, however the address is written.
  test.each([
    ['::127.0.0.1'], // IPv4-compatible
    ['::ffff:0:7f00:1'], // SIIT (IPv4-translated)
    ['64:ff9b::7f00:1'], // NAT64 of 127.0.0.1
    ['64:ff9b::10.0.0.1'],
    ['64:ff9b::a9fe:a9fe'], // NAT64 of private and metadata addresses
    ['64:ff9b:1::1'], // local-use translation
    ['fec0::1'],
    ['feff::1'], // site-local (deprecated), fec0::/10
    ['100::'],
    ['100::ffff:ffff:ffff:ffff'], // discard-only, 100::/64
    ['2001::1'],
    ['2001:2::1'],
    ['2002:7f00:1::1'], // Teredo, benchmarking, 6to4 of 127.0.0.1
    ['::ffff:169.254.169.254'],
    ['::ffff:a9fe:a9fe'], // IPv4-mapped metadata, both spellings
    ['fe80::1%eth0'],
    ['ff02::1'],
    ['::2'],
    ['4000::1'], // zoned link-local, multicast, reserved
  ])('%s is internal', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  test.each([['64:ff9b::808:808'], ['2606:4700::1111'], ['2a00:1450::1'], ['1.1.1.1'], ['100.128.0.1']])('%s is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

describe('validateEndpointUrl', () => {
  test.each([
    ['https://hooks.partner.test/referloop', { ok: true, url: 'https://hooks.partner.test/referloop' }],
    ['http://hooks.partner.test:8443/in?x=1#frag', { ok: true, url: 'http://hooks.partner.test:8443/in?x=1' }],
    ['https://v6.partner.test/', { ok: true, url: 'https://v6.partner.test/' }],
    ['https://[2001:db8::1]/', { ok: true, url: 'https://[2001:db8::1]/' }],
    ['ftp://hooks.partner.test/', { ok: false, reason: 'scheme ftp: is not http or https' }],
    ['javascript:alert(1)', { ok: false, reason: 'scheme javascript: is not http or https' }],
    ['data:text/plain,hi', { ok: false, reason: 'scheme data: is not http or https' }],
    ['/relative/path', { ok: false, reason: 'not an absolute URL' }],
    ['https://a:b@hooks.partner.test/', { ok: false, reason: 'credentials in the URL are not allowed; the signature authenticates us' }],
    ['http://10.0.0.1/', { ok: false, reason: 'host 10.0.0.1 is a private, loopback or link-local address (10.0.0.1)' }],
    ['http://0x7f.1/', { ok: false, reason: 'host 127.0.0.1 is a private, loopback or link-local address (127.0.0.1)' }],
    ['http://[fe80::1]/', { ok: false, reason: 'host fe80::1 is a private, loopback or link-local address (fe80::1)' }],
    ['http://[::127.0.0.1]/', { ok: false, reason: 'host ::7f00:1 is a private, loopback or link-local address (::7f00:1)' }],
    [
      'http://[::ffff:0:7f00:1]/',
      { ok: false, reason: 'host ::ffff:0:7f00:1 is a private, loopback or link-local address (::ffff:0:7f00:1)' },
    ],
    [
      'http://[64:ff9b::7f00:1]/',
      { ok: false, reason: 'host 64:ff9b::7f00:1 is a private, loopback or link-local address (64:ff9b::7f00:1)' },
    ],
    ['http://[fec0::1]/', { ok: false, reason: 'host fec0::1 is a private, loopback or link-local address (fec0::1)' }],
    ['http://[100::1]/', { ok: false, reason: 'host 100::1 is a private, loopback or link-local address (100::1)' }],
    [
      'https://rebind.partner.test/',
      { ok: false, reason: 'host rebind.partner.test is a private, loopback or link-local address (10.1.2.3)' },
    ],
    ['https://nowhere.partner.test/', { ok: false, reason: 'host nowhere.partner.test does not resolve' }],
    [`https://hooks.partner.test/${'a'.repeat(2100)}`, { ok: false, reason: 'longer than 2048 characters' }],
  ])('private forbidden: %s', async (url, verdict) => {
    expect(await validateEndpointUrl(url, { allowPrivate: false, resolve })).toEqual(verdict);
  });

  test.each([
    ['http://127.0.0.1:4000/hook', { ok: true, url: 'http://127.0.0.1:4000/hook' }],
    ['http://localhost:4000/hook', { ok: true, url: 'http://localhost:4000/hook' }],
    ['ftp://127.0.0.1/', { ok: false, reason: 'scheme ftp: is not http or https' }],
  ])('private allowed: %s', async (url, verdict) => {
    expect(await validateEndpointUrl(url, { allowPrivate: true, resolve })).toEqual(verdict);
  });
});

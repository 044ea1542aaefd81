import { describe, expect, it } from 'vitest';
import { domainFromEmail, domainFromWebsite, isFreeMailDomain, normalizeEmail, refereeIdentity } from '../../../src/domain/normalize.ts';

const strip = { plusAddressing: 'strip' } as const;
const keep = { plusAddressing: 'keep' } as const;

describe('normalizeEmail', () => {
  it.each([
    ['  Jane.Doe@Acme.COM ', strip, 'jane.doe@acme.com'],
    ['jane+referral@acme.com', strip, 'jane@acme.com'],
    ['jane+referral@acme.com', keep, 'jane+referral@acme.com'],
    ['jane+a+b@acme.com', strip, 'jane@acme.com'],
    ['+tag@acme.com', strip, '+tag@acme.com'], // nothing would be left of the local part
    ['j.a.n.e@gmail.com', strip, 'j.a.n.e@gmail.com'], // Gmail dots are kept on purpose
    ['jane@acme.com.', strip, 'jane@acme.com'],
  ])('%s (%o) → %s', (input, policy, expected) => {
    expect(normalizeEmail(input, policy)).toBe(expected);
  });

  it.each(['jane', '@acme.com', 'jane@', 'ja ne@acme.com'])('throws on "%s" (the edge validates emails)', (bad) => {
    expect(() => normalizeEmail(bad, strip)).toThrow(RangeError);
  });
});

it('domainFromEmail lowercases the domain', () => {
  expect(domainFromEmail('Jane@Sub.ACME.com')).toBe('sub.acme.com');
});

describe('domainFromWebsite', () => {
  it.each([
    ['https://www.Acme.com/about?x=1', 'acme.com'],
    ['http://acme.com:8080', 'acme.com'],
    ['www.acme.co.uk/', 'acme.co.uk'],
    ['acme.io', 'acme.io'],
    ['https://user:pw@shop.acme.com', 'shop.acme.com'],
    ['  ', null],
    ['localhost', null],
    ['http://192.168.0.1/', null],
    ['not a url at all', null],
  ])('%s → %s', (input, expected) => {
    expect(domainFromWebsite(input)).toBe(expected);
  });
});

describe('isFreeMailDomain', () => {
  it.each([
    ['gmail.com', true],
    ['googlemail.com', true],
    ['yahoo.co.uk', true],
    ['yahoo.fr', true],
    ['hotmail.de', true],
    ['gmx.net', true],
    ['gmx.de', true],
    ['yandex.ru', true],
    ['proton.me', true],
    ['qq.com', true],
    ['GMAIL.COM', true],
    ['acme.com', false],
    ['yahoo.acme.com', false], // somebody's subdomain, not Yahoo Mail
    ['gmailer.com', false],
  ])('%s → %s', (domain, free) => {
    expect(isFreeMailDomain(domain)).toBe(free);
  });
});

describe('refereeIdentity', () => {
  it.each([
    [{ email: 'Jane+x@Acme.com' }, { email: 'jane@acme.com', domain: 'acme.com' }],
    [{ email: 'jane@gmail.com' }, { email: 'jane@gmail.com', domain: null }], // never a free-mail domain
    [
      { email: 'jane@gmail.com', website: 'https://www.acme.com' },
      { email: 'jane@gmail.com', domain: 'acme.com' },
    ],
    [
      { email: 'jane@acme.com', domain: 'ACME.io' },
      { email: 'jane@acme.com', domain: 'acme.io' },
    ],
    [
      { email: 'jane@gmail.com', domain: 'gmail.com', company: 'Acme' },
      { email: 'jane@gmail.com', domain: null },
    ],
  ])('%o → %o', (referee, expected) => {
    expect(refereeIdentity(referee, strip)).toEqual(expected);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultProgram } from '../../../src/domain/program.ts';
import {
  codeFromField,
  decideVisit,
  isWellFormedCode,
  LINK_CODE_LENGTH,
  LINK_SECRET_LENGTH,
  landingUrlAllowed,
  newLinkCode,
  randomBase62,
  visitRedirect,
} from '../../../src/domain/referral-links.ts';
import { programSchema } from '../../../src/http/program.schema.ts';

describe('link codes', () => {
  it('carry at least 64 bits of randomness after the installation tag', () => {
    expect(LINK_SECRET_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(64);
    const code = newLinkCode('Ab12', randomBytes);
    expect(code).toHaveLength(LINK_CODE_LENGTH);
    expect(code.startsWith('Ab12')).toBe(true);
    expect(isWellFormedCode(code)).toBe(true);
  });

  it('are not repeated and use the whole alphabet evenly enough', () => {
    const codes = Array.from({ length: 2_000 }, () => randomBase62(LINK_SECRET_LENGTH, randomBytes));
    expect(new Set(codes).size).toBe(codes.length);
    const counts = new Map<string, number>();
    for (const c of codes.join('')) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 26,000 characters over 62: each about 419; a biased byte mapping would push the first ones far above.
    for (const n of counts.values()) expect(n).toBeGreaterThan(300);
    for (const n of counts.values()) expect(n).toBeLessThan(560);
  });

  it('skips the bytes that would bias the alphabet', () => {
    // 248..255 are dropped; 61 maps to 'z', 0 to '0'.
    const bytes = [255, 250, 248, 61, 0, 123];
    const source = (n: number) => Uint8Array.from({ length: n }, (_, i) => bytes[i % bytes.length]!);
    expect(randomBase62(3, source)).toBe('z0z');
  });

  it.each([
    ['well formed', 'Ab12xxxxxxxxxxxxx', true],
    ['too short', 'Ab12xxxxxxxxxxxx', false],
    ['too long', 'Ab12xxxxxxxxxxxxxx', false],
    ['with a dash', 'Ab12xxxxxxxx-xxxx', false],
    ['with a space', 'Ab12xxxxxxxx xxxx', false],
    ['empty', '', false],
  ])('a code %s is accepted: %s', (_, code, ok) => {
    expect(isWellFormedCode(code)).toBe(ok);
  });

  it.each([
    ['a code', ' Ab12xxxxxxxxxxxxx ', 'Ab12xxxxxxxxxxxxx'],
    ['an empty field', '', null],
    ['nothing', null, null],
    ['something else', 'friend', null],
  ])('a form field holding %s gives %s', (_, value, code) => {
    expect(codeFromField(value)).toBe(code);
  });
});

describe('landing URLs', () => {
  it.each([
    ['the domain itself', 'https://vendor.example/signup', true],
    ['a subdomain', 'https://www.vendor.example/signup?plan=pro', true],
    ['a look-alike domain', 'https://vendor.example.evil.test/', false],
    ['a suffix that is not a subdomain', 'https://notvendor.example/', false],
    ['plain http', 'http://www.vendor.example/', false],
    ['http on localhost (development)', 'http://localhost:5173/', false],
    ['credentials in the URL', 'https://user:pass@vendor.example/', false],
    ['a javascript: URL', 'javascript:alert(1)', false],
    ['not a URL', 'vendor.example/signup', false],
  ])('%s: allowed %s', (_, url, ok) => {
    expect(landingUrlAllowed(url, ['vendor.example']).ok).toBe(ok);
  });

  it('allows http on localhost when localhost is an allowed domain', () => {
    expect(landingUrlAllowed('http://localhost:5173/', ['localhost']).ok).toBe(true);
  });

  it('the program schema refuses a landing page outside its allowed domains, and accepts one inside', () => {
    const program = (links: unknown) => programSchema.safeParse({ ...defaultProgram(), links });
    expect(program({ landingUrl: 'https://www.vendor.example/', allowedDomains: ['vendor.example'] }).success).toBe(true);
    const outside = program({ landingUrl: 'https://elsewhere.example/', allowedDomains: ['vendor.example'] });
    expect(outside.success).toBe(false);
    expect(outside.error?.issues.map((i) => i.path.join('.'))).toEqual(['links.landingUrl']);
    expect(program({ landingUrl: 'https://www.vendor.example/', allowedDomains: [] }).success).toBe(false);
    expect(program({ landingUrl: 'https://www.vendor.example/', allowedDomains: ['https://vendor.example'] }).success).toBe(false);
  });
});

describe('visits', () => {
  const policy = { landingUrl: 'https://www.vendor.example/', allowedDomains: ['vendor.example'] };
  const link = { referrerId: 'rfr_1', landingUrl: null, revokedAt: null };

  it.each([
    ['a live link, someone else visiting', { link, policy, visitorReferrerId: null }, { outcome: 'count', landingUrl: policy.landingUrl }],
    [
      'the referrer visiting their own link',
      { link, policy, visitorReferrerId: 'rfr_1' },
      { outcome: 'own_visit', landingUrl: policy.landingUrl },
    ],
    [
      'a link with a page of its own',
      { link: { ...link, landingUrl: 'https://docs.vendor.example/a' }, policy, visitorReferrerId: null },
      { outcome: 'count', landingUrl: 'https://docs.vendor.example/a' },
    ],
    [
      'a link whose page the program no longer allows',
      { link: { ...link, landingUrl: 'https://old.example/a' }, policy, visitorReferrerId: null },
      { outcome: 'count', landingUrl: policy.landingUrl },
    ],
    [
      'a revoked link',
      { link: { ...link, revokedAt: '2026-01-01T00:00:00Z' }, policy, visitorReferrerId: null },
      { outcome: 'ignore', landingUrl: policy.landingUrl },
    ],
    [
      'a wrong code of a known installation',
      { link: null, policy, visitorReferrerId: null },
      { outcome: 'ignore', landingUrl: policy.landingUrl },
    ],
    ['a wrong code of no installation', { link: null, policy: null, visitorReferrerId: null }, { outcome: 'ignore', landingUrl: null }],
    ['a program that turned links off', { link, policy: null, visitorReferrerId: null }, { outcome: 'ignore', landingUrl: null }],
  ] as const)('%s', (_, facts, decision) => {
    expect(decideVisit(facts)).toEqual(decision);
  });

  it('passes UTM parameters on, no others, and adds the code', () => {
    const url = visitRedirect('https://www.vendor.example/signup?plan=pro', 'Ab12xxxxxxxxxxxxx', {
      utm_source: 'newsletter',
      utm_medium: 'email',
      next: 'https://evil.test',
      referloop_code: 'forged',
      utm_campaign: ['a', 'b'],
    });
    expect(url).toBe('https://www.vendor.example/signup?plan=pro&utm_source=newsletter&utm_medium=email&referloop_code=Ab12xxxxxxxxxxxxx');
  });
});

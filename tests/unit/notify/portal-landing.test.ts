import { describe, expect, it } from 'vitest';
import { isPortalLanding, signInLinkUrl } from '../../../src/notify/portal-link.ts';

describe('where a sign-in link lands', () => {
  it('names the ask page in the query, the token staying in the fragment', () => {
    expect(signInLinkUrl('https://app.test/', 'inst 1', 'tok', 'ask/ask_1')).toBe(
      'https://app.test/portal/inst%201/link?to=ask%2Fask_1#tok',
    );
    expect(signInLinkUrl('https://app.test', 'inst', 'tok')).toBe('https://app.test/portal/inst/link#tok');
  });

  it.each([
    ['ask/ask_1a2B', true],
    ['ask/', false],
    ['referrals', false],
    ['https://evil.example', false],
    ['//evil.example', false],
    ['ask/../../admin', false],
    ['ask/x/y', false],
    [`ask/${'a'.repeat(65)}`, false],
  ])('%s → %s', (landing, followed) => {
    expect(isPortalLanding(landing)).toBe(followed);
  });
});

import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { captureScript } from '../../../src/http/capture-script.ts';

const CODE = 'Ab12CdEfGhIjKlMnO';

/** The page the script runs on: its address, cookie jar, the form's hidden inputs and the consent flag. */
function page(options: { search: string; consent?: unknown; cookie?: string; protocol?: string }) {
  const jar = new Map<string, string>();
  const written: string[] = [];
  if (options.cookie) for (const pair of options.cookie.split('; ')) jar.set(pair.split('=')[0]!, pair.split('=')[1]!);
  const inputs = [
    { name: 'referloop_referral_code', value: '' },
    { name: '00N5g00000ABCDE', value: '' },
    { name: 'email', value: '' },
  ];
  const document = {
    readyState: 'complete',
    documentElement: {},
    get cookie() {
      return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    },
    set cookie(value: string) {
      written.push(value);
      const [pair] = value.split('; ');
      jar.set(pair!.split('=')[0]!, pair!.split('=')[1]!);
    },
    querySelectorAll: (selector: string) => inputs.filter((i) => selector === `input[name="${i.name}"]`),
    addEventListener: () => {},
  };
  const window: Record<string, unknown> = { referloopConsent: options.consent };
  const context = {
    window,
    document,
    location: { search: options.search, protocol: options.protocol ?? 'https:' },
    URLSearchParams,
    RegExp,
    MutationObserver: class {
      observe() {}
    },
  };
  runInNewContext(captureScript({ days: 30, fields: ['referloop_referral_code', '00N5g00000ABCDE'] }), context);
  return { written, inputs, window, value: (name: string) => inputs.find((i) => i.name === name)!.value };
}

describe('the capture script', () => {
  it('is a few lines', () => {
    expect(captureScript({ days: 365, fields: ['referloop_referral_code'] }).split('\n').length).toBeLessThan(15);
  });

  it.each([
    ['consent given (true)', true, true],
    ['consent given (a function saying yes)', () => true, true],
    ['consent refused (a function saying no)', () => false, false],
    ['no consent setting', undefined, false],
    ['a truthy value that is not yes', 'yes', false],
  ])('%s: stores the code and fills the fields: %s', (_, consent, captured) => {
    const p = page({ search: `?utm_source=x&referloop_code=${CODE}`, consent });
    if (captured) {
      expect(p.written).toEqual([`referloop_code=${CODE}; Max-Age=${30 * 86400}; Path=/; SameSite=Lax; Secure`]);
      expect(p.value('referloop_referral_code')).toBe(CODE);
      expect(p.value('00N5g00000ABCDE')).toBe(CODE);
    } else {
      expect(p.written).toEqual([]);
      expect(p.value('referloop_referral_code')).toBe('');
    }
    expect(p.value('email')).toBe('');
  });

  it('fills the fields from the cookie on a later page without the code', () => {
    const p = page({ search: '', consent: true, cookie: `referloop_code=${CODE}` });
    expect(p.written).toEqual([]);
    expect(p.value('referloop_referral_code')).toBe(CODE);
  });

  it('ignores a parameter that is not a code', () => {
    const p = page({ search: '?referloop_code=%3Cscript%3E', consent: true });
    expect(p.written).toEqual([]);
    expect(p.value('referloop_referral_code')).toBe('');
  });

  it('captures once the site asks it to after consent is given', () => {
    const p = page({ search: `?referloop_code=${CODE}`, consent: false });
    expect(p.value('referloop_referral_code')).toBe('');
    p.window.referloopConsent = true;
    (p.window.referloopCapture as () => void)();
    expect(p.value('referloop_referral_code')).toBe(CODE);
  });

  it('leaves out Secure on an http page', () => {
    expect(page({ search: `?referloop_code=${CODE}`, consent: true, protocol: 'http:' }).written[0]).not.toContain('Secure');
  });
});

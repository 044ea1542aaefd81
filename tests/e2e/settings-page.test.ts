/**
 * /app/settings opens only through the signed, short-lived link the install redirects to, and
 * never shows where the admin token is kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsLinks } from '../../src/http/settings-link.ts';
import { startTestService, type TestService } from '../support/service.ts';

describe('settings page after an install', () => {
  let svc: TestService;
  let settingsUrl: string;
  let installationId: string;

  beforeAll(async () => {
    svc = await startTestService();
    // The OAuth install as a browser follows it, up to the page it lands on.
    let next = `${svc.url}/oauth/hubspot/install`;
    for (;;) {
      const res = await fetch(next, { redirect: 'manual' });
      const location = res.headers.get('location');
      if (!location) throw new Error(`the install stopped at ${next} with ${res.status}`);
      next = new URL(location, next).toString();
      if (new URL(next).pathname === '/app/settings') break;
    }
    settingsUrl = next;
    installationId = new URL(settingsUrl).searchParams.get('installationId')!;
  });
  afterAll(async () => svc?.stop());

  it('the link the install redirects to opens the page, which does not say where the token is', async () => {
    const res = await fetch(settingsUrl);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(installationId);
    expect(html).not.toContain(svc.dataDir);
    expect(html).not.toMatch(/admin-token/);
  });

  it.each([
    ['the installation id alone', (url: URL) => new URL(`/app/settings?installationId=${url.searchParams.get('installationId')}`, url)],
    ['a forged signature', (url: URL) => withParam(url, 'signature', 'A'.repeat(43))],
    ['a later expiry than signed', (url: URL) => withParam(url, 'expires', String(Number(url.searchParams.get('expires')) + 3_600_000))],
    ['another installation with this signature', (url: URL) => withParam(url, 'installationId', 'inst_other')],
  ])('refuses %s', async (_what, tamper) => {
    const res = await fetch(tamper(new URL(settingsUrl)));
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain(installationId);
  });

  it('refuses a link once it has expired', async () => {
    const key = svc.service.runtime.config.encryptionKey;
    const expired = settingsLinks(key).issue(installationId, new Date(Date.now() - 16 * 60_000));
    expect((await fetch(`${svc.url}${expired}`)).status).toBe(403);
    const fresh = settingsLinks(key).issue(installationId, new Date());
    expect((await fetch(`${svc.url}${fresh}`)).status).toBe(200);
  });
});

function withParam(url: URL, name: string, value: string): URL {
  const copy = new URL(url);
  copy.searchParams.set(name, value);
  return copy;
}

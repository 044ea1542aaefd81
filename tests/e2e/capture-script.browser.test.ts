/**
 * The capture script in Chromium, on a vendor's page (another origin) that holds a form with the
 * hidden referral code field and draws a second form later, as HubSpot's embedded forms do: a
 * visit to a referral link lands there, the script keeps the code in a first-party cookie for the
 * attribution window and fills both forms; a later page reads the cookie; without consent nothing
 * is stored or filled until the site says yes.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

const CHROMIUM = '/usr/bin/chromium';

let svc: TestService;
let browser: Browser;
let site: Server;
let siteUrl: string;
let linkUrl: string;
let code: string;

/** The vendor's page: consent as the path says, a form now and one drawn 300 ms later. */
function vendorPage(consent: boolean, scriptSrc: string): string {
  return `<!doctype html><html><head><title>Sign up</title>
<script>window.referloopConsent = ${consent};</script>
<script src="${scriptSrc}" defer></script></head>
<body><form id="now"><input name="email"><input type="hidden" name="referloop_referral_code"></form>
<div id="later"></div>
<script>setTimeout(function(){document.getElementById('later').innerHTML='<form id="drawn"><input type="hidden" name="referloop_referral_code"></form>'},300)</script>
</body></html>`;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\``);
  svc = await startTestService();
  const installationId = await installSandbox(svc);
  const scriptSrc = `${svc.url}/r/capture.js?installation=${installationId}`;
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    res.writeHead(200, { 'content-type': 'text/html' }).end(vendorPage(path !== '/no-consent', scriptSrc));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

  const current = (await (await svc.api('/program')).json()) as { program: Record<string, unknown> };
  const links = { landingUrl: `${siteUrl}/signup`, allowedDomains: ['127.0.0.1'] };
  expect((await svc.api('/program', { method: 'PUT', json: { ...current, program: { ...current.program, links } } })).status).toBe(200);
  const referrer = (await (
    await svc.api('/referrers', { method: 'POST', json: { email: 'cora@customer.test', name: 'Cora', type: 'customer' } })
  ).json()) as { id: string };
  ({ url: linkUrl, code } = (await (await svc.api(`/referrers/${referrer.id}/link`, { method: 'POST', json: {} })).json()) as {
    url: string;
    code: string;
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await svc?.stop();
});

describe('the capture script in Chromium', { timeout: 60_000 }, () => {
  it('fills the hidden field of a form and of one drawn later, and keeps the code for the attribution window', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${linkUrl}?utm_source=newsletter`);
    expect(page.url()).toBe(`${siteUrl}/signup?utm_source=newsletter&referloop_code=${code}`);
    await expect.poll(() => page.inputValue('#now input[name=referloop_referral_code]')).toBe(code);
    await expect.poll(() => page.locator('#drawn input[name=referloop_referral_code]').inputValue()).toBe(code);
    expect(await page.inputValue('#now input[name=email]')).toBe('');

    const [cookie] = (await context.cookies(siteUrl)).filter((c) => c.name === 'referloop_code');
    expect(cookie).toMatchObject({ value: code, sameSite: 'Lax', httpOnly: false });
    // The default program's attribution window: 365 days.
    expect(cookie!.expires * 1000 - Date.now()).toBeGreaterThan(364 * 86_400_000);

    // A later page of the site, without the code in its address, still fills the form.
    const later = await context.newPage();
    await later.goto(`${siteUrl}/pricing`);
    await expect.poll(() => later.inputValue('#now input[name=referloop_referral_code]')).toBe(code);
    await context.close();
  });

  it('without consent stores and fills nothing, until the site says yes', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${siteUrl}/no-consent?referloop_code=${code}`);
    await page.waitForFunction('typeof window.referloopCapture === "function"');
    await page.waitForTimeout(400);
    expect(await page.inputValue('#now input[name=referloop_referral_code]')).toBe('');
    expect((await context.cookies(siteUrl)).map((c) => c.name)).toEqual([]);

    await page.evaluate('window.referloopConsent = true; window.referloopCapture()');
    expect(await page.inputValue('#now input[name=referloop_referral_code]')).toBe(code);
    expect((await context.cookies(siteUrl)).map((c) => c.name)).toEqual(['referloop_code']);
    await context.close();
  });
});

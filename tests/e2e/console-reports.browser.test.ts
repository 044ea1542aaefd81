/**
 * The console's Reports page in Chromium against the whole service: the headline numbers and both
 * charts (inline SVG with a title, a description and a table of the same numbers) show what the
 * reports API answers, and a referrer-type filter changes them. axe-core finds no serious or
 * critical violation, nothing scrolls sideways at 390 px, screenshots at 1280 and 390 px.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage, launchChromium } from '../support/browser.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
let browser: Browser;
let installationId: string;

async function refer(referrer: { email: string; name: string; type: string }, referee: Record<string, string>): Promise<void> {
  const res = await svc.api('/referrals', { method: 'POST', json: { referrer, referee, submittedBy: { kind: 'rep' } } });
  expect(res.status).toBe(201);
}

/** The number a headline tile shows under its label. */
const stat = (page: Page, name: string) => page.locator(`dd[data-stat="${name}"]`);

beforeAll(async () => {
  svc = await startTestService();
  installationId = await installSandbox(svc);
  const pia = { email: 'pia@partner-firm.test', name: 'Pia Partner', type: 'partner' };
  const cleo = { email: 'cleo@customer.test', name: 'Cleo Customer', type: 'customer' };
  await refer(pia, { email: 'jordan@acme-widgets.test', firstName: 'Jordan', company: 'Acme Widgets' });
  await refer(pia, { email: 'sam@globex.test', firstName: 'Sam', company: 'Globex' });
  await refer(cleo, { email: 'lee@initech.test', firstName: 'Lee', company: 'Initech' });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

describe('the console Reports page', () => {
  it('shows the numbers and charts of the reports API, and a filter changes them', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${svc.url}/console/${installationId}`);
    await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Reports', exact: true }).click();
    await page.getByRole('heading', { name: 'Reports', exact: true }).waitFor();

    await expect.poll(() => stat(page, 'referrals').textContent()).toBe('3');
    const api = (await (await svc.api(`/reports?installationId=${installationId}`)).json()) as {
      referrals: number;
      funnel: { count: number }[];
    };
    expect(api.referrals).toBe(3);
    expect(await stat(page, 'won').textContent()).toBe('0');
    expect(await stat(page, 'conversion').textContent()).toBe('0%');

    const overTime = page.getByRole('img', { name: 'Referrals submitted per month' });
    await overTime.waitFor();
    expect(await overTime.locator('desc').textContent()).toMatch(/: 3$/);
    const funnel = page.getByRole('img', { name: 'Referrals reaching each lifecycle step' });
    expect(await funnel.locator('desc').textContent()).toBe(
      `Submitted: ${api.funnel[0]!.count}; Accepted: ${api.funnel[1]!.count}; Contacted: 0; Qualified: 0; In sales: 0; Won: 0`,
    );
    await page.getByText('Funnel as a table').click();
    await page
      .getByRole('region', { name: 'Funnel' })
      .getByRole('row', { name: /^Submitted 3/ })
      .waitFor();
    const top = page.getByRole('region', { name: 'Top referrers' });
    expect(await top.getByRole('row').allTextContents()).toEqual([
      'ReferrerTypeReferralsWon',
      'Pia PartnerPartner20',
      'Cleo CustomerCustomer10',
    ]);
    await checkPage(page, 'test-results/console', 'reports', 'docs/screenshots/console-reports.png');

    await page.getByLabel('Referrer type').selectOption('customer');
    await page.getByLabel('Bars per').selectOption('week');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => stat(page, 'referrals').textContent()).toBe('1');
    await page.getByRole('img', { name: 'Referrals submitted per week' }).waitFor();
    expect(await top.getByRole('row').count()).toBe(2);
    await top.getByRole('row', { name: /Cleo Customer/ }).waitFor();
  });

  it('refuses a period that ends before it starts, in the page', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${svc.url}/console/${installationId}`);
    await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Reports', exact: true }).click();
    await expect.poll(() => stat(page, 'referrals').textContent()).toBe('3');
    await page.getByLabel('From', { exact: true }).fill('2026-06-01');
    await page.getByLabel('To', { exact: true }).fill('2026-05-01');
    await page.getByRole('button', { name: 'Show' }).click();
    await page
      .getByRole('alert')
      .getByText(/from \(2026-06-01\) is after to \(2026-05-01\)/)
      .waitFor();
  });

  it('the program filter shows one program’s referrals', async () => {
    const created = await svc.api(`/installations/${installationId}/programs`, {
      method: 'POST',
      json: { name: 'Partner program', from: 'blank' },
    });
    const partners = (await created.json()) as { id: string };
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'paz@partner-two.test', name: 'Paz Partner', type: 'partner' },
        referee: { email: 'ola@umbrella.test', company: 'Umbrella' },
        submittedBy: { kind: 'rep' },
        programId: partners.id,
      },
    });
    expect(res.status).toBe(201);

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${svc.url}/console/${installationId}`);
    await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Reports', exact: true }).click();
    await expect.poll(() => stat(page, 'referrals').textContent()).toBe('4');
    const top = page.getByRole('region', { name: 'Top referrers' });

    await page.getByLabel('Program').selectOption({ label: 'Partner program' });
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => stat(page, 'referrals').textContent()).toBe('1');
    expect(await top.getByRole('row').allTextContents()).toEqual(['ReferrerTypeReferralsWon', 'Paz PartnerPartner10']);

    await page.getByLabel('Program').selectOption({ label: 'Referral program' });
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => stat(page, 'referrals').textContent()).toBe('3');
  });
});

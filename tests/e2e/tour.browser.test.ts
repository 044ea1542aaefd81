/**
 * The first-run tour in Chromium against the whole service on its sandbox CRMs, as a newcomer
 * meets it after `npm start`: `/` connects the sandbox HubSpot through OAuth, a sample partner
 * refers a friend, the visitor plays the sales team to a closed-won deal and sees the referral
 * closed won, its reward, the rendered "became a customer" email and the report change; then an
 * account's NPS flips its eligibility, and another friend's deal is lost. Checked with axe-core at 1280 and 390 px; the screenshots
 * go to docs/screenshots/tour-*.png (the README shows one).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'docs/screenshots';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let svc: TestService;
let browser: Browser;

/** Screenshots at both widths (nothing scrolls sideways) and an axe-core run with no serious or critical violations. */
async function checkPage(page: Page, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
      ),
    ).toBeLessThanOrEqual(width);
    await page.screenshot({ path: `${SHOTS}/tour-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  // Evaluated over the DevTools protocol: the page's CSP (script-src 'self') stays as served.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact }));
  });
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (or npm run test:setup)`,
    );
  }
  svc = await startTestService();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

describe('the first-run tour', () => {
  it('goes from a fresh start to a closed-won reward, a rendered email and a changed report; a lost deal pays nothing', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${svc.url}/`);
    await page.getByRole('heading', { name: 'See the whole referral loop' }).waitFor();
    await expect.poll(() => page.getByText('Nothing is connected yet.').isVisible()).toBe(true);
    await checkPage(page, 'start');

    await page.getByRole('button', { name: 'Start the tour' }).click();
    await page.getByRole('status').getByText('Connected sandbox HubSpot account').waitFor({ timeout: 20_000 });
    expect(await svc.service.runtime.store.installations.list()).toHaveLength(1);
    await expect.poll(() => page.getByTestId('report-won').textContent()).toBe('0');

    await page.getByLabel("Friend's first name").fill('Jordan');
    await page.getByLabel("Friend's company").fill('Acme Widgets');
    await page.getByRole('button', { name: 'Refer Jordan' }).click();
    await page.getByText('Verdict: accepted').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId('referral-status').textContent()).toBe('accepted');
    await expect.poll(() => page.getByTestId('report-referrals').textContent()).toBe('1');

    // The referee reaches the sandbox CRM asynchronously; the deal form appears once it has.
    await page.getByLabel('Deal amount (USD)').fill('25000', { timeout: 20_000 });
    await page.getByRole('button', { name: 'Create the deal' }).click();
    await page.getByText('is at stage Appointment Scheduled').waitFor();
    await page.getByRole('button', { name: 'Move to Qualified To Buy' }).click();
    await page.getByText('is at stage Qualified To Buy').waitFor();
    await page.getByRole('button', { name: 'Close won' }).click();

    await expect.poll(() => page.getByTestId('referral-status').textContent(), { timeout: 20_000 }).toBe('closed won');
    // 10% of the partner's $25,000 first-year deal, waiting for approval (over the $1,000 threshold).
    await expect.poll(() => page.getByTestId('reward-amount').first().textContent(), { timeout: 20_000 }).toBe('$2,500.00');
    await expect.poll(() => page.getByTestId('report-won').textContent()).toBe('1');
    await expect.poll(() => page.getByTestId('report-pending').textContent()).toBe('$2,500.00');

    // The newest email is open; the won one is followed by the reward's, so open it as a visitor would.
    const wonEmail = page.locator('details', { hasText: 'Jordan (Acme Widgets) became a customer' });
    await wonEmail.waitFor({ timeout: 20_000 });
    await wonEmail.evaluate((details) => {
      (details as unknown as { open: boolean }).open = true;
    });
    const won = page.frameLocator('iframe[title="Email: Jordan (Acme Widgets) became a customer"]');
    await won.getByText('Jordan (Acme Widgets) signed with Referral program.').waitFor({ timeout: 20_000 });
    await expect.poll(() => won.getByText('Hi Pia Partner,').isVisible()).toBe(true);

    await page.getByLabel(/NPS of Loyal Customer Co/).fill('10');
    await page.getByRole('button', { name: 'Set the NPS' }).click();
    await page.getByText('Eligible to refer').waitFor({ timeout: 15_000 });
    await page.getByLabel(/NPS of Loyal Customer Co/).fill('4');
    await page.getByRole('button', { name: 'Set the NPS' }).click();
    await page.getByText('NPS 4 is below 9').first().waitFor({ timeout: 15_000 });

    await checkPage(page, 'won');

    // Another friend, whose deal is lost: the referral closes lost, no reward, a kind email.
    await page.getByLabel("Friend's first name").fill('Riley');
    await page.getByLabel("Friend's company").fill('Globex');
    await page.getByRole('button', { name: 'Refer Riley' }).click();
    await expect.poll(() => page.getByTestId('referral-status').textContent(), { timeout: 15_000 }).toBe('accepted');
    await page.getByLabel('Deal amount (USD)').fill('8000', { timeout: 20_000 });
    await page.getByRole('button', { name: 'Create the deal' }).click();
    await page.getByText('is at stage Appointment Scheduled').waitFor();
    await page.getByRole('button', { name: 'Close lost' }).click();
    await expect.poll(() => page.getByTestId('referral-status').textContent(), { timeout: 20_000 }).toBe('closed lost');
    await page.locator('details', { hasText: 'Update on your referral of Riley (Globex)' }).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('reward-amount').count()).toBe(0);
    await expect.poll(() => page.getByTestId('report-referrals').textContent()).toBe('2');
    await expect.poll(() => page.getByTestId('report-won').textContent()).toBe('1');
    await page.close();
  });
});

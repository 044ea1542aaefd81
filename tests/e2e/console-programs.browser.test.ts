/**
 * Programs side by side in the console (Chromium, the whole service): an admin creates a partner
 * program beside the default one, edits and saves it, and switches between them; each keeps its
 * own settings. A new program without a name is refused and nothing is made. Each state: axe-core,
 * no sideways scroll at 390 px, screenshots.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Program } from '../../src/domain/program.ts';
import { checkPage as checkPageIn, launchChromium } from '../support/browser.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

const SHOTS = 'test-results/console';
const checkPage = (page: Page, name: string) => checkPageIn(page, SHOTS, name);

let svc: TestService;
let browser: Browser;
let installationId: string;

const programCount = () => (svc.sqlite.prepare('SELECT count(*) AS n FROM programs').get() as { n: number }).n;
const stored = async (query: string) =>
  (await (await svc.api(`/program${query}`)).json()) as { id: string; version: number; program: Program };

beforeAll(async () => {
  svc = await startTestService();
  installationId = await installSandbox(svc);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

async function programPage(): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${svc.url}/console/${installationId}`);
  await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
  await page.getByRole('heading', { name: 'Home' }).waitFor();
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Program', exact: true }).click();
  await page.getByRole('heading', { name: 'Programs', exact: true }).waitFor();
  return page;
}

describe('the console, programs side by side', () => {
  it('an admin creates a partner program, edits and saves it, and switches back to the untouched default', async () => {
    const page = await programPage();
    const shown = page.getByLabel('Program shown');
    expect(await shown.locator('option:checked').textContent()).toBe('Referral program (default)');

    await page.getByRole('button', { name: 'Create program' }).click();
    await page.getByRole('alert').getByText('Give the new program a name.').waitFor();
    expect(programCount()).toBe(1);

    await page.getByLabel('New program’s name').fill('Partner program');
    await page.getByLabel('Start from').selectOption('blank');
    await page.getByRole('button', { name: 'Create program' }).click();
    await page.waitForURL(/\?program=prg_/);
    const partnersId = new URL(page.url()).searchParams.get('program')!;
    await expect.poll(async () => await shown.locator('option:checked').textContent()).toBe('Partner program');
    expect(await page.getByLabel('Program name').inputValue()).toBe('Partner program');
    await page
      .getByRole('region', { name: 'Preview' })
      .getByText(/This draft pays/)
      .waitFor();
    await checkPage(page, 'programs-partner');

    await page.getByLabel('Emails come from (name)').fill('Acme partner team');
    await page.getByRole('button', { name: 'Save as version 2' }).click();
    await page.getByRole('button', { name: 'Save as version 3' }).waitFor();
    const partners = await stored(`?programId=${partnersId}`);
    expect([partners.version, partners.program.name, partners.program.senderName]).toEqual([2, 'Partner program', 'Acme partner team']);

    await shown.selectOption({ label: 'Referral program (default)' });
    await expect.poll(async () => await page.getByLabel('Program name').inputValue()).toBe('Referral program');
    expect(await page.getByLabel('Emails come from (name)').inputValue()).toBe('Referral program');
    const defaults = await stored('');
    expect([defaults.version, defaults.program.senderName]).toEqual([1, 'Referral program']);
    await checkPage(page, 'programs-default');
  });
});

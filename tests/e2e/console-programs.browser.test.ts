/**
 * Programs side by side in the console (Chromium, the whole service): an admin creates a partner
 * program beside the default one, edits and saves it, and switches between them; each keeps its
 * own settings. A new program without a name is refused and nothing is made. Referrers are added to
 * a program and removed from it, never from their last one. Each state: axe-core, no sideways
 * scroll at 390 px, screenshots.
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

  it('an admin adds a referrer to a program and removes one; a referrer’s only program is kept, the page says why', async () => {
    const created = await svc.api(`/installations/${installationId}/programs`, {
      method: 'POST',
      json: { name: 'Reseller program', from: 'blank' },
    });
    const resellersId = ((await created.json()) as { id: string }).id;
    const defaultId = (await stored('')).id;
    const referrer = async (name: string, email: string, programIds: string[]) => {
      const res = await svc.api('/referrers', { method: 'POST', json: { name, email, type: 'partner', programIds } });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    await referrer('Rosa Reseller', 'rosa@resellers.example', [resellersId]);
    const adaId = await referrer('Ada Advisor', 'ada@advisors.example', [defaultId]);
    const programsOf = async (id: string) => ((await (await svc.api(`/referrers/${id}`)).json()) as { programIds: string[] }).programIds;

    const page = await programPage();
    await page.getByLabel('Program shown').selectOption({ label: 'Reseller program' });
    const members = page.getByRole('region', { name: 'Referrers in this program' });
    const rows = async () => await members.locator('tbody tr td:first-child').allInnerTexts();
    await expect.poll(rows).toEqual(['Rosa Reseller\nrosa@resellers.example']);

    await members.getByLabel('Add a referrer of this installation').selectOption({ label: 'Ada Advisor <ada@advisors.example>' });
    await members.getByRole('button', { name: 'Add to program' }).click();
    await members.getByRole('status').getByText('Ada Advisor was added to this program.').waitFor();
    await expect.poll(rows).toEqual(['Rosa Reseller\nrosa@resellers.example', 'Ada Advisor\nada@advisors.example']);
    expect(await programsOf(adaId)).toEqual([defaultId, resellersId]);
    await checkPage(page, 'programs-referrers');

    await members.getByRole('button', { name: 'Remove Rosa Reseller' }).click();
    await members
      .getByRole('status')
      .getByText('It is the referrer’s only program: add them to another before removing them from this one.')
      .waitFor();
    await members.getByRole('button', { name: 'Remove Ada Advisor' }).click();
    await members.getByRole('status').getByText('Ada Advisor was removed from this program.').waitFor();
    await expect.poll(rows).toEqual(['Rosa Reseller\nrosa@resellers.example']);
    expect(await programsOf(adaId)).toEqual([defaultId]);
  });
});

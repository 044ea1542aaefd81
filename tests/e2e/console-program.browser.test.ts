/**
 * The console's program editor in Chromium against the whole service: an admin edits a percentage
 * rule and adds a commission table by deal size, adds a tier promotion, changes the claims policy,
 * saves, and a reload shows every change as the API stored it (basis points and minor units, typed
 * as percents and dollars). A bad value is refused beside its field, in the page's words or the
 * API's own, and nothing is saved. Every state: axe-core, no sideways scroll at 390 px, screenshots.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Program } from '../../src/domain/program.ts';
import { checkPage as checkPageIn, launchChromium } from '../support/browser.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

const SHOTS = 'test-results/console';
const checkPage = (page: Page, name: string) => checkPageIn(page, SHOTS, name);

let svc: TestService;
let browser: Browser;
let installationId: string;

const versions = () => (svc.sqlite.prepare('SELECT count(*) AS n FROM program_versions').get() as { n: number }).n;
const stored = async () => (await (await svc.api('/program')).json()) as { version: number; program: Program };

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
  await page.getByRole('heading', { name: 'Program', exact: true }).waitFor();
  await page
    .getByRole('region', { name: 'Preview' })
    .getByText(/This draft pays/)
    .waitFor();
  return page;
}

/** The reason shown beside a field: the element its aria-describedby names, and the field marked invalid. */
async function errorBeside(field: Locator): Promise<string> {
  await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
  const ids = (await field.getAttribute('aria-describedby'))!.split(' ');
  const id = ids.find((i) => i.endsWith('-error'))!;
  return (await field.page().locator(`[id="${id}"]`).textContent()) ?? '';
}

describe('the console, Program editor', () => {
  it('an admin edits a percent rule, adds a bracket table and a tier promotion, changes the claims policy, saves; a reload shows it all', async () => {
    const page = await programPage();
    const preview = page.getByRole('region', { name: 'Preview' });
    await preview
      .getByText('This draft pays $550.00 on a $50,000.00 deal referred by a customer; version 1 pays $550.00 (no change).')
      .waitFor();

    // The partners' commission, typed as a percent.
    const commission = page.getByRole('group', { name: '10% of first-year value when a deal closes won' });
    await commission.getByLabel("Percent of the deal's first-year value").fill('12.5');
    await commission.getByLabel('At most (USD, optional)').fill('20000');

    // A commission table for customers: $250 below $10,000, else 2% with a $1,000 floor.
    await page.getByLabel('New rule', { exact: true }).selectOption('bracket');
    await page.getByRole('button', { name: 'Add the rule' }).click();
    const added = page.getByRole('group', { name: 'A table by deal size for customer referrers' });
    await added.getByLabel('Description (shown to referrers)').fill('Customer table: $250, or 2% from $10,000');
    const table = page.getByRole('group', { name: 'Customer table: $250, or 2% from $10,000' });
    await table.getByLabel('Row 1: fee (USD)').fill('250');
    await table.getByLabel('Row 2: deals from (USD)').fill('10000');
    await table.getByLabel('Row 2: percent').fill('2');
    await table.getByLabel('Row 2: at least (USD, optional)').fill('1000');
    await table.getByRole('button', { name: 'Add a row' }).click();
    await table.getByLabel('Row 3: deals from (USD)').fill('500000');
    await table.getByLabel('Row 3: fee (USD)').fill('15000');
    // $550 in fees and the table's 2% of $50,000 ($1,000, at its floor).
    await preview
      .getByText(/This draft pays \$1,550\.00 on a \$50,000\.00 deal referred by a customer; version 1 pays \$550\.00/)
      .waitFor();

    // Tiers and a promotion to gold.
    await page.getByLabel('Tiers, lowest first').fill('silver, gold');
    await page.getByRole('button', { name: 'Add a promotion' }).click();
    const promotion = page.getByRole('group', { name: 'Promotion to silver' });
    await promotion.getByLabel('Promotes to the tier').selectOption('gold');
    const gold = page.getByRole('group', { name: 'Promotion to gold' });
    await gold.getByLabel('After this many referrals closed won').fill('5');
    await gold.getByLabel('Within this many days').fill('180');
    await gold.getByRole('checkbox', { name: 'Partners' }).check();

    // Claims: only until qualified, within 30 days, no approval.
    const claims = page.getByRole('group', { name: 'Claims on open deals' });
    await claims.getByLabel('A deal can be claimed').selectOption('qualified');
    await claims.getByLabel("Within this many days of the deal's creation").fill('30');
    await claims.getByLabel('Each claim waits for an approver').uncheck();
    await checkPage(page, 'program-editor');

    await page.getByRole('button', { name: 'Save as version 2' }).click();
    await page.getByRole('button', { name: 'Save as version 3' }).waitFor();
    const { version, program } = await stored();
    expect(version).toBe(2);
    expect(program.rewardRules.find((r) => r.id === 'partner-commission')).toMatchObject({ rateBasisPoints: 1_250, maxCents: 2_000_000 });
    expect(program.rewardRules.at(-1)).toEqual({
      id: 'bracket-1',
      kind: 'bracket',
      description: 'Customer table: $250, or 2% from $10,000',
      referrerTypes: ['customer'],
      milestone: 'closed_won',
      brackets: [
        { fromCents: 0, fee: { kind: 'flat', amountCents: 25_000 } },
        { fromCents: 1_000_000, fee: { kind: 'percent', rateBasisPoints: 200, minCents: 100_000 } },
        { fromCents: 50_000_000, fee: { kind: 'flat', amountCents: 1_500_000 } },
      ],
    });
    expect(program.tiers).toEqual(['silver', 'gold']);
    expect(program.promotionRules).toEqual([
      { id: 'promotion-1', referrerTypes: ['partner'], closedWonReferrals: 5, withinDays: 180, toTier: 'gold' },
    ]);
    expect(program.claims).toEqual({ allowed: true, until: 'qualified', windowDays: 30, requireApproval: false, allowExpansion: false });
    const versionsTable = page.getByRole('region', { name: 'Versions' });
    await versionsTable.getByRole('cell', { name: '2 (current)' }).waitFor();
    // Whoever saved it is named by their email, not by the audit log's `user:<id>`.
    await page.getByText(/^Version 2, saved .* by [^\s:]+@[^\s]+\. Amounts are in USD\.$/).waitFor();
    expect(await page.getByText(/user:usr_/).count()).toBe(0);

    await page.reload();
    await page.getByRole('heading', { name: 'Program', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Save as version 3' }).waitFor();
    const reloaded = page.getByRole('group', { name: '10% of first-year value when a deal closes won' });
    expect(await reloaded.getByLabel("Percent of the deal's first-year value").inputValue()).toBe('12.5');
    expect(await reloaded.getByLabel('At most (USD, optional)').inputValue()).toBe('20000.00');
    const reloadedTable = page.getByRole('group', { name: 'Customer table: $250, or 2% from $10,000' });
    expect(await reloadedTable.getByLabel('Row 2: deals from (USD)').inputValue()).toBe('10000.00');
    expect(await reloadedTable.getByLabel('Row 2: percent').inputValue()).toBe('2');
    expect(await reloadedTable.getByLabel('Row 3: fee (USD)').inputValue()).toBe('15000.00');
    expect(await page.getByLabel('Tiers, lowest first').inputValue()).toBe('silver, gold');
    const reloadedGold = page.getByRole('group', { name: 'Promotion to gold' });
    expect(await reloadedGold.getByLabel('After this many referrals closed won').inputValue()).toBe('5');
    const reloadedClaims = page.getByRole('group', { name: 'Claims on open deals' });
    expect(await reloadedClaims.getByLabel('A deal can be claimed').inputValue()).toBe('qualified');
    expect(await reloadedClaims.getByLabel('Each claim waits for an approver').isChecked()).toBe(false);
    await checkPage(page, 'program-editor-saved');
  });

  it('a bad value is refused beside its field, in the page’s words or the API’s, and nothing is saved', async () => {
    const before = await stored();
    const count = versions();
    const page = await programPage();

    // More decimals than a percent has: refused as typed.
    const percent = page
      .getByRole('group', { name: '10% of first-year value when a deal closes won' })
      .getByLabel("Percent of the deal's first-year value");
    await percent.fill('12.345');
    expect(await errorBeside(percent)).toBe('has more than 2 decimals');
    // The API's schema, run in the page: a promotion to a tier the program no longer has.
    await page.getByLabel('Tiers, lowest first').fill('silver');
    const toTier = page.getByRole('group', { name: 'Promotion to gold' }).getByLabel('Promotes to the tier');
    expect(await errorBeside(toTier)).toBe("gold is not one of the program's tiers (silver)");
    // A floor above the cap, in the API's words.
    const cap = page.getByRole('group', { name: '10% of first-year value when a deal closes won' }).getByLabel('At least (USD, optional)');
    await cap.fill('30000');
    expect(
      await errorBeside(
        page.getByRole('group', { name: '10% of first-year value when a deal closes won' }).getByLabel('At most (USD, optional)'),
      ),
    ).toBe('the “at least” amount must not be above the “at most” amount');
    await page
      .getByRole('region', { name: 'Preview' })
      .getByText('The preview waits for the settings marked below their field to be fixed.')
      .waitFor();
    await page.getByRole('region', { name: 'To fix before saving' }).getByText('has more than 2 decimals').waitFor();
    await checkPage(page, 'program-editor-errors');

    await page.getByRole('button', { name: 'Save as version 3' }).click();
    await page.getByRole('status').getByText('Not saved: 3 settings need a fix (marked beside each).').waitFor();
    expect(versions()).toBe(count);
    expect(await stored()).toEqual(before);

    // Fixed, the errors go and the preview comes back.
    await percent.fill('12.25');
    await page.getByLabel('Tiers, lowest first').fill('silver, gold');
    await cap.fill('');
    expect(await percent.getAttribute('aria-invalid')).toBeNull();
    await page
      .getByRole('region', { name: 'Preview' })
      .getByText(/This draft pays/)
      .waitFor();
    expect(await page.getByRole('region', { name: 'To fix before saving' }).count()).toBe(0);
  });

  it('the eligibility fields: a field the CRM does not have is refused beside it in the API’s words, nothing changed', async () => {
    const read = async () => (await (await svc.api(`/installations/${installationId}/eligibility-fields`)).json()) as { fields: unknown };
    const before = await read();
    const page = await programPage();
    const form = page.getByRole('form', { name: 'Eligibility fields in the CRM' });
    const nps = form.getByLabel('Net Promoter Score field');
    await nps.fill('no_such_field');
    await form.getByRole('button', { name: 'Save the eligibility fields' }).click();
    await form
      .getByRole('status')
      .getByText(/Not saved: .*no_such_field/)
      .waitFor();
    expect(await errorBeside(nps)).toMatch(/no_such_field/);
    expect(await read()).toEqual(before);
  });
  it('a save made on a version someone else has since replaced is refused in the API’s words, nothing written', async () => {
    const first = await programPage();
    const second = await programPage();
    const { version } = await stored();
    await first.getByLabel('Rewards are due this many days after the deal closes').fill('60');
    await first.getByRole('button', { name: `Save as version ${version + 1}` }).click();
    await first.getByRole('button', { name: `Save as version ${version + 2}` }).waitFor();
    const count = versions();

    await second.getByLabel('Rewards are due this many days after the deal closes').fill('30');
    await second.getByRole('button', { name: `Save as version ${version + 1}` }).click();
    await second
      .getByRole('status')
      .getByText(`Not saved: This change was made on version ${version}, but the program is at version ${version + 1} now`, {
        exact: false,
      })
      .waitFor();
    expect(versions()).toBe(count);
    expect((await stored()).program.payoutDays).toBe(60);
  });

  it('an admin chooses what rules grant: a gift card, a donation, and recognition (no amount); saved as grants and shown again on reload', async () => {
    const page = await programPage();
    const { version } = await stored();
    const wonFee = page.getByRole('group', { name: '$500 when a deal closes won' });
    await wonFee.getByLabel('Given as').selectOption('gift_card');
    const commission = page.getByRole('group', { name: '10% of first-year value when a deal closes won' });
    await commission.getByLabel('Given as').selectOption('donation');
    await commission.getByLabel('Donated to (charity)').fill('Red Cross');
    // Recognition is for fixed rules only: a percentage offers no such choice.
    expect(await commission.getByLabel('Given as').locator('option[value="recognition"]').count()).toBe(0);

    await page.getByLabel('New rule', { exact: true }).selectOption('fixed');
    await page.getByRole('button', { name: 'Add the rule' }).click();
    const added = page.getByRole('group', { name: 'A fixed fee at a milestone for customer referrers' });
    await added.getByLabel('Given as').selectOption('recognition');
    // Recognition has no amount to type.
    expect(await added.getByLabel('Amount (USD)').count()).toBe(0);
    await added.getByLabel('Badge').fill('Champion');
    await added.getByLabel('Message to the referrer').fill('Thank you for the introduction!');
    await checkPage(page, 'program-editor-grants');

    await page.getByRole('button', { name: `Save as version ${version + 1}` }).click();
    await page.getByRole('button', { name: `Save as version ${version + 2}` }).waitFor();
    const { program } = await stored();
    expect(program.rewardRules.find((r) => r.id === 'won-fee')?.grant).toEqual({ kind: 'gift_card' });
    expect(program.rewardRules.find((r) => r.id === 'partner-commission')?.grant).toEqual({ kind: 'donation', charity: 'Red Cross' });
    expect(program.rewardRules.at(-1)).toMatchObject({
      kind: 'fixed',
      amountCents: 0,
      grant: { kind: 'recognition', badge: 'Champion', message: 'Thank you for the introduction!' },
    });

    await page.reload();
    await page.getByRole('button', { name: `Save as version ${version + 2}` }).waitFor();
    expect(await page.getByRole('group', { name: '$500 when a deal closes won' }).getByLabel('Given as').inputValue()).toBe('gift_card');
    const reloadedCommission = page.getByRole('group', { name: '10% of first-year value when a deal closes won' });
    expect(await reloadedCommission.getByLabel('Donated to (charity)').inputValue()).toBe('Red Cross');
    const recognition = page.getByRole('group', { name: 'A fixed fee at a milestone for customer referrers' });
    expect(await recognition.getByLabel('Badge').inputValue()).toBe('Champion');
  });
});

/**
 * The console's Home, Referrals, Approvals (in bulk) and Payouts pages in Chromium against the
 * whole service: an admin reads the installation's health and what needs attention, retries a dead
 * CRM event, finds a referral and reads its reasons; finance approves rewards in bulk, creates a
 * payout run, downloads its CSV (which parses, and whose totals are the API's) and marks it paid; a
 * viewer sees every page without a write button. Every page: axe-core finds no serious or critical
 * violation, nothing scrolls sideways at 390 px, screenshots at 1280 and 390 px.
 */
import type { RuleGrant } from '../../src/domain/grants.ts';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage as checkPageIn, launchChromium } from '../support/browser.ts';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

const SHOTS = 'test-results/console';
const checkPage = (page: Page, name: string, keep = true) =>
  checkPageIn(page, SHOTS, name, keep ? `docs/screenshots/console-${name}.png` : undefined);

let svc: TestService;
let smtp: SmtpTestServer;
let browser: Browser;
let installationId: string;
const referralIds: Record<'acme' | 'globex' | 'initech', string> = { acme: '', globex: '', initech: '' };
const rewardIds: string[] = [];

const sql = <T>(query: string, ...params: unknown[]) => svc.sqlite.prepare(query).all(...params) as T[];
const status = (id: string) => sql<{ status: string }>('SELECT status FROM rewards WHERE id = ?', id)[0]!.status;

async function refer(referrer: { email: string; name: string; type: string }, referee: Record<string, string>): Promise<string> {
  const res = await svc.api('/referrals', { method: 'POST', json: { referrer, referee, submittedBy: { kind: 'rep' } } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** A reward over the approval threshold, waiting for approval, as the ledger accrues it. */
async function pendingReward(referralId: string, amountCents: number, grant?: RuleGrant): Promise<string> {
  const referral = (await svc.service.runtime.store.referrals.get(referralId))!;
  return (await svc.service.runtime.store.rewards.accrue(
    {
      installationId,
      referralId,
      referrerId: referral.referrerId,
      kind: 'milestone',
      beneficiary: 'referrer',
      milestone: 'closed_won',
      amountCents,
      currency: 'USD',
      status: 'pending',
      dueDate: '2027-01-31',
      requiresApproval: true,
      programId: referral.programId,
      programVersion: referral.programVersion,
      reasons: ['closed won: 10% of the deal, over the $1,000.00 approval threshold'],
      grant: grant ?? null,
      idempotencyKey: `test-reward:${referralId}`,
      updatedAt: new Date().toISOString(),
    },
    'test',
  ))!.id;
}

function deadEvent(objectId: string): void {
  sql(
    `INSERT INTO inbox (crm, account_id, installation_id, event_key, object_type, object_id, change, occurred_at, status, attempts, last_error, received_at)
     VALUES ('hubspot', 'sandbox', ?, ?, 'deal', ?, 'updated', '2026-01-01T00:00:00Z', 'dead', 5, 'the CRM answered 500', '2026-01-01T00:00:01Z') RETURNING id`,
    installationId,
    `dead-${objectId}`,
    objectId,
  );
}

/** A contact in an open deal of the sandbox HubSpot, made as a rep would, with the installation's token. */
async function openDealFor(email: string, dealname: string): Promise<void> {
  const { store } = svc.service.runtime;
  const { accessToken } = await store.installations.tokens((await store.installations.get(installationId))!);
  const hubspot = async (path: string, body: unknown) => {
    const res = await fetch(`${svc.url}/sandbox/hubspot${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string };
  };
  const contact = await hubspot('/crm/v3/objects/contacts', { properties: { email, firstname: dealname.split(' ')[0] } });
  await hubspot('/crm/v3/objects/deals', {
    properties: { dealname, pipeline: 'default', dealstage: 'presentationscheduled', amount: '40000' },
    associations: [{ to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] }],
  });
}

/** An invited user of the console, signed in in a fresh browser context with their email's link. */
async function signInInvited(email: string, role: 'finance' | 'viewer'): Promise<Page> {
  const invited = await svc.api(`/installations/${installationId}/users`, { method: 'POST', json: { email, role, name: email } });
  expect(invited.status).toBe(201);
  const [mail] = await smtp.waitForMessages(1, { to: email });
  const link = new RegExp(`${svc.url}/console/${installationId}#[A-Za-z0-9_-]+`).exec(mail!.text)?.[0];
  expect(link, mail!.text).toBeDefined();
  const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await page.goto(link!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Home' }).waitFor();
  return page;
}

const open = async (page: Page, link: string, heading: string) => {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { name: heading, exact: true }).waitFor();
};

/** Every write the pages offer: a viewer sees none of them, only sign-out, search and paging. */
async function expectNoWriteButtons(page: Page) {
  for (const name of [/Approve/, /Reject/, /Retry/, /Create payout run/, /Export/, /Mark paid/, /Save/]) {
    expect(await page.getByRole('button', { name }).count(), `${String(name)} on ${page.url()}`).toBe(0);
  }
}

/** The number a Home tile shows under its label. */
const tile = (page: Page, label: string) => page.locator('.totals div', { has: page.getByText(label, { exact: true }) }).locator('dd');

beforeAll(async () => {
  smtp = await startSmtpServer();
  svc = await startTestService({ SMTP_URL: smtp.url });
  installationId = await installSandbox(svc);
  const pia = { email: 'pia@partner-firm.test', name: 'Pia Partner', type: 'partner' };
  const cleo = { email: 'cleo@customer.test', name: 'Cleo Customer', type: 'customer' };
  referralIds.acme = await refer(pia, { email: 'jordan@acme-widgets.test', firstName: 'Jordan', company: 'Acme Widgets' });
  referralIds.globex = await refer(pia, { email: 'sam@globex.test', firstName: 'Sam', company: 'Globex' });
  referralIds.initech = await refer(cleo, { email: 'lee@initech.test', firstName: 'Lee', company: 'Initech' });
  // Pia's second reward is a gift card: her payout is a cash line and a gift card line.
  rewardIds.push(await pendingReward(referralIds.acme, 250_000), await pendingReward(referralIds.globex, 180_000, { kind: 'gift_card' }));
  deadEvent('deal-dead-1');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await smtp?.stop();
});

describe('the console pages', () => {
  it('an admin reads the health and what needs attention, retries a dead event, and finds a referral with its reasons', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${svc.url}/console/${installationId}`);
    await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();

    await expect.poll(() => tile(page, 'Rewards to approve').textContent()).toBe('2');
    expect(await tile(page, 'Overdue payouts').textContent()).toBe('0');
    await page.getByRole('link', { name: '2 rewards awaiting approval' }).waitFor();
    await page.getByText('$4,300.00').first().waitFor();
    await page.getByText(/Connected to HubSpot account/).waitFor();
    await page.getByText('1 CRM event that failed every attempt').waitFor();
    await checkPage(page, 'home');

    await page.getByRole('button', { name: 'Retry deal deal-dead-1' }).click();
    await page
      .getByRole('status')
      .getByText(/goes back to the queue/)
      .waitFor();
    await expect.poll(() => page.getByRole('button', { name: /^Retry/ }).count()).toBe(0);
    expect(sql<{ status: string }>("SELECT status FROM inbox WHERE object_id = 'deal-dead-1'")[0]!.status).not.toBe('dead');

    await open(page, 'Referrals', 'Referrals');
    await expect.poll(() => page.getByRole('row').count()).toBe(4);
    await checkPage(page, 'referrals');
    await page.getByLabel('Name, email or company').fill('acme');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    expect(page.url()).toContain('q=acme');

    await page.getByLabel('Name, email or company').fill('');
    await page.getByLabel('Referrer type').selectOption('customer');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Lee' }).waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(2);

    await page.getByLabel('Referrer type').selectOption('');
    await page.getByLabel('Name, email or company').fill('jordan@acme');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Jordan' }).click();
    await page.getByRole('heading', { name: 'Referral', exact: true }).waitFor();
    const referral = (await (await svc.api(`/referrals/${referralIds.acme}`)).json()) as { reasons: string[] };
    expect(referral.reasons.length).toBeGreaterThan(0);
    await page.getByText(referral.reasons[0]!).first().waitFor();
    await page.getByRole('region', { name: 'Timeline' }).getByText('Submitted').first().waitFor();
    await page.getByRole('region', { name: 'Rewards' }).getByText('$2,500.00').waitFor();
    await page.getByText(/Version 1: locked when the referral was submitted/).waitFor();
    await checkPage(page, 'referral');
  });

  it('finance approves rewards in bulk, creates a payout run, downloads its CSV (its totals the API’s) and marks it paid', async () => {
    const page = await signInInvited('fin@customer.test', 'finance');
    await open(page, 'Approvals', 'Approvals');
    const bulk = page.getByRole('region', { name: 'Several at once' });
    await bulk.getByRole('button', { name: 'Reject selected (0)' }).waitFor();
    await bulk.getByLabel('Select all 2').check();
    await bulk.getByRole('button', { name: 'Reject selected (2)' }).click();
    await page.getByRole('status').getByText('Give one reason for rejecting the selected rewards').waitFor();
    expect(rewardIds.map(status)).toEqual(['pending', 'pending']);
    await checkPage(page, 'approvals-bulk', false);
    await bulk.getByRole('button', { name: 'Approve selected (2)' }).click();
    await page.getByRole('status').getByText('2 rewards approved.').waitFor();
    expect(rewardIds.map(status)).toEqual(['approved', 'approved']);

    await open(page, 'Payouts', 'Payouts');
    await page.getByText('There is no payout run yet.').waitFor();
    await page.getByLabel('Rewards due on or before').fill('2027-01-31');
    // A run pays one program: the installation's only one here.
    expect(await page.getByLabel('Program').locator('option:checked').textContent()).toBe('Referral program');
    await page.getByRole('button', { name: 'Create payout run' }).click();
    await page.getByRole('heading', { name: 'Payout run' }).waitFor();
    await page.getByText('Draft: not exported yet').waitFor();
    expect(await page.locator('dt:text-is("Program") + dd').textContent()).toBe('Referral program');
    const runId = /\/payouts\/([^/?#]+)/.exec(page.url())![1]!;
    const lines = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Given as' }) });
    expect(await lines.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['Cash', 'Gift card']);
    await checkPage(page, 'payout-run');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toBe(`payout-${runId}.csv`);
    const rows = parse(readFileSync((await download.path())!, 'utf8'), { columns: true }) as {
      amount: string;
      currency: string;
      grant: string;
    }[];
    expect(rows.map((r) => [r.amount, r.grant])).toEqual([
      ['2500.00', 'cash'],
      ['1800.00', 'gift_card'],
    ]);
    const api = (await (await svc.api(`/payouts/${runId}`)).json()) as { status: string; totals: { currency: string; amount: number }[] };
    expect(api.status).toBe('exported');
    const csvTotals: Record<string, number> = {};
    for (const row of rows) csvTotals[row.currency] = (csvTotals[row.currency] ?? 0) + Math.round(Number(row.amount) * 100);
    expect(csvTotals).toEqual(Object.fromEntries(api.totals.map((t) => [t.currency, Math.round(t.amount * 100)])));
    expect(csvTotals).toEqual({ USD: 430_000 });
    await page.getByText('Exported: waiting to be paid').waitFor();

    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    expect((JSON.parse(readFileSync((await json.path())!, 'utf8')) as { id: string }).id).toBe(runId);

    await page.getByLabel('Payment reference').fill('WIRE-2027-001');
    await page.getByRole('button', { name: 'Mark paid' }).click();
    await page.getByRole('status').getByText('The run is marked paid with reference WIRE-2027-001.').waitFor();
    await page
      .getByText(/reference WIRE-2027-001/)
      .first()
      .waitFor();
    expect(rewardIds.map(status)).toEqual(['paid', 'paid']);
    expect(await page.getByRole('button', { name: 'Export CSV' }).count()).toBe(0);

    await open(page, 'Payouts', 'Payouts');
    await page.getByRole('link', { name: runId }).waitFor();
    await checkPage(page, 'payouts');
  });

  it('an admin edits reward rules and sees the preview change, is refused a negative rate beside the field, and saves a version', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${svc.url}/console/${installationId}`);
    await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await open(page, 'Program', 'Program');
    const preview = page.getByRole('region', { name: 'Preview' });
    // A customer's $50,000 deal: $50 when qualified and $500 when won.
    await preview
      .getByText('This draft pays $550.00 on a $50,000.00 deal referred by a customer; version 1 pays $550.00 (no change).')
      .waitFor();

    await page.getByRole('group', { name: '$500 when a deal closes won' }).getByLabel('Amount (USD)').fill('750');
    await preview
      .getByText('This draft pays $800.00 on a $50,000.00 deal referred by a customer; version 1 pays $550.00 (up $250.00).')
      .waitFor();

    await preview.getByLabel('Referred by a').selectOption('partner');
    await preview.getByLabel('A sample deal of (USD)').fill('25000');
    const commission = page.getByRole('group', { name: '10% of first-year value when a deal closes won' });
    await commission.getByLabel("Percent of the deal's first-year value").fill('15');
    await preview
      .getByText('This draft pays $3,750.00 on a $25,000.00 deal referred by a partner; version 1 pays $2,500.00 (up $1,250.00).')
      .waitFor();
    await checkPage(page, 'program');

    await commission.getByLabel("Percent of the deal's first-year value").fill('-5');
    await commission.getByText('must not be negative').waitFor();
    await preview.getByText('The preview waits for the settings marked below their field to be fixed.').waitFor();
    await page.getByRole('button', { name: 'Save as version 2' }).click();
    await page.getByRole('status').getByText('Not saved: one setting needs a fix (marked beside each).').waitFor();
    expect(sql<{ n: number }>('SELECT count(*) AS n FROM program_versions')[0]!.n).toBe(1);

    await page.getByLabel('Rewards over this amount need an approval (USD)').fill('2500.50');
    await commission.getByLabel("Percent of the deal's first-year value").fill('12.5');
    await preview.getByText(/This draft pays \$3,125\.00 on a \$25,000\.00 deal/).waitFor();
    await page.getByRole('button', { name: 'Save as version 2' }).click();
    await page.getByRole('button', { name: 'Save as version 3' }).waitFor();
    await page.getByRole('cell', { name: '2 (current)' }).waitFor();
    const versions = page.getByRole('region', { name: 'Versions' });
    await versions.getByText('Approval needed over $1,000.00 → $2,500.50').waitFor();
    await versions.getByText('“$500 when a deal closes won”: $500.00 → $750.00').waitFor();
    await versions.getByText('“10% of first-year value when a deal closes won”: 10% → 12.5%').waitFor();
    await checkPage(page, 'program');
    const saved = (await (await svc.api('/program')).json()) as {
      version: number;
      program: { approvalThresholdCents: number; rewardRules: { id: string; rateBasisPoints?: number; amountCents?: number }[] };
    };
    expect(saved.version).toBe(2);
    expect(saved.program.approvalThresholdCents).toBe(250_050);
    expect(saved.program.rewardRules.find((r) => r.id === 'partner-commission')?.rateBasisPoints).toBe(1_250);
    expect(saved.program.rewardRules.find((r) => r.id === 'won-fee')?.amountCents).toBe(75_000);
    const audit = sql<{ actor: string }>("SELECT actor FROM audit_log WHERE action = 'program.replaced'");
    expect(audit.map((a) => a.actor)).toEqual([expect.stringMatching(/^user:usr_\S+ sales@sandbox\.example$/)]);
  });

  it('an admin maps stages by their CRM labels; a mapped stage the CRM no longer has is refused in the API’s words until unmapped', async () => {
    const { store } = svc.service.runtime;
    const stageMapping = async () => (await store.installations.settings((await store.installations.get(installationId))!)).stageMapping!;
    const before = await stageMapping();
    await store.installations.updateSettings(
      installationId,
      { stageMapping: { ...before, default: { ...before.default, gone: 'qualified' } } },
      new Date(),
    );

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${svc.url}/console/${installationId}`);
    await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await open(page, 'Program', 'Program');
    const form = page.getByRole('form', { name: 'Stage mapping' });
    await form.getByText('Not in the CRM any more:').waitFor();
    // Won and lost are the CRM's: those stages offer no choice.
    await form.getByText('Closed won (from the CRM)').first().waitFor();
    expect(await form.getByLabel('Sales Pipeline: Closed Won').count()).toBe(0);
    await form.getByLabel('Partner Pipeline: Proposal').waitFor();

    await form.getByLabel('Sales Pipeline: Contract Sent').selectOption('qualified');
    await form.getByRole('button', { name: 'Save the stage mapping' }).click();
    await form
      .getByRole('status')
      .getByText(/Not saved: .*pipeline default has no stage gone/)
      .waitFor();
    expect((await stageMapping()).default).toEqual({ ...before.default, gone: 'qualified' });

    await form.getByLabel('Sales Pipeline: gone').selectOption('');
    await form.getByRole('button', { name: 'Save the stage mapping' }).click();
    await form.getByRole('status').getByText('The stage mapping is saved.').waitFor();
    expect((await stageMapping()).default).toEqual({ ...before.default, contractsent: 'qualified' });
    expect(await form.getByText('Not in the CRM any more:').count()).toBe(0);
    await checkPage(page, 'program-stages', false);
  });

  it('an admin approves one claim on an open deal and rejects another only with a reason; finance sees them without the buttons', async () => {
    const pia = { email: 'pia@partner-firm.test', name: 'Pia Partner', type: 'partner' };
    await openDealFor('alex@umbrella.test', 'Umbrella platform');
    await openDealFor('bea@hooli.test', 'Hooli rollout');
    const claims = [
      await refer(pia, { email: 'alex@umbrella.test', firstName: 'Alex', company: 'Umbrella' }),
      await refer(pia, { email: 'bea@hooli.test', firstName: 'Bea', company: 'Hooli' }),
    ];
    const referralStatus = (id: string) => sql<{ status: string }>('SELECT status FROM referrals WHERE id = ?', id)[0]!.status;
    expect(claims.map(referralStatus)).toEqual(['claim_pending', 'claim_pending']);

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${svc.url}/console/${installationId}`);
    await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
    await expect.poll(() => tile(page, 'Claims to decide').textContent()).toBe('2');
    await page.getByRole('link', { name: '2 claims on open deals awaiting a decision' }).click();
    await expect.poll(() => page.getByRole('row').count()).toBe(3);
    await open(page, 'Approvals', 'Approvals');
    const alex = page.getByRole('article', { name: 'Claim for Alex' });
    const bea = page.getByRole('article', { name: 'Claim for Bea' });
    await alex.getByText(/Claim on deal "Umbrella platform"/).waitFor();
    await checkPage(page, 'approvals-claims');

    const finance = await signInInvited('fran@customer.test', 'finance');
    await open(finance, 'Approvals', 'Approvals');
    await finance.getByRole('article', { name: 'Claim for Alex' }).waitFor();
    await finance.getByText("Claims are decided by the installation's admins.").waitFor();
    expect(await finance.getByRole('button', { name: /claim/ }).count()).toBe(0);

    await alex.getByRole('button', { name: 'Approve claim' }).click();
    await page
      .getByRole('status')
      .getByText(/The claim for Alex is approved\./)
      .waitFor();
    expect(referralStatus(claims[0]!)).not.toBe('claim_pending');
    await bea.getByRole('button', { name: 'Reject claim' }).click();
    await page
      .getByRole('status')
      .getByText(/say why the claim is rejected/)
      .waitFor();
    expect(referralStatus(claims[1]!)).toBe('claim_pending');
    await bea.getByLabel('Reason for rejecting the claim').fill('The deal was sourced by our own outbound team');
    await bea.getByRole('button', { name: 'Reject claim' }).click();
    await page
      .getByRole('status')
      .getByText(/The claim for Bea is rejected\./)
      .waitFor();
    expect(referralStatus(claims[1]!)).not.toBe('claim_pending');
    await page.getByText('No claim is waiting for a decision.').waitFor();
  });

  it('a viewer sees every page without a write button', async () => {
    await pendingReward(referralIds.initech, 120_000);
    deadEvent('deal-dead-2');
    const page = await signInInvited('vic@customer.test', 'viewer');
    await page.getByText('1 CRM event that failed every attempt').waitFor();
    await page.getByText('An admin can put failed events back in the queue.').waitFor();
    await expectNoWriteButtons(page);
    expect(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Program' }).count()).toBe(0);
    await checkPage(page, 'home-viewer', false);

    await open(page, 'Approvals', 'Approvals');
    await page.getByRole('region', { name: /\$1,200\.00 reward for Cleo Customer/ }).waitFor();
    await expectNoWriteButtons(page);
    await open(page, 'Payouts', 'Payouts');
    await page.getByText('creating, exporting and paying them need the admin or finance role').waitFor();
    await expectNoWriteButtons(page);
    await page.getByRole('table').getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Payout run' }).waitFor();
    await page.getByRole('definition').getByText('Paid', { exact: true }).waitFor();
    await expectNoWriteButtons(page);
    await checkPage(page, 'payout-run-viewer', false);
    // 25 referrals a page: 5 so far and 23 more make two pages.
    const cleo = { email: 'cleo@customer.test', name: 'Cleo Customer', type: 'customer' };
    await Promise.all(
      Array.from({ length: 23 }, (_, i) =>
        refer(cleo, { email: `lead${i}@prospect${i}.test`, firstName: `Lead${i}`, company: `Prospect ${i}` }),
      ),
    );
    await open(page, 'Referrals', 'Referrals');
    await expect.poll(() => page.getByRole('row').count()).toBe(26);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('link', { name: 'Lee' }).waitFor();
    expect(await page.getByRole('row').count()).toBe(4);
    expect(await page.getByRole('button', { name: 'Next page' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => page.getByRole('row').count()).toBe(26);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('link', { name: 'Lee' }).click();
    await page.getByRole('heading', { name: 'Referral', exact: true }).waitFor();
    await expectNoWriteButtons(page);
  });
});

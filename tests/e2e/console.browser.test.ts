/**
 * The admin console's Approvals page in Chromium against the whole service: an admin signs in
 * through the sandbox HubSpot's OAuth from the console page, approves one reward and rejects
 * another with a reason (a rejection without one is refused in words, nothing written); a viewer
 * invited by email sees the same rewards without the buttons. Screenshots at 1280 and 390 px, and
 * axe-core finds no serious or critical violation.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPage as checkPageIn, launchChromium } from '../support/browser.ts';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

const SHOTS = 'test-results/console';

let svc: TestService;
let smtp: SmtpTestServer;
let browser: Browser;
let installationId: string;
const rewardIds: string[] = [];

const status = (id: string) => (svc.sqlite.prepare('SELECT status FROM rewards WHERE id = ?').get(id) as { status: string }).status;

/** A referral of Pia's with a reward over the approval threshold, waiting for approval. */
async function pendingReward(refereeEmail: string, amountCents: number): Promise<string> {
  const res = await svc.api('/referrals', {
    method: 'POST',
    json: {
      referrer: { email: 'pia@partner-firm.test', name: 'Pia Partner', type: 'partner' },
      referee: { email: refereeEmail, firstName: 'Jordan', company: 'Acme Widgets' },
      submittedBy: { kind: 'rep' },
    },
  });
  expect(res.status).toBe(201);
  const referral = (await svc.service.runtime.store.referrals.get(((await res.json()) as { id: string }).id))!;
  const reward = await svc.service.runtime.store.rewards.accrue(
    {
      installationId,
      referralId: referral.id,
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
      idempotencyKey: `test-reward:${referral.id}`,
      updatedAt: new Date().toISOString(),
    },
    'test',
  );
  return reward!.id;
}

const checkPage = (page: Page, name: string, keep?: string) => checkPageIn(page, SHOTS, name, keep);

beforeAll(async () => {
  smtp = await startSmtpServer();
  svc = await startTestService({ SMTP_URL: smtp.url });
  installationId = await installSandbox(svc);
  rewardIds.push(await pendingReward('jordan@acme-widgets.test', 250_000), await pendingReward('sam@globex.test', 180_000));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await smtp?.stop();
});

describe('the console, Approvals', () => {
  it('an admin signs in with HubSpot, approves one reward, and rejects another only with a reason', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${svc.url}/console/${installationId}`);
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    await checkPage(page, 'sign-in');
    await page.getByRole('link', { name: 'Sign in with your CRM account' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('heading', { name: 'Approvals' }).waitFor();
    await expect.poll(() => page.getByRole('button', { name: /Sign out sales@sandbox.example \(admin\)/ }).count()).toBe(1);

    const first = page.getByRole('region', { name: /\$2,500\.00 reward for Pia Partner/ });
    const second = page.getByRole('region', { name: /\$1,800\.00 reward for Pia Partner/ });
    await first.waitFor();
    await second.waitFor();
    await checkPage(page, 'approvals', 'docs/screenshots/console-approvals.png');

    await first.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').getByText('$2,500.00 reward approved.').waitFor();
    expect(status(rewardIds[0]!)).toBe('approved');
    await expect.poll(() => first.count()).toBe(0);

    await second.getByRole('button', { name: 'Reject' }).click();
    await page
      .getByRole('status')
      .getByText(/say why the reward is rejected/)
      .waitFor();
    expect(status(rewardIds[1]!)).toBe('pending');
    await second.getByLabel('Reason for rejecting').fill('Referred after the deal was already open');
    await second.getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('status').getByText('$1,800.00 reward rejected.').waitFor();
    expect(status(rewardIds[1]!)).toBe('rejected');
    await page.getByText('No rewards are waiting for approval.').waitFor();

    const audit = svc.sqlite.prepare("SELECT actor FROM audit_log WHERE subject_type = 'reward' AND subject_id = ?").all(rewardIds[1]) as {
      actor: string;
    }[];
    expect(audit.map((a) => a.actor)).toContainEqual(expect.stringMatching(/^user:usr_\S+ sales@sandbox\.example$/));
  });

  it('a viewer invited by email signs in with the link and sees what waits, without the buttons', async () => {
    const third = await pendingReward('lee@initech.test', 120_000);
    const invited = await svc.api(`/installations/${installationId}/users`, {
      method: 'POST',
      json: { email: 'vic@customer.test', role: 'viewer', name: 'Vic Viewer' },
    });
    expect(invited.status).toBe(201);
    const [mail] = await smtp.waitForMessages(1, { to: 'vic@customer.test' });
    const link = new RegExp(`${svc.url}/console/${installationId}#[A-Za-z0-9_-]+`).exec(mail!.text)?.[0];
    expect(link, mail!.text).toBeDefined();

    const page = await (await browser.newContext()).newPage();
    await page.goto(link!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('heading', { name: 'Approvals' }).waitFor();
    await page.getByRole('region', { name: /\$1,200\.00 reward for Pia Partner/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await page.getByText('approving and rejecting need the admin or finance role').waitFor();
    await checkPage(page, 'approvals-viewer');
    expect(status(third)).toBe('pending');

    // The link worked once.
    const again = await (await browser.newContext()).newPage();
    await again.goto(link!);
    await again.getByRole('button', { name: 'Sign in' }).click();
    await again.getByRole('alert').getByText('already used').waitFor();
  });
});

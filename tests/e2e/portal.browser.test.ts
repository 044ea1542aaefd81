/**
 * The referrer portal in Chromium against the whole service: a sign-in link asked for on the
 * page arrives at a real SMTP server, opens a session, and the referrer sees their referrals and
 * rewards and refers someone. Another referrer, another installation, a used, expired or forged
 * link get nothing. Each page is screenshotted at 1280 and 390 px and checked with axe-core.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';
import { eventually, installSandbox, startTestService, type TestService } from '../support/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'test-results/portal';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let svc: TestService;
let smtp: SmtpTestServer;
let browser: Browser;
let installationId: string;
let otherInstallationId: string;

const pia = { email: 'pia@partner-firm.test', name: 'Pia Partner' };
const rob = { email: 'rob@other-firm.test', name: 'Rob Other' };

const sql = (query: string, ...params: unknown[]) => svc.sqlite.prepare(query).run(...params);

async function referAsRep(referrer: { email: string; name: string }, refereeEmail: string, firstName: string) {
  const res = await svc.api('/referrals', {
    method: 'POST',
    json: {
      installationId,
      referrer: { ...referrer, type: 'partner' },
      referee: { email: refereeEmail, firstName, lastName: 'Lee', company: 'Acme Widgets' },
      submittedBy: { kind: 'rep' },
    },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Asks for a link on the sign-in page and returns the one the email carries. */
async function linkByEmail(page: Page, who: { email: string }, installation = installationId): Promise<string> {
  const signInMails = () => smtp.messages(who.email).filter((m) => m.subject.startsWith('Your sign-in link'));
  const before = signInMails().length;
  await page.goto(`${svc.url}/portal/${installation}/sign-in`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByRole('status').getByText('a sign-in link is on its way').waitFor();
  const mail = await eventually(() => signInMails()[before], 10_000, `a sign-in email to ${who.email}`);
  const link = new RegExp(`${svc.url}/portal/${installation}/link#[A-Za-z0-9_-]+`).exec(mail.text)?.[0];
  expect(link, mail.text).toBeDefined();
  expect(mail.html).toContain(`href="${link}"`);
  return link!;
}

async function signIn(context: BrowserContext, who: { email: string }): Promise<Page> {
  const page = await context.newPage();
  await page.goto(await linkByEmail(page, who));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'My referrals' }).waitFor();
  return page;
}

/** Screenshots at both widths and an axe-core run with no serious or critical violations. */
async function checkPage(page: Page, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
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
  mkdirSync(SHOTS, { recursive: true });
  smtp = await startSmtpServer();
  svc = await startTestService({ SMTP_URL: smtp.url });
  installationId = await installSandbox(svc);
  otherInstallationId = await installSandbox(svc, 'salesforce');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const referralId = await referAsRep(pia, 'jordan@acme-widgets.test', 'Jordan');
  await referAsRep(rob, 'robs-friend@elsewhere.test', 'Robin');
  const referral = (await svc.service.runtime.store.referrals.get(referralId))!;
  await svc.service.runtime.store.rewards.accrue(
    {
      installationId,
      referralId,
      referrerId: referral.referrerId,
      kind: 'milestone',
      beneficiary: 'referrer',
      milestone: 'closed_won',
      amountCents: 25_000,
      currency: 'EUR',
      status: 'approved',
      dueDate: '2027-01-31',
      requiresApproval: false,
      programId: referral.programId,
      programVersion: referral.programVersion,
      reasons: ['closed won'],
      idempotencyKey: `test-reward:${referralId}`,
      updatedAt: new Date().toISOString(),
    },
    'test',
  );
});

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await smtp?.stop();
});

describe('the referrer portal', { timeout: 60_000 }, () => {
  it('signs in by emailed link, shows referrals and rewards, and takes a referral', async () => {
    const context = await browser.newContext();
    const signInPage = await context.newPage();
    await signInPage.goto(`${svc.url}/portal/${installationId}/sign-in`);
    await checkPage(signInPage, 'sign-in');

    const page = await signIn(context, pia);
    await page.getByText('Jordan Lee').waitFor();
    expect(await page.locator('.status').first().textContent()).toBe('Accepted: our team will reach out');
    // Each referral says which program it belongs to (the installation's one, here).
    await page
      .getByText(/Referred on .* · Referral program/)
      .first()
      .waitFor();
    expect(await page.content()).not.toContain('Robin');
    await checkPage(page, 'referrals');

    // The admin gathers the approved reward into a payout run: My rewards names it.
    const run = await svc.api('/payouts', { method: 'POST', json: { installationId, dueOn: '2027-01-31' } });
    expect(run.status).toBe(201);
    await page.getByRole('link', { name: 'My rewards' }).click();
    await page.getByRole('heading', { name: 'Totals' }).waitFor();
    expect(await page.getByRole('region', { name: 'Totals in EUR' }).textContent()).toBe(
      'Pending€0.00Approved€250.00Payable€0.00Paid€0.00Recovered€0.00',
    );
    expect(await page.locator('table tbody').textContent()).toBe('€250.00Approvedclosed wonCashJan 31, 2027In a payout being prepared');
    await checkPage(page, 'rewards');

    await page.getByRole('link', { name: 'My details' }).click();
    await page.getByLabel('Name').waitFor();
    await checkPage(page, 'details');
    await page.getByLabel('Name').fill('Pia P. Partner');
    await page.getByLabel('A daily summary').check();
    await page.getByLabel('Payout email').fill('payouts@partner-firm.test');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Your details are saved.').waitFor();
    const saved = (await svc.service.runtime.store.referrals.referrerByEmail(installationId, pia.email))!;
    expect(saved).toMatchObject({ name: 'Pia P. Partner', payoutEmail: 'payouts@partner-firm.test', digest: true, emailOptOut: false });
    await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('This address cannot receive notifications').waitFor();
    await page.getByLabel('Endpoint URL').fill('https://203.0.113.10/referloop');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('Its signing secret, shown only now').waitFor();
    expect(await page.locator('.endpoints code').allTextContents()).toEqual(['https://203.0.113.10/referloop']);
    expect((await svc.service.runtime.store.referrerWebhookEndpoints.ofReferrer(saved.id)).map((e) => e.url)).toEqual([
      'https://203.0.113.10/referloop',
    ]);
    const exported = await page.evaluate(async (url) => {
      const res = await fetch(url);
      return { disposition: res.headers.get('content-disposition'), body: await res.json() };
    }, `/api/v1/portal/${installationId}/me/export`);
    expect(exported.disposition).toContain('my-referral-data.json');
    expect(exported.body).toMatchObject({
      details: { name: 'Pia P. Partner', email: pia.email, notifications: 'digest' },
      referrals: [{ referee: { email: 'jordan@acme-widgets.test' } }],
      rewards: [{ amountCents: 25_000, currency: 'EUR', status: 'approved' }],
    });

    await page.getByRole('link', { name: 'Refer someone' }).click();
    await page.getByLabel('First name').fill('<script>alert(1)</script>');
    await page.getByLabel('Last name').fill('Stone');
    await page.getByLabel('Their work email').fill('casey@new-prospect.test');
    await page.getByLabel('Company').fill('<b>Bold</b> Co');
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.getByText('Thank you! Your referral was received.').waitFor();
    await checkPage(page, 'refer');

    // The same person again: a plain answer, not a second referral.
    await page.getByLabel('Their work email').fill('casey@new-prospect.test');
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.getByText('This person was already referred.').waitFor();

    // What was typed is shown as text, never run as markup (the duplicate is listed too, as not accepted).
    let dialogs = 0;
    page.on('dialog', (dialog) => {
      dialogs++;
      void dialog.dismiss();
    });
    await page.getByRole('link', { name: 'My referrals' }).click();
    const typed = page.getByRole('heading', { name: '<script>alert(1)</script> Stone · <b>Bold</b> Co' });
    await typed.first().waitFor();
    expect(await typed.count()).toBe(2);
    expect(await page.locator('.cards b, .cards script').count()).toBe(0);
    expect(dialogs).toBe(0);
    await context.close();
  });

  it('My rewards says what each reward is given as: a gift card, a donation, recognition with no amount', async () => {
    const gina = { email: 'gina@grant-firm.test', name: 'Gina Grant' };
    const referralId = await referAsRep(gina, 'kim@grant-prospect.test', 'Kim');
    const referral = (await svc.service.runtime.store.referrals.get(referralId))!;
    const grants = [
      ['gift', 10_000, 'approved', { kind: 'gift_card' }],
      ['donation', 5_000, 'approved', { kind: 'donation', charity: 'Red Cross' }],
      ['thanks', 0, 'paid', { kind: 'recognition', badge: 'Champion', message: 'Thank you for Kim!' }],
    ] as const;
    for (const [key, amountCents, status, grant] of grants) {
      await svc.service.runtime.store.rewards.accrue(
        {
          installationId,
          referralId,
          referrerId: referral.referrerId,
          kind: 'milestone',
          beneficiary: 'referrer',
          milestone: 'closed_won',
          amountCents,
          currency: 'EUR',
          status,
          dueDate: '2027-01-31',
          requiresApproval: false,
          programId: referral.programId,
          programVersion: referral.programVersion,
          reasons: ['closed won'],
          grant,
          idempotencyKey: `test-grant:${key}:${referralId}`,
          updatedAt: new Date().toISOString(),
        },
        'test',
      );
    }
    const context = await browser.newContext();
    const page = await signIn(context, gina);
    await page.getByRole('link', { name: 'My rewards' }).click();
    await page.getByRole('heading', { name: 'Totals' }).waitFor();
    const rows = await page
      .locator('table tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map(([amount, , , givenAs]) => [amount, givenAs]).sort()).toEqual(
      [
        ['€100.00', 'Gift card'],
        ['€50.00', 'Donation to Red Cross'],
        // Recognition has no amount to show.
        ['—', 'Recognition: Champion'],
      ].sort(),
    );
    expect(await page.getByRole('columnheader', { name: 'Given as' }).count()).toBe(1);
    await checkPage(page, 'rewards-grants');
    await context.close();
  });

  it('asks the same of a known and an unknown email, and sends nothing to the unknown one', async () => {
    const ask = (email: string) =>
      fetch(`${svc.url}/api/v1/portal/${installationId}/magic-links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' },
        body: JSON.stringify({ email }),
      });
    const known = await ask(rob.email);
    const unknown = await ask('nobody@nowhere.test');
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(await unknown.json()).toEqual(await known.json());
    await eventually(() => smtp.messages(rob.email).find((m) => m.subject.startsWith('Your sign-in link')), 10_000, 'the sign-in email');
    expect(smtp.messages('nobody@nowhere.test')).toEqual([]);
  });

  it('refuses a flood of link requests for one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${svc.url}/api/v1/portal/${installationId}/magic-links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${i}` },
        body: JSON.stringify({ email: 'flood@target.test' }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
  });

  it('refuses a used, an expired and a forged link, offering a fresh one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const link = await linkByEmail(page, pia);
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'My referrals' }).waitFor();

    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This sign-in link was already used.').waitFor();
    await checkPage(page, 'link-refused');
    await page.getByRole('link', { name: 'Send me a fresh link' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    const expiring = await linkByEmail(page, pia);
    sql("UPDATE magic_links SET expires_at = '2000-01-01T00:00:00.000Z' WHERE used_at IS NULL");
    await page.goto(expiring);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This sign-in link has expired.').waitFor();

    // From another document: a fragment-only change would not load the page again.
    await page.goto('about:blank');
    await page.goto(`${svc.url}/portal/${installationId}/link#forged-token-forged-token-forged-token`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This sign-in link is not valid.').waitFor();
    await context.close();
  });

  it('keeps a referrer to their own data, their installation, and CSRF-checked writes', async () => {
    const context = await browser.newContext();
    const page = await signIn(context, rob);
    // The list renders after its fetch: wait for it rather than read an empty page.
    await page.locator('.cards h2').first().waitFor();
    expect(await page.locator('.cards h2').allTextContents()).toEqual(['Robin Lee · Acme Widgets']);
    const api = (path: string, init: RequestInit = {}) =>
      page.evaluate(
        async ({ path, init }) => {
          const res = await fetch(path, init);
          return { status: res.status, body: await res.text() };
        },
        { path, init },
      );
    const mine = await api(`/api/v1/portal/${installationId}/referrals`);
    expect(mine.status).toBe(200);
    expect(mine.body).toContain('robs-friend@elsewhere.test');
    expect(mine.body).not.toContain('jordan@acme-widgets.test');
    expect(mine.body).not.toContain('casey@new-prospect.test');

    // The same session on another installation's pages and API is refused.
    expect((await api(`/api/v1/portal/${otherInstallationId}/referrals`)).status).toBe(403);
    await page.goto(`${svc.url}/portal/${otherInstallationId}/referrals`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    // A write without the session's CSRF token changes nothing.
    const before = (await svc.service.runtime.store.referrals.listReferrers(installationId)).length;
    const forged = await api(`/api/v1/portal/${installationId}/referrals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ referee: { email: 'sneaky@csrf.test' } }),
    });
    expect(forged.status).toBe(403);
    expect(svc.sqlite.prepare("SELECT count(*) AS n FROM referrals WHERE referee_email = 'sneaky@csrf.test'").get()).toEqual({
      n: 0,
    });
    expect((await svc.service.runtime.store.referrals.listReferrers(installationId)).length).toBe(before);

    // Another referrer's webhook endpoint cannot be removed through this session.
    const piaId = (await svc.service.runtime.store.referrals.referrerByEmail(installationId, pia.email))!.id;
    const [piaEndpoint] = await svc.service.runtime.store.referrerWebhookEndpoints.ofReferrer(piaId);
    const csrf = (JSON.parse((await api('/api/v1/session')).body) as { csrfToken: string }).csrfToken;
    const removal = await api(`/api/v1/portal/${installationId}/webhook-endpoints/${piaEndpoint!.id}`, {
      method: 'DELETE',
      headers: { 'x-csrf-token': csrf },
    });
    expect(removal.status).toBe(404);
    expect(await svc.service.runtime.store.referrerWebhookEndpoints.ofReferrer(piaId)).toHaveLength(1);

    // A deletion request is recorded for the program's team and emailed to the program's sender address.
    await page.goto(`${svc.url}/portal/${installationId}/details`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Ask to delete my data' }).click();
    await page.getByText('Your request to delete your data is recorded.').waitFor();
    expect(svc.sqlite.prepare("SELECT actor FROM audit_log WHERE action = 'referrer.deletion_requested'").all()).toEqual([
      { actor: `referrer:${(await svc.service.runtime.store.referrals.referrerByEmail(installationId, rob.email))!.id}` },
    ]);
    const senderEmail = (await svc.service.runtime.store.programs.currentDefault(installationId))!.program.senderEmail;
    await eventually(
      () => smtp.messages(senderEmail).find((m) => m.subject.startsWith('Data deletion request from Rob Other')),
      10_000,
      "the deletion request's email to the program",
    );

    // Signing out ends the session on the server, not only in the browser.
    const session = JSON.parse((await api('/api/v1/session')).body) as { csrfToken: string };
    const cookie = (await context.cookies()).find((c) => c.name === 'referloop_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect((await api('/api/v1/session', { method: 'DELETE', headers: { 'x-csrf-token': session.csrfToken } })).status).toBe(204);
    const replayed = await fetch(`${svc.url}/api/v1/portal/${installationId}/referrals`, {
      headers: { cookie: `referloop_session=${cookie.value}` },
    });
    expect(replayed.status).toBe(401);
    await context.close();
  });

  it("asks for the program's agreement where the program requires one, and then takes the referral", async () => {
    const current = (await (await svc.api(`/program?installationId=${installationId}`)).json()) as { program: Record<string, unknown> };
    const put = await svc.api(`/program?installationId=${installationId}`, {
      method: 'PUT',
      json: { ...current, program: { ...current.program, requireAgreement: true } },
    });
    expect(put.status).toBe(200);

    const context = await browser.newContext();
    const page = await signIn(context, pia);
    await page.getByRole('link', { name: 'Refer someone' }).click();
    await page.getByText('asks you to accept its referral agreement').waitFor();
    await page.getByLabel('Their work email').fill('dana@agreement-first.test');
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.getByText('Please accept the Referral program agreement before submitting referrals.').waitFor();

    await page.getByRole('button', { name: 'I accept the referral agreement' }).click();
    await page.getByRole('button', { name: 'I accept the referral agreement' }).waitFor({ state: 'detached' });
    expect((await svc.service.runtime.store.referrals.referrerByEmail(installationId, pia.email))!.agreementAcceptedAt).not.toBeNull();
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.getByText('Thank you! Your referral was received.').waitFor();

    // An expired session is refused: the portal sends the referrer back to sign in.
    sql("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z'");
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await context.close();
  });

  it('a referrer in two programs chooses the one a referral is for, and sees each referral’s program', async () => {
    const created = await svc.api(`/installations/${installationId}/programs`, {
      method: 'POST',
      json: { name: 'Partner program', from: 'blank' },
    });
    const partners = (await created.json()) as { id: string };
    const robRow = (await svc.service.runtime.store.referrals.referrerByEmail(installationId, rob.email))!;
    expect((await svc.api(`/programs/${partners.id}/referrers/${robRow.id}`, { method: 'PUT' })).status).toBe(201);

    const context = await browser.newContext();
    const page = await signIn(context, rob);
    await page.getByRole('link', { name: 'Refer someone' }).click();
    await page.getByLabel('Program').selectOption({ label: 'Partner program' });
    await page.getByLabel('Their work email').fill('quinn@two-programs.test');
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.getByText('Thank you! Your referral was received.').waitFor();
    await checkPage(page, 'refer-two-programs');
    const quinn = (await svc.service.runtime.store.referrals.byReferrer(robRow.id)).find(
      (r) => r.refereeEmail === 'quinn@two-programs.test',
    )!;
    expect(quinn.programId).toBe(partners.id);

    await page.getByRole('link', { name: 'My referrals' }).click();
    await page.getByText(/ · Partner program$/).waitFor();
    await page.getByText(/ · Referral program$/).waitFor();
    await context.close();
  });
});

/**
 * The landing of a referral ask in Chromium: the champion opens the link of the ask email (sent to
 * a real SMTP server), signs in, is thanked by name with the CSM named, and refers two peers in one
 * form, each with its own verdict; a peer referred again reads as already referred. Screenshots at
 * 1280 and 390 px (the 390 px one kept in docs/screenshots/), and axe-core finds nothing serious.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'test-results/portal';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let smtp: SmtpTestServer;
let svc: TestService;
let hubspot: HubSpotSandbox;
let installationId: string;
let browser: Browser;

async function checkPage(page: Page, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
    // Nothing scrolls sideways on a phone.
    if (width === 390) expect((await page.evaluate('document.documentElement.scrollWidth')) as number).toBeLessThanOrEqual(390);
  }
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact }));
  });
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: run npm run test:setup`);
  mkdirSync(SHOTS, { recursive: true });
  smtp = await startSmtpServer();
  ({ hubspot, svc, installationId } = await startWithSandboxHubSpot(
    { clientId: 'e2e-ask-page-client', clientSecret: 'e2e-ask-page-secret', appId: 4444 },
    {},
    { SMTP_URL: smtp.url },
  ));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
  await hubspot?.close();
  await smtp?.stop();
});

describe('the referral ask’s page', { timeout: 60_000 }, () => {
  it('thanks the champion, names the CSM, and takes two peers in one form with a verdict for each', async () => {
    const casey = hubspot.state.owners[1]!;
    const company = hubspot.state.create('companies', {
      name: 'Globex',
      domain: 'globex.example',
      lifecyclestage: 'customer',
      hs_lifecyclestage_customer_date: '2025-01-15T00:00:00Z',
      referloop_nps: '10',
      hubspot_owner_id: casey.id,
    });
    hubspot.state.create('contacts', { email: 'carla@globex.example', firstname: 'Carla', lastname: 'Champion' }, [
      { type: 'companies', id: company.id },
    ]);
    const res = await svc.api(`/accounts/${company.id}/asks`, {
      method: 'POST',
      json: { message: 'Your rollout was our favourite project this year.' },
    });
    expect(res.status).toBe(201);
    const askId = ((await res.json()) as { id: string }).id;
    const [mail] = await smtp.waitForMessages(1, { to: 'carla@globex.example', timeoutMs: 15_000 });
    const link = new RegExp(`${svc.url}/portal/${installationId}/link\\?to=ask%2F${askId}#[A-Za-z0-9_-]+`).exec(mail!.text)?.[0];
    expect(link, mail!.text).toBeDefined();

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Introduce your peers' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/portal/${installationId}/ask/${askId}`);
    await page.getByText('Thank you, Carla Champion!').waitFor();
    expect(await page.locator('main').textContent()).toContain(`${casey.firstName} ${casey.lastName} asked whether you would introduce us`);
    expect(await page.locator('blockquote').textContent()).toBe('Your rollout was our favourite project this year.');

    const peer = (n: number) => page.getByRole('group', { name: `Peer ${n}` });
    await peer(1).getByLabel('First name').fill('Dana');
    await peer(1).getByLabel('Last name').fill('Reyes');
    await peer(1).getByLabel('Work email').fill('dana@initech.example');
    await peer(1).getByLabel('Company (optional)').fill('Initech');
    await page.getByRole('button', { name: 'Add another peer' }).click();
    await page.getByRole('button', { name: 'Add another peer' }).click();
    await page.getByRole('button', { name: 'Remove peer 3' }).click();
    expect(await page.getByRole('group').count()).toBe(2);
    await peer(2).getByLabel('First name').fill('Eli');
    await peer(2).getByLabel('Work email').fill('eli@umbrella.example');
    await peer(2).getByLabel('Note for our team (optional)').fill('Looking for a new vendor this quarter.');
    await page.getByRole('button', { name: 'Send 2 referrals' }).click();

    const verdicts = page.getByRole('list', { name: 'Your referrals from this page' });
    await verdicts.waitFor();
    expect(await verdicts.locator(':scope > li > .verdict').allTextContents()).toEqual([
      'Dana Reyes: Accepted: thank you!',
      'Eli: Accepted: thank you!',
    ]);
    await checkPage(page, 'ask');
    mkdirSync('docs/screenshots', { recursive: true });
    copyFileSync(`${SHOTS}/ask-390.png`, 'docs/screenshots/portal-ask-390.png');

    // Both came from the ask; the same peer again is told as already referred.
    const summary = (await (await svc.api(`/reports/summary?installationId=${installationId}`)).json()) as { asks: unknown };
    expect(summary.asks).toEqual({ sent: 1, refused: 0, referralsFromAsks: 2 });
    const listed = (await (await svc.api(`/referrals?installationId=${installationId}`)).json()) as {
      items: { referee: { email: string }; askId?: string }[];
    };
    expect(
      listed.items
        .filter((r) => r.askId === askId)
        .map((r) => r.referee.email)
        .sort(),
    ).toEqual(['dana@initech.example', 'eli@umbrella.example']);
    await peer(1).getByLabel('Work email').fill('dana@initech.example');
    await page.getByRole('button', { name: 'Send referral' }).click();
    await verdicts.getByText('dana@initech.example: Already referred').waitFor();
    await context.close();

    // The link again: refused, and the fresh link it offers opens the ask's page too.
    const [pageUrl, token] = link!.split('#') as [string, string];
    const again = await fetch(pageUrl.split('?')[0]!, { method: 'POST', body: new URLSearchParams({ token, to: `ask/${askId}` }) });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain(`href="/portal/${installationId}/sign-in?to=ask%2F${askId}"`);

    // Without a session the ask's page asks for a link, and that link comes back to it.
    const later = await (await browser.newContext()).newPage();
    await later.goto(`${svc.url}/portal/${installationId}/ask/${askId}`);
    await later.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(later.url()).search).toBe(`?to=ask%2F${askId}`);
    await later.getByLabel('Email').fill('carla@globex.example');
    await later.getByRole('button', { name: 'Email me a sign-in link' }).click();
    const fresh = await eventually(
      () => smtp.messages('carla@globex.example').find((m) => m.subject.startsWith('Your sign-in link')),
      15_000,
      'the sign-in email',
    );
    const freshLink = new RegExp(`${svc.url}/portal/${installationId}/link\\?to=ask%2F${askId}#[A-Za-z0-9_-]+`).exec(fresh.text)?.[0];
    expect(freshLink, fresh.text).toBeDefined();
    await later.goto(freshLink!);
    await later.getByRole('button', { name: 'Sign in' }).click();
    await later.getByText('Thank you, Carla Champion!').waitFor();
    await later.context().close();
  });

  it('shows another referrer nothing of the ask', async () => {
    const askId = svc.sqlite.prepare('SELECT id FROM referral_asks').pluck().get() as string;
    const other = await svc.service.runtime.store.referrals.insertReferrer({
      installationId,
      email: 'rob@other.example',
      name: 'Rob',
      type: 'partner',
    });
    const { token } = await svc.service.runtime.store.sessions.open({
      subjectKind: 'referrer',
      subjectId: other.id,
      installationId,
      role: 'referrer',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const res = await fetch(`${svc.url}/api/v1/portal/${installationId}/asks/${askId}`, {
      headers: { cookie: `referloop_session=${token}` },
    });
    expect(res.status).toBe(404);
  });
});

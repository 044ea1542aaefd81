import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import express from 'express';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { notificationsRouter } from '../../../src/http/notifications.route.ts';
import { createSmtpEmailChannel, type EmailChannel } from '../../../src/notify/email.ts';
import { createNotifier } from '../../../src/notify/notifier.ts';
import type { Db } from '../../../src/store/db.ts';
import { referrers } from '../../../src/store/schema.ts';
import { startSmtpServer, type SmtpTestServer } from '../../support/smtp-server.ts';
import {
  createTestDb,
  enqueueAll,
  insertInstallation,
  insertReferral,
  insertReferrer,
  insertReward,
  journeyIntents,
  outboxRows,
  silentLog,
  storeOf,
  type ReferrerFixture,
} from './fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';

let smtp: SmtpTestServer;
let email: EmailChannel;
let server: Server;
let baseUrl: string;
let browser: Browser;
const db: Db = createTestDb();
const installationId = insertInstallation(db);

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\``);
  const app = express();
  app.use(notificationsRouter({ store: storeOf(db) }));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  smtp = await startSmtpServer();
  email = createSmtpEmailChannel(smtp.url);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  email?.close();
  await smtp?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

/** Sends the referrer a real email and returns the unsubscribe link it carries. */
async function linkFromEmail(referrer: ReferrerFixture): Promise<string> {
  const referral = insertReferral(db, referrer, { firstName: 'Yan', lastName: 'Yes', company: 'Zorg' });
  await enqueueAll(db, journeyIntents(referral, insertReward(db, referral, 50_000)).slice(0, 1), new Date());
  await createNotifier({ store: storeOf(db), email, now: () => new Date(), log: silentLog, publicBaseUrl: baseUrl }).runOnce();
  const [mail] = await smtp.waitForMessages(1, { to: referrer.email });
  const link = /^<(.+)>$/.exec(mail!.listUnsubscribe ?? '')?.[1];
  expect(link).toBeDefined();
  expect(mail!.text).toContain(link);
  return link!;
}

const flags = (referrer: ReferrerFixture) =>
  db.select({ emailOptOut: referrers.emailOptOut, digest: referrers.digest }).from(referrers).where(eq(referrers.id, referrer.id)).get();

test('the unsubscribe link from an email works in Chromium', async () => {
  const referrer = insertReferrer(db, installationId, { name: 'Xena Browser', email: 'xena@partner.test' });
  const link = await linkFromEmail(referrer);

  const page = await browser.newPage();
  await page.goto(link);
  expect(await page.locator('h1').textContent()).toBe('Unsubscribe from referral emails?');
  expect(flags(referrer)).toEqual({ emailOptOut: false, digest: false });
  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await page.locator('h1', { hasText: 'You are unsubscribed' }).waitFor();
  await page.close();
  expect(flags(referrer)).toEqual({ emailOptOut: true, digest: false });

  // What comes next is not emailed.
  const referral = insertReferral(db, referrer, { firstName: 'Ada', lastName: 'After', company: 'Later' });
  await enqueueAll(db, journeyIntents(referral, insertReward(db, referral, 50_000)).slice(0, 1), new Date());
  expect(outboxRows(db, referrer.id).at(-1)).toMatchObject({ channel: 'email', status: 'suppressed' });
});

test('a referrer can switch to the daily summary from the same page', async () => {
  const referrer = insertReferrer(db, installationId, { name: 'Yara Browser', email: 'yara@partner.test' });
  const page = await browser.newPage();
  await page.goto(await linkFromEmail(referrer));
  await page.getByRole('button', { name: 'Send me a daily summary' }).click();
  await page.locator('h1', { hasText: 'Preferences saved' }).waitFor();
  await page.close();
  expect(flags(referrer)).toEqual({ emailOptOut: false, digest: true });
});

test('the RFC 8058 one-click POST unsubscribes; a wrong key is a 404', async () => {
  const referrer = insertReferrer(db, installationId, { name: 'Zed Client', email: 'zed@partner.test' });
  const link = await linkFromEmail(referrer);

  const wrong = await fetch(link.replace(/key=[^&]+/, 'key=not-the-key'), { method: 'POST' });
  expect(wrong.status).toBe(404);
  expect(flags(referrer)?.emailOptOut).toBe(false);

  const oneClick = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  expect(oneClick.status).toBe(200);
  expect(oneClick.headers.get('referrer-policy')).toBe('no-referrer');
  expect(flags(referrer)?.emailOptOut).toBe(true);
});

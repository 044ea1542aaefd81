import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createSmtpEmailChannel } from '../../../src/notify/email.ts';
import { createNotifier, DEFAULT_POLICY } from '../../../src/notify/notifier.ts';
import { deliveryAttempts } from '../../../src/store/schema.ts';
import { startSmtpServer, type SmtpTestServer } from '../../support/smtp-server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts';
import {
  storeOf,
  createTestDb,
  enqueueAll,
  insertInstallation,
  insertReferral,
  insertReferrer,
  insertReward,
  insertWebhookEndpoint,
  journeyIntents,
  outboxRows,
  silentLog,
} from './fixtures.ts';

const childScript = fileURLToPath(new URL('./crash-notifier.ts', import.meta.url));
let smtp: SmtpTestServer;
let receiver: WebhookReceiver;
let dir: string;

beforeAll(async () => {
  [smtp, receiver] = await Promise.all([startSmtpServer(), startWebhookReceiver()]);
  dir = mkdtempSync(join(tmpdir(), 'referloop-notify-'));
});

afterAll(async () => {
  await Promise.all([smtp?.stop(), receiver?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function runNotifierProcess(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript], { env: { ...process.env, ...env }, stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

test('a notifier killed between send and record: the webhook receiver keeps one, the email keeps its Message-ID', async () => {
  const dbPath = join(dir, 'crash.db');
  const db = createTestDb(dbPath);
  const installationId = insertInstallation(db);
  const referrer = insertReferrer(db, installationId, { name: 'Pat Partner', email: 'pat@partner.test' });
  const endpoint = insertWebhookEndpoint(db, referrer, receiver.url('/pat'));
  receiver.trust(endpoint.secret);
  const referral = insertReferral(db, referrer, { firstName: 'Quinn', lastName: 'Quester', company: 'Vandelay' });
  const [received, accepted] = journeyIntents(referral, insertReward(db, referral, 50_000));
  const t0 = Date.now();
  const env = { DB_PATH: dbPath, SMTP_URL: smtp.url };

  // 1. The email goes out and is recorded; the webhook goes out and the process dies.
  await enqueueAll(db, [received!], new Date(t0));
  expect(await runNotifierProcess({ ...env, CRASH_AFTER: 'webhook', NOW: new Date(t0).toISOString() })).toEqual({
    code: null,
    signal: 'SIGKILL',
  });
  // 2. Next transition: the email goes out and the process dies.
  await enqueueAll(db, [accepted!], new Date(t0 + 1_000));
  expect(await runNotifierProcess({ ...env, CRASH_AFTER: 'email', NOW: new Date(t0 + 1_000).toISOString() })).toEqual({
    code: null,
    signal: 'SIGKILL',
  });

  expect(outboxRows(db, referrer.id).map((r) => [r.topic, r.channel, r.status])).toEqual([
    ['referral.received', 'email', 'delivered'],
    ['referral.received', 'webhook', 'sending'],
    ['referral.accepted', 'email', 'sending'],
    ['referral.accepted', 'webhook', 'pending'],
  ]);

  // 3. A fresh notifier, once the dead one's claims expired, finishes the work.
  const email = createSmtpEmailChannel(smtp.url);
  const fresh = createNotifier({
    store: storeOf(db),
    email,
    allowPrivateEndpoints: true,
    now: () => new Date(t0 + 1_000 + DEFAULT_POLICY.leaseMs + 1_000),
    log: silentLog,
    publicBaseUrl: 'http://referloop.test',
  });
  expect(await fresh.runOnce()).toEqual({ delivered: 3, failed: 0, disabled: 0 });
  email.close();

  expect(
    receiver
      .deliveries()
      .filter((d) => d.path === '/pat')
      .map((d) => d.body.type),
  ).toEqual(['referral.received', 'referral.accepted']);
  expect(receiver.stats()).toMatchObject({ requests: 3, duplicates: 1, rejected: 0 });

  const mails = await smtp.waitForMessages(3, { to: referrer.email });
  expect(mails.map((m) => m.subject)).toEqual([
    'We received your referral of Quinn Quester (Vandelay)',
    'Your referral of Quinn Quester (Vandelay) was accepted',
    'Your referral of Quinn Quester (Vandelay) was accepted',
  ]);
  expect(mails[2]!.messageId).toBe(mails[1]!.messageId);
  expect(mails[1]!.messageId).not.toBe(mails[0]!.messageId);

  const rows = outboxRows(db, referrer.id);
  expect(rows.map((r) => [r.status, r.attempts])).toEqual([
    ['delivered', 1],
    ['delivered', 2],
    ['delivered', 2],
    ['delivered', 1],
  ]);
  const resent = db.select().from(deliveryAttempts).where(eq(deliveryAttempts.outboxId, rows[1]!.id)).orderBy(deliveryAttempts.id).all();
  expect(resent.map((a) => [a.attempt, a.ok])).toEqual([
    [1, false],
    [2, true],
  ]);
  expect(resent[0]!.detail).toMatch(/claim expired/);
});

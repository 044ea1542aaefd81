import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TimelineNote } from '../../../connectors/connector.ts';
import { createSmtpEmailChannel, type EmailChannel } from '../../../src/notify/email.ts';
import { enqueueNotifications } from '../../../src/notify/enqueue.ts';
import { createNotifier } from '../../../src/notify/notifier.ts';
import type { Db } from '../../../src/store/db.ts';
import { deliveryAttempts, referrers } from '../../../src/store/schema.ts';
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
  JOURNEY_TOPICS,
  journeyIntents,
  outboxRows,
  program,
  silentLog,
  testClock,
  type ReferralFixture,
} from './fixtures.ts';

const PUBLIC_BASE_URL = 'http://referloop.test';

let smtp: SmtpTestServer;
let receiver: WebhookReceiver;
let email: EmailChannel;

beforeAll(async () => {
  [smtp, receiver] = await Promise.all([startSmtpServer(), startWebhookReceiver()]);
  email = createSmtpEmailChannel(smtp.url);
});

afterAll(async () => {
  email?.close();
  await Promise.all([smtp?.stop(), receiver?.close()]);
});

function notifierFor(db: Db, now: () => Date, notes: TimelineNote[] = []) {
  return createNotifier({
    store: storeOf(db),
    email,
    allowPrivateEndpoints: true,
    crm: async () => ({ addTimelineNote: async (note) => void notes.push(note), addCompanyNote: async () => undefined }),
    now,
    log: silentLog,
    publicBaseUrl: PUBLIC_BASE_URL,
  });
}

/** One referrer with a webhook endpoint on the receiver and one referral with its reward. */
function setUpReferrer(
  db: Db,
  installationId: string,
  who: { name: string; email: string; path: string; referee: [string, string, string] },
  extra: { emailOptOut?: boolean; crmPersonId?: string } = {},
) {
  const referrer = insertReferrer(db, installationId, { name: who.name, email: who.email, ...extra });
  const endpoint = insertWebhookEndpoint(db, referrer, receiver.url(who.path));
  receiver.trust(endpoint.secret);
  const [firstName, lastName, company] = who.referee;
  const referral = insertReferral(db, referrer, { firstName, lastName, company });
  const rewardId = insertReward(db, referral, 50_000);
  return { referrer, endpoint, referral, rewardId };
}

const webhooksTo = (path: string) => receiver.deliveries().filter((d) => d.path === path);

function expectedSubjects(referral: ReferralFixture): string[] {
  const who = `${referral.refereeName} (${referral.refereeCompany})`;
  return [
    `We received your referral of ${who}`,
    `Your referral of ${who} was accepted`,
    `We contacted ${who}`,
    `${who} is in our sales process`,
    `${who} became a customer`,
    `Your reward for referring ${who} was approved`,
    `Your reward for referring ${who} was paid`,
  ];
}

describe('a referral journey', () => {
  test('each moment reaches the referrer once by email, webhook and CRM note, in order; a replay sends nothing', async () => {
    const db = createTestDb();
    const clock = testClock();
    const installationId = insertInstallation(db);
    const ann = setUpReferrer(
      db,
      installationId,
      { name: 'Ann Partner', email: 'ann@partner.test', path: '/ann', referee: ['Bob', 'Buyer', 'Globex'] },
      { crmPersonId: '901' },
    );
    const notes: TimelineNote[] = [];
    const notifier = notifierFor(db, clock.now, notes);

    expect(await enqueueAll(db, journeyIntents(ann.referral, ann.rewardId, { crmNote: true }), clock.now())).toEqual([3, 3, 3, 3, 3, 3, 3]);
    expect(await notifier.runOnce()).toEqual({ delivered: 21, failed: 0, disabled: 0 });

    const mails = await smtp.waitForMessages(7, { to: ann.referrer.email });
    expect(mails.map((m) => m.subject)).toEqual(expectedSubjects(ann.referral));
    const unsubscribeUrl = `${PUBLIC_BASE_URL}/unsubscribe/${ann.referrer.id}?key=${ann.referrer.accessKey}`;
    for (const mail of mails) {
      expect(mail.from).toBe('Acme Partnerships <referrals@acme.test>');
      expect(mail.to).toContain('ann@partner.test');
      expect(mail.messageId).toMatch(/^<msg_[\w-]{32}@acme\.test>$/);
      expect(mail.listUnsubscribe).toBe(`<${unsubscribeUrl}>`);
      expect(mail.listUnsubscribePost).toBe('List-Unsubscribe=One-Click');
      expect(mail.text).toContain(unsubscribeUrl);
      expect(mail.html).toContain(`href="${unsubscribeUrl}"`);
      expect(mail.text).toContain('Acme Referral Program');
    }
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(7);
    expect(mails[3]!.text).toContain('Current stage: Contract sent.');
    expect(mails[5]!.text).toContain('Your reward of $500.00 for referring Bob Buyer (Globex) was approved.');
    expect(mails[5]!.text).toContain('It is due on 2026-04-01.');
    expect(mails[6]!.text).toContain('Payout reference: PAY-2026-0042.');

    const hooks = webhooksTo('/ann');
    expect(hooks.map((h) => h.body.type)).toEqual([...JOURNEY_TOPICS]);
    for (const hook of hooks) expect(hook.body.id).toBe(hook.webhookId);
    expect(hooks[3]!.body.data.referral).toMatchObject({ status: 'in_sales_process' });
    expect(hooks[4]!.body.data.deal).toEqual({ stage: 'Contract sent' });
    expect(hooks[5]!.body.data.reward).toEqual({
      id: ann.rewardId,
      status: 'approved',
      dueDate: '2026-04-01',
      amount: 500,
      currency: 'USD',
    });

    expect(notes.map((n) => n.title)).toEqual(expectedSubjects(ann.referral).map((s) => `Acme Referral Program: ${s}`));
    expect(notes.every((n) => n.person.objectType === 'contact' && n.person.id === '901')).toBe(true);
    expect(new Set(notes.map((n) => n.idempotencyKey)).size).toBe(7);

    const rows = outboxRows(db, ann.referrer.id);
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    expect(
      db
        .select()
        .from(deliveryAttempts)
        .all()
        .filter((a) => a.ok),
    ).toHaveLength(21);

    // The same events again (a replay): nothing new is written, nothing is sent.
    expect(await enqueueAll(db, journeyIntents(ann.referral, ann.rewardId, { crmNote: true }), clock.now())).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(await notifier.runOnce()).toEqual({ delivered: 0, failed: 0, disabled: 0 });
    expect(outboxRows(db, ann.referrer.id)).toHaveLength(21);
    expect(webhooksTo('/ann')).toHaveLength(7);
    expect(smtp.messages(ann.referrer.email)).toHaveLength(7);
    expect(notes).toHaveLength(7);
  });

  test('an unsubscribed referrer gets no email, the webhook still goes out', async () => {
    const db = createTestDb();
    const clock = testClock();
    const installationId = insertInstallation(db);
    const cora = setUpReferrer(
      db,
      installationId,
      { name: 'Cora Consultant', email: 'cora@consult.test', path: '/cora', referee: ['Dee', 'Decider', 'Initech'] },
      { emailOptOut: true },
    );
    const dan = setUpReferrer(db, installationId, {
      name: 'Dan Advisor',
      email: 'dan@advise.test',
      path: '/dan',
      referee: ['Fay', 'Founder', 'Hooli'],
    });
    const notifier = notifierFor(db, clock.now);

    await enqueueAll(db, journeyIntents(cora.referral, cora.rewardId).slice(0, 2), clock.now());
    // Dan unsubscribes after his message was queued and before it is sent: that counts too.
    await enqueueAll(db, journeyIntents(dan.referral, dan.rewardId).slice(0, 1), clock.now());
    db.update(referrers).set({ emailOptOut: true }).where(eq(referrers.id, dan.referrer.id)).run();

    expect(await notifier.runOnce()).toEqual({ delivered: 3, failed: 0, disabled: 0 });
    expect(webhooksTo('/cora').map((h) => h.body.type)).toEqual(['referral.received', 'referral.accepted']);
    expect(webhooksTo('/dan').map((h) => h.body.type)).toEqual(['referral.received']);
    const emailRows = [...outboxRows(db, cora.referrer.id), ...outboxRows(db, dan.referrer.id)].filter((r) => r.channel === 'email');
    expect(emailRows.map((r) => [r.status, r.lastError])).toEqual([
      ['suppressed', 'referrer unsubscribed from email'],
      ['suppressed', 'referrer unsubscribed from email'],
      ['suppressed', 'referrer unsubscribed from email'],
    ]);
    // A last message to someone else proves the SMTP server has reported everything sent before.
    const flush = {
      installationId,
      topic: 'account.eligible' as const,
      sourceKey: 'flush',
      recipient: { name: 'Flush', email: 'flush@acme.test' },
      data: {},
      program,
    };
    await enqueueAll(db, [flush], clock.now());
    await notifier.runOnce();
    await smtp.waitForMessages(1, { to: 'flush@acme.test' });
    expect(smtp.messages(cora.referrer.email)).toHaveLength(0);
    expect(smtp.messages(dan.referrer.email)).toHaveLength(0);
  });

  test('the referrer never sees the deal amount, internal notes or another referrer’s referral', async () => {
    const db = createTestDb();
    const clock = testClock();
    const installationId = insertInstallation(db);
    const gus = setUpReferrer(db, installationId, {
      name: 'Gus Partner',
      email: 'gus@partner.test',
      path: '/gus',
      referee: ['Hal', 'Holder', 'Umbrella'],
    });
    const ivy = setUpReferrer(db, installationId, {
      name: 'Ivy Partner',
      email: 'ivy@partner.test',
      path: '/ivy',
      referee: ['Jon', 'Secretname', 'Cyberdyne'],
    });
    const notifier = notifierFor(db, clock.now);

    await enqueueAll(db, [...journeyIntents(gus.referral, gus.rewardId), ...journeyIntents(ivy.referral, ivy.rewardId)], clock.now());
    await notifier.runOnce();

    const seenByGus = [
      ...(await smtp.waitForMessages(7, { to: gus.referrer.email })).flatMap((m) => [m.text, m.html]),
      ...webhooksTo('/gus').map((h) => h.raw),
    ];
    expect(seenByGus).toHaveLength(21);
    for (const content of seenByGus) {
      expect(content).not.toMatch(/25,000|25000|2500000/);
      expect(content).not.toMatch(/budget approved|CFO/);
      expect(content).not.toMatch(/Secretname|Cyberdyne|Ivy|ivy@/);
    }

    // A use case passing someone else's referral is a bug: refused, nothing written.
    const wrong = { ...journeyIntents(ivy.referral, ivy.rewardId)[1]!, referrerId: gus.referrer.id, sourceKey: 'wrong' };
    const store = storeOf(db);
    await expect(store.transaction(() => enqueueNotifications(store.outbox, wrong, clock.now()))).rejects.toThrow(
      /does not belong to referrer/,
    );
    expect(outboxRows(db).filter((r) => r.deliveryKey.startsWith('wrong:'))).toHaveLength(0);
  });

  test('a program that shows deal amounts and notes shows them', async () => {
    const db = createTestDb();
    const clock = testClock();
    const installationId = insertInstallation(db);
    const kim = setUpReferrer(db, installationId, {
      name: 'Kim Partner',
      email: 'kim@partner.test',
      path: '/kim',
      referee: ['Lou', 'Lead', 'Wayne'],
    });
    const open = { ...program, discretion: { showStage: true, showReward: true, showDealAmount: true, showInternalNotes: true } };
    const won = { ...journeyIntents(kim.referral, kim.rewardId)[4]!, program: open };

    await enqueueAll(db, [won], clock.now());
    await notifierFor(db, clock.now).runOnce();

    const [mail] = await smtp.waitForMessages(1, { to: kim.referrer.email });
    expect(mail!.text).toContain('Deal amount: $25,000.00.');
    expect(webhooksTo('/kim')[0]!.body.data.deal).toEqual({ stage: 'Contract sent', amount: 25_000, currency: 'USD' });
    expect(webhooksTo('/kim')[0]!.body.data.referral).toMatchObject({ notes: 'Internal: budget approved by CFO' });
  });

  test('internal notices go to the rep and the CS owner by email only, with what they need', async () => {
    const db = createTestDb();
    const clock = testClock();
    const installationId = insertInstallation(db);
    const max = setUpReferrer(db, installationId, {
      name: 'Max Outsider',
      email: 'max@outside.test',
      path: '/max',
      referee: ['Ned', 'Newco', 'Stark'],
    });
    const base = journeyIntents(max.referral, max.rewardId)[0]!;

    await enqueueAll(
      db,
      [
        {
          ...base,
          topic: 'referral.arrived_internal',
          sourceKey: `arrived:${max.referral.id}`,
          recipient: { name: 'Rita Rep', email: 'rita@acme.test' },
        },
        {
          installationId,
          topic: 'account.eligible',
          sourceKey: 'eligible:company-77',
          recipient: { name: 'Sam Success', email: 'sam@acme.test' },
          data: { account: { name: 'Stark Industries', reasons: ['NPS 10 ≥ 9', 'customer for 400 days ≥ 90'] } },
          program,
        },
      ],
      clock.now(),
    );
    expect(await notifierFor(db, clock.now).runOnce()).toEqual({ delivered: 2, failed: 0, disabled: 0 });

    const [toRep] = await smtp.waitForMessages(1, { to: 'rita@acme.test' });
    expect(toRep!.subject).toBe('New referral: Ned Newco (Stark) from Max Outsider');
    expect(toRep!.text).toContain('Max Outsider <max@outside.test>, who is not a contact in the CRM, referred Ned Newco (Stark).');
    expect(toRep!.text).toContain('Notes: Internal: budget approved by CFO');
    expect(toRep!.listUnsubscribe).toBeUndefined();
    const [toCs] = await smtp.waitForMessages(1, { to: 'sam@acme.test' });
    expect(toCs!.subject).toBe('Stark Industries is eligible to refer');
    expect(toCs!.text).toContain('- NPS 10 ≥ 9');
    expect(webhooksTo('/max')).toHaveLength(0);
  });
});

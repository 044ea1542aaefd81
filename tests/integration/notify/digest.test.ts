import { afterAll, beforeAll, expect, test } from 'vitest';
import { createSmtpEmailChannel } from '../../../src/notify/email.ts';
import { nextDigestAt } from '../../../src/notify/enqueue.ts';
import { createNotifier } from '../../../src/notify/notifier.ts';
import { startSmtpServer, type SmtpTestServer } from '../../support/smtp-server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts';
import {
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
  storeOf,
  testClock,
} from './fixtures.ts';

let smtp: SmtpTestServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  [smtp, receiver] = await Promise.all([startSmtpServer(), startWebhookReceiver()]);
});
afterAll(async () => {
  await Promise.all([smtp?.stop(), receiver?.close()]);
});

test('a digest referrer gets one daily summary of the held emails; webhooks are not held', async () => {
  const db = createTestDb();
  const clock = testClock();
  const installationId = insertInstallation(db);
  const referrer = insertReferrer(db, installationId, { name: 'Vic Digest', email: 'vic@digest.test', digest: true });
  const endpoint = insertWebhookEndpoint(db, referrer, receiver.url('/vic'));
  receiver.trust(endpoint.secret);
  const referral = insertReferral(db, referrer, { firstName: 'Wes', lastName: 'Winner', company: 'Tyrell' });
  const email = createSmtpEmailChannel(smtp.url);
  const notifier = createNotifier({
    store: storeOf(db),
    email,
    allowPrivateEndpoints: true,
    now: clock.now,
    log: silentLog,
    publicBaseUrl: 'http://referloop.test',
  });

  await enqueueAll(db, journeyIntents(referral, insertReward(db, referral, 50_000)).slice(0, 3), clock.now());
  expect(await notifier.runOnce()).toEqual({ delivered: 3, failed: 0, disabled: 0 });
  expect(receiver.deliveries().map((d) => d.body.type)).toEqual(['referral.received', 'referral.accepted', 'referral.contacted']);

  clock.advance(nextDigestAt(clock.now()).getTime() - clock.now().getTime() - 1);
  expect(await notifier.runOnce()).toEqual({ delivered: 0, failed: 0, disabled: 0 });
  clock.advance(1);
  expect(await notifier.runOnce()).toEqual({ delivered: 3, failed: 0, disabled: 0 });
  email.close();

  const [summary, ...more] = await smtp.waitForMessages(1, { to: referrer.email });
  expect(more).toHaveLength(0);
  expect(summary!.subject).toBe('Your Acme Referral Program referral summary: 3 updates');
  expect(summary!.text).toMatch(
    /\* We received your referral of Wes Winner \(Tyrell\)[\s\S]*\* Your referral of Wes Winner \(Tyrell\) was accepted[\s\S]*\* We contacted Wes Winner \(Tyrell\)/,
  );
  expect(summary!.listUnsubscribe).toBe(`<http://referloop.test/unsubscribe/${referrer.id}?key=${referrer.accessKey}>`);
  expect(outboxRows(db, referrer.id).every((r) => r.status === 'delivered')).toBe(true);
  expect(await notifier.runOnce()).toEqual({ delivered: 0, failed: 0, disabled: 0 });
});

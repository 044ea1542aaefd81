import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { createNotifier } from '../../../src/notify/notifier.ts';
import type { EmailPayload } from '../../../src/notify/topics.ts';
import type { Db } from '../../../src/store/db.ts';
import { auditLog, deliveryAttempts, webhookEndpoints } from '../../../src/store/schema.ts';
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
  program,
  silentLog,
  storeOf,
  testClock,
} from './fixtures.ts';

const HOUR = 60 * 60_000;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
beforeEach(() => {
  receiver.failAlways(false);
  receiver.failNext(0);
});
afterAll(() => receiver?.close());

function setUp(path: string) {
  const db = createTestDb();
  const clock = testClock();
  const installationId = insertInstallation(db);
  const referrer = insertReferrer(db, installationId, { name: 'Rae Reseller', email: `${path.slice(1)}@resell.test` });
  const endpoint = insertWebhookEndpoint(db, referrer, receiver.url(path));
  receiver.trust(endpoint.secret);
  const referral = insertReferral(db, referrer, { firstName: 'Sid', lastName: 'Signer', company: 'Soylent' });
  const intents = journeyIntents(referral, insertReward(db, referral, 50_000));
  // SMTP unset: emails are rendered into the delivery log.
  const notifier = createNotifier({
    store: storeOf(db),
    email: null,
    allowPrivateEndpoints: true,
    now: clock.now,
    log: silentLog,
    publicBaseUrl: 'http://referloop.test',
  });
  return { db, clock, referrer, endpoint, intents, notifier };
}

const webhookRows = (db: Db, referrerId: string) => outboxRows(db, referrerId).filter((r) => r.channel === 'webhook');

test('a failing endpoint is retried with growing delays, and recovers', async () => {
  const { db, clock, referrer, intents, notifier } = setUp('/flaky');
  receiver.failNext(2);
  await enqueueAll(db, intents.slice(0, 1), clock.now());

  expect(await notifier.runOnce()).toEqual({ delivered: 1, failed: 1, disabled: 0 });
  const [row] = webhookRows(db, referrer.id);
  const firstDelay = Date.parse(row!.nextAttemptAt) - clock.now().getTime();
  expect(firstDelay).toBeGreaterThanOrEqual(15_000);
  expect(firstDelay).toBeLessThanOrEqual(30_000);
  expect(await notifier.runOnce()).toEqual({ delivered: 0, failed: 0, disabled: 0 });

  clock.advance(firstDelay);
  expect(await notifier.runOnce()).toEqual({ delivered: 0, failed: 1, disabled: 0 });
  const secondDelay = Date.parse(webhookRows(db, referrer.id)[0]!.nextAttemptAt) - clock.now().getTime();
  expect(secondDelay).toBeGreaterThanOrEqual(30_000);
  expect(secondDelay).toBeLessThanOrEqual(60_000);

  clock.advance(secondDelay);
  expect(await notifier.runOnce()).toEqual({ delivered: 1, failed: 0, disabled: 0 });
  expect(receiver.deliveries().filter((d) => d.path === '/flaky')).toHaveLength(1);
  const attempts = db.select().from(deliveryAttempts).where(eq(deliveryAttempts.outboxId, row!.id)).all();
  expect(attempts.map((a) => [a.attempt, a.ok, a.detail])).toEqual([
    [1, false, 'HTTP 503'],
    [2, false, 'HTTP 503'],
    [3, true, 'HTTP 204'],
  ]);
  const endpoint = db.select().from(webhookEndpoints).get();
  expect(endpoint).toMatchObject({ status: 'enabled', failingSince: null });
});

test('an endpoint failing for 24 hours is disabled, its waiting messages dropped, and the admin told', async () => {
  const { db, clock, referrer, endpoint, intents, notifier } = setUp('/down');
  receiver.failAlways(true);
  const start = clock.now().toISOString();
  await enqueueAll(db, intents.slice(0, 1), clock.now());
  expect(await notifier.runOnce()).toEqual({ delivered: 1, failed: 1, disabled: 0 });

  let hours = 0;
  let disabled = 0;
  while (disabled === 0 && hours < 30) {
    clock.advance(HOUR);
    hours++;
    if (hours === 12) await enqueueAll(db, intents.slice(1, 2), clock.now());
    disabled += (await notifier.runOnce()).disabled;
  }
  expect(disabled).toBe(1);
  expect(hours).toBe(24);

  const stored = db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id)).get()!;
  expect(stored.status).toBe('disabled');
  expect(stored.disabledReason).toBe(`Every delivery failed since ${start}; last error: HTTP 503`);
  expect(webhookRows(db, referrer.id).map((r) => [r.topic, r.status])).toEqual([
    ['referral.received', 'failed'],
    ['referral.accepted', 'failed'],
  ]);
  expect(db.select().from(auditLog).where(eq(auditLog.action, 'webhook_endpoint.disabled')).all()).toMatchObject([
    { actor: 'notifier', subjectType: 'webhook_endpoint', subjectId: endpoint.id, after: { status: 'disabled' } },
  ]);

  // The admin notice: an email to the program's sender address, delivered in the same pass.
  const notice = outboxRows(db).find((r) => r.topic === 'webhook_endpoint.disabled')!;
  expect((notice.payload as EmailPayload).to).toEqual({ name: program.senderName, email: program.senderEmail });
  expect(notice.status).toBe('delivered');
  const [logged] = db.select().from(deliveryAttempts).where(eq(deliveryAttempts.outboxId, notice.id)).all();
  expect(logged!.detail).toMatch(/^delivered \(logged\)\nSubject: Webhook endpoint disabled: http:\/\/127\.0\.0\.1:\d+\/down/);
  expect(logged!.detail).toContain(`POST /api/v1/webhook-endpoints/${endpoint.id}/enable`);

  // A disabled endpoint gets nothing new.
  await enqueueAll(db, intents.slice(2, 3), clock.now());
  expect(webhookRows(db, referrer.id)).toHaveLength(2);
  expect(receiver.deliveries().filter((d) => d.path === '/down')).toHaveLength(0);
});

test('start() delivers in the background until stopped', async () => {
  const { db, clock, referrer, intents, notifier } = setUp('/background');
  const running = notifier.start(10);
  await enqueueAll(db, intents.slice(0, 2), clock.now());
  await vi.waitFor(() =>
    expect(outboxRows(db, referrer.id).map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']),
  );
  await running.stop();
  await enqueueAll(db, intents.slice(2, 3), clock.now());
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(
    outboxRows(db, referrer.id)
      .slice(4)
      .map((r) => r.status),
  ).toEqual(['pending', 'pending']);
});

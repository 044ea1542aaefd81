import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import type { EmailChannel, OutgoingEmail } from '../../../src/notify/email.ts';
import { createNotifier } from '../../../src/notify/notifier.ts';
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
  testClock,
} from './fixtures.ts';

/** An SMTP server that takes a moment per message and notes how many it was handed at once. */
function slowMailbox() {
  const received: OutgoingEmail[] = [];
  let inFlight = 0;
  let mostAtOnce = 0;
  const channel: EmailChannel = {
    async send(email) {
      inFlight++;
      mostAtOnce = Math.max(mostAtOnce, inFlight);
      await sleep(20);
      inFlight--;
      received.push(email);
      return { response: '250 queued' };
    },
    close() {},
  };
  return { channel, received, mostAtOnce: () => mostAtOnce };
}

/** Nine emails waiting (three steps to each of three referrers) and a notifier with `concurrency` lanes. */
async function nineEmailsFor(concurrency: number) {
  const db = createTestDb();
  const clock = testClock();
  const installationId = insertInstallation(db);
  for (const name of ['Ann', 'Bo', 'Cy']) {
    const referrer = insertReferrer(db, installationId, { name: `${name} Lane`, email: `${name.toLowerCase()}@lanes.test` });
    const referral = insertReferral(db, referrer, { firstName: name, lastName: 'Buyer', company: `${name} Co` });
    await enqueueAll(db, journeyIntents(referral, insertReward(db, referral, 50_000)).slice(0, 3), clock.now());
  }
  const mailbox = slowMailbox();
  const notifier = createNotifier({
    store: storeOf(db),
    email: mailbox.channel,
    now: clock.now,
    log: silentLog,
    publicBaseUrl: 'http://referloop.test',
    concurrency,
  });
  return { db, notifier, mailbox };
}

test.each([
  [1, 1],
  [4, 4],
])('with concurrency %i, %i emails are in flight at most, and each of nine is sent once', async (concurrency, most) => {
  const { db, notifier, mailbox } = await nineEmailsFor(concurrency);

  expect(await notifier.runOnce()).toEqual({ delivered: 9, failed: 0, disabled: 0 });
  expect(mailbox.mostAtOnce()).toBe(most);
  expect(new Set(mailbox.received.map((e) => e.messageId)).size).toBe(9);
  expect(outboxRows(db).every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
});

test('a run claims no more than its limit, however many lanes', async () => {
  const { db, notifier } = await nineEmailsFor(4);
  expect(await notifier.runOnce(2)).toEqual({ delivered: 2, failed: 0, disabled: 0 });
  expect(outboxRows(db).filter((r) => r.status === 'pending')).toHaveLength(7);
});

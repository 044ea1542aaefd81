/**
 * Guarantee: a poison event lands in dead-letter after the configured attempts while the rest
 * proceed; and only a poison event does.
 *
 * What "poison" can mean here: the worker reads records in batches (100 deals per call), so a CRM
 * answer can only fail a whole batch, never one record. A failure of one record exists only where
 * the records are applied one by one: `applyCrmChanges` guards each record, and a record that
 * throws spends an attempt of the inbox events that name it (dead after JOB_ATTEMPTS), while the
 * others are done. The poison here is CRM data a rep can really enter: a deal won with the
 * "someday" close date 9999-12-31, whose payout date (90 days later) falls past year 9999, so
 * the reward ledger refuses it every time.
 *
 * A CRM failure of a batch read is different: it is not the records' fault, and must not send
 * them to dead-letter (second test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../support/redis-server.ts';
import {
  closedWon,
  inboxByStatus,
  inboxSettled,
  scalar,
  seedReferrals,
  startPipeline,
  until,
  waitPushed,
  winDeal,
  type Pipeline,
} from './harness.ts';

const JOB_ATTEMPTS = 3;

interface DeadLetters {
  jobs: { id: string; name: string; attempts: number; error: string }[];
  events: { id: number; objectType: string; objectId: string; change: string; attempts: number; error: string | null }[];
}

describe.each(['embedded', 'bullmq'] as const)('%s queue', (kind) => {
  let redis: RedisServer | undefined;
  let p: Pipeline;

  beforeAll(async () => {
    redis = kind === 'bullmq' ? await startRedisServer() : undefined;
    p = await startPipeline({ ...(redis ? { redisUrl: redis.url } : {}), env: { JOB_ATTEMPTS: String(JOB_ATTEMPTS) } });
    p.startWorker();
  }, 30_000);

  afterAll(async () => {
    await p?.stop();
    await redis?.stop();
  });

  const deadLetters = async () => (await (await p.api('/dead-letters')).json()) as DeadLetters;
  /** Inbox events that name `dealId`, as their own record or as the other end of an association. */
  const eventsOf = (dealId: string) =>
    p.db
      .prepare(
        `SELECT id, status, attempts FROM inbox
          WHERE (object_type = 'deal' AND object_id = ?)
             OR EXISTS (SELECT 1 FROM json_each(inbox.related) r WHERE r.value ->> 'objectType' = 'deal' AND r.value ->> 'objectId' = ?)`,
      )
      .all(dealId, dealId) as { id: number; status: string; attempts: number }[];

  it(`dead-letters a deal that can never be applied after ${JOB_ATTEMPTS} attempts, while the other deals close won`, async () => {
    const ids = await seedReferrals(p, 7, `poison${kind}`, { personal: true });
    const contacts = await waitPushed(p, ids);
    await p.hubspot.state.webhooksIdle();
    await until(() => inboxSettled(p.db), 'the push synced', 20_000, p.workerOutput);
    const poisonReferral = ids[3]!;
    const healthy = ids.filter((id) => id !== poisonReferral);

    // The sales team wins every deal; one rep enters the close date as "someday".
    const deals = new Map(
      ids.map((id, i) => [
        id,
        winDeal(p.hubspot, contacts.get(id)!, `Account ${i}`, id === poisonReferral ? { closedate: '9999-12-31T00:00:00Z' } : {}),
      ]),
    );
    const poisonDeal = deals.get(poisonReferral)!;
    await p.hubspot.state.webhooksIdle();
    await until(
      () => closedWon(p.db, healthy) === healthy.length && eventsOf(poisonDeal).every((e) => e.status === 'dead'),
      `the healthy deals won and the poison deal's events dead`,
      30_000,
      () => `inbox ${JSON.stringify(inboxByStatus(p.db))}, poison events ${JSON.stringify(eventsOf(poisonDeal))}\n${p.workerOutput()}`,
    );

    const dead = await deadLetters();
    const poisonEvents = eventsOf(poisonDeal).map((e) => e.id);
    expect(poisonEvents.length).toBeGreaterThan(0);
    // Dead-letter holds exactly the poison deal's events, each after JOB_ATTEMPTS attempts, with the reason.
    expect(dead.events.map((e) => e.id).sort()).toEqual([...poisonEvents].sort());
    for (const event of dead.events) {
      expect(event).toMatchObject({ attempts: JOB_ATTEMPTS, error: expect.stringMatching(/date out of range/) });
    }
    // The record failed, not the job: the queue has nothing dead.
    expect(dead.jobs).toEqual([]);

    // Everything else went through: every other event done, every other referral won once.
    expect(inboxByStatus(p.db)).toEqual({ done: expect.any(Number), dead: poisonEvents.length });
    for (const id of healthy) expect(eventsOf(deals.get(id)!).every((e) => e.status === 'done')).toBe(true);
    expect(scalar(p.db, `SELECT count(*) FROM rewards WHERE referral_id != ?`, poisonReferral)).toBe(healthy.length);
    expect(p.db.prepare('SELECT status FROM referrals WHERE id = ?').pluck().get(poisonReferral)).toBe('accepted');
    expect(scalar(p.db, `SELECT count(*) FROM rewards WHERE referral_id = ?`, poisonReferral)).toBe(0);

    // The rep corrects the close date; HubSpot's webhook for it brings the referral home, and the
    // admin's retry of the dead events changes nothing more.
    p.hubspot.state.update('deals', poisonDeal, { closedate: '2026-03-31T12:00:00Z' });
    await until(() => closedWon(p.db, [poisonReferral]) === 1, 'the corrected deal won', 20_000, p.workerOutput);
    for (const event of dead.events) expect((await p.api(`/dead-letters/events/${event.id}/retry`, { method: 'POST' })).status).toBe(200);
    await until(() => eventsOf(poisonDeal).every((e) => e.status === 'done'), 'the retried events done', 20_000, p.workerOutput);
    expect((await deadLetters()).events).toEqual([]);
    const rewards = p.db.prepare('SELECT milestone, amount_cents AS cents FROM rewards WHERE referral_id = ?').all(poisonReferral);
    expect(rewards).toEqual([{ milestone: 'closed_won', cents: 250_000 }]);
  }, 60_000);

  it(`keeps healthy events out of dead-letter through a short CRM outage (${JOB_ATTEMPTS} × HTTP 500 on the deals batch read)`, async () => {
    // Fails today: a retryable CRM failure of the batch read (5xx, timeout) makes syncInstallation
    // spend an attempt of every claimed event (markFailed), so the outage dead-letters them all.
    const ids = await seedReferrals(p, 4, `outage${kind}`, { personal: true });
    const contacts = await waitPushed(p, ids);
    await p.hubspot.state.webhooksIdle();
    await until(() => inboxSettled(p.db), 'the push synced', 20_000, p.workerOutput);
    const deadBefore = (await deadLetters()).events.length;

    p.hubspot.faults.failNext(500, JOB_ATTEMPTS, undefined, '/crm/v3/objects/deals/batch/read');
    const deals = ids.map((id, i) => winDeal(p.hubspot, contacts.get(id)!, `Outage account ${i}`));
    await p.hubspot.state.webhooksIdle();
    await until(
      () => deals.every((d) => eventsOf(d).every((e) => e.status === 'done' || e.status === 'dead')),
      'every event of the outage settled',
      30_000,
      () => `inbox ${JSON.stringify(inboxByStatus(p.db))}\n${p.workerOutput()}`,
    );
    const dead = (await deadLetters()).events.slice(deadBefore);
    expect(dead.map((e) => `${e.objectType} ${e.objectId} ${e.change}: ${e.error}`)).toEqual([]);
    await until(() => closedWon(p.db, ids) === ids.length, 'the deals of the outage won', 20_000, p.workerOutput);
  }, 60_000);
});

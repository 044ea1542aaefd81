/** Which outbox message the notifier takes next, on a real SQLite database. */
import { describe, expect, it } from 'vitest';
import { outbox } from '../../../src/store/schema.ts';
import { outboxRepo } from '../../../src/store/outbox.repo.ts';
import { createTestDb, insertInstallation } from '../notify/fixtures.ts';

describe('outboxRepo.firstDue', () => {
  it('takes an expired claim first, then pending messages in due order, and nothing before it is due', () => {
    const db = createTestDb();
    const installationId = insertInstallation(db);
    const add = (key: string, fields: { status?: 'pending' | 'sending' | 'delivered'; nextAttemptAt?: string; leaseUntil?: string }) =>
      db
        .insert(outbox)
        .values({
          installationId,
          channel: 'crm',
          topic: 'referral.received',
          deliveryKey: key,
          payload: {},
          status: fields.status ?? 'pending',
          nextAttemptAt: fields.nextAttemptAt ?? '2026-11-22T09:00:00.000Z',
          leaseUntil: fields.leaseUntil ?? null,
          createdAt: '2026-11-22T09:00:00.000Z',
        })
        .returning({ id: outbox.id })
        .get().id;
    const retriedLater = add('retried-later', { nextAttemptAt: '2026-11-22T10:05:00.000Z' });
    const dueSecond = add('due-second', { nextAttemptAt: '2026-11-22T10:00:00.000Z' });
    const dueFirst = add('due-first', { nextAttemptAt: '2026-11-22T09:59:00.000Z' });
    const sameTimeAsSecond = add('same-time', { nextAttemptAt: '2026-11-22T10:00:00.000Z' });
    const expired = add('expired-claim', { status: 'sending', leaseUntil: '2026-11-22T10:00:30.000Z' });
    add('claimed', { status: 'sending', leaseUntil: '2026-11-22T10:10:00.000Z' });
    add('delivered', { status: 'delivered', nextAttemptAt: '2026-11-22T09:00:00.000Z' });
    const repo = outboxRepo(db);
    const at = '2026-11-22T10:01:00.000Z';
    const order: number[] = [];
    for (let next = repo.firstDue(at); next; next = repo.firstDue(at)) {
      order.push(next.id);
      repo.settle([next.id], { status: 'delivered', lastError: null, deliveredAt: at });
    }
    expect(order).toEqual([expired, dueFirst, dueSecond, sameTimeAsSecond]);
    expect(repo.firstDue('2026-11-22T10:06:00.000Z')?.id).toBe(retriedLater);
  });
});

describe('outboxRepo: step messages and the quiet period', () => {
  it('a held message is one still pending, never attempted and not yet due; only held ones can be cancelled', () => {
    const db = createTestDb();
    const installationId = insertInstallation(db);
    const at = '2026-11-22T10:00:00.000Z';
    const add = (topic: string, fields: { status: 'pending' | 'sending' | 'cancelled'; nextAttemptAt: string; attempts?: number }) =>
      db
        .insert(outbox)
        .values({
          installationId,
          referralId: 'ref_1',
          referrerId: 'rfr_1',
          channel: 'email',
          topic,
          deliveryKey: `${topic}:${fields.status}:${fields.nextAttemptAt}:${fields.attempts ?? 0}`,
          payload: {},
          status: fields.status,
          attempts: fields.attempts ?? 0,
          nextAttemptAt: fields.nextAttemptAt,
          createdAt: at,
        })
        .returning({ id: outbox.id })
        .get().id;
    const held = add('referral.contacted', { status: 'pending', nextAttemptAt: '2026-11-22T10:01:00.000Z' });
    const retrying = add('referral.contacted', { status: 'pending', nextAttemptAt: '2026-11-22T10:01:00.000Z', attempts: 1 });
    const claimed = add('referral.in_sales_process', { status: 'sending', nextAttemptAt: at });
    add('referral.contacted', { status: 'cancelled', nextAttemptAt: '2026-11-22T10:01:00.000Z' });
    add('reward.approved', { status: 'pending', nextAttemptAt: '2026-11-22T10:01:00.000Z' });
    const repo = outboxRepo(db);
    const topics = ['referral.contacted', 'referral.in_sales_process', 'referral.won', 'referral.lost'];

    expect(repo.stepMessagesOf('ref_1', 'email', 'rfr_1', topics, at).map((m) => [m.id, m.state])).toEqual([
      [held, 'held'],
      [retrying, 'told'],
      [claimed, 'told'],
    ]);
    expect(repo.stepMessagesOf('ref_1', 'crm', 'rfr_1', topics, at)).toEqual([]);

    // A notifier that claimed or tried a message since keeps it: cancelling is a no-op for it.
    repo.cancel([held, retrying, claimed].map((id) => ({ id, reason: 'superseded' })));
    const status = (id: number) => db.$client.prepare('SELECT status, last_error AS why FROM outbox WHERE id = ?').get(id);
    expect(status(held)).toEqual({ status: 'cancelled', why: 'superseded' });
    expect(status(retrying)).toEqual({ status: 'pending', why: null });
    expect(status(claimed)).toEqual({ status: 'sending', why: null });
  });
});

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

/**
 * The inbox on a real SQLite database: dedupe on store, and when a record's events fall due for a
 * sync (quiet for SYNC_COALESCE_MS, or waiting SYNC_MAX_DELAY_MS).
 */
import { describe, expect, it } from 'vitest';
import type { CrmEvent } from '../../../connectors/connector.ts';
import { inboxRepo } from '../../../src/store/inbox.repo.ts';
import { createTestDb, insertInstallation, testClock } from '../notify/fixtures.ts';

const window = { quietMs: 1_000, maxDelayMs: 10_000 };
const lease = { records: 100, leaseMs: 60_000 };

function event(objectId: string, key: string): CrmEvent {
  return { accountId: 'portal-1', eventKey: key, objectType: 'deal', objectId, change: 'updated', occurredAt: '2026-11-20T10:00:00.000Z' };
}

function setup() {
  const db = createTestDb();
  const installationId = insertInstallation(db);
  const clock = testClock(new Date('2026-11-22T09:00:00.000Z'));
  const inbox = inboxRepo(db);
  const store = (...events: CrmEvent[]) => inbox.store({ crm: 'hubspot', groups: [{ installationId, events }], now: clock.now() });
  const claim = () => inbox.claim(installationId, { ...lease, ...window, now: clock.now() });
  const nextDueAt = () => inbox.nextDueAt(installationId, { ...window, now: clock.now() });
  return { db, inbox, installationId, clock, store, claim, nextDueAt };
}

describe('inbox', () => {
  it('stores each event once: a redelivery is counted as a duplicate; events of unknown accounts are kept but never claimed', async () => {
    const { inbox, installationId, clock, claim } = setup();
    const first = await inbox.store({
      crm: 'hubspot',
      groups: [
        { installationId, events: [event('1', 'a'), event('2', 'b')] },
        { installationId: null, events: [{ ...event('3', 'c'), accountId: 'portal-unknown' }] },
      ],
      now: clock.now(),
    });
    expect(first).toEqual({ stored: 3, duplicates: 0 });
    expect(
      await inbox.store({
        crm: 'hubspot',
        groups: [{ installationId, events: [event('1', 'a'), event('2', 'b'), event('2', 'd')] }],
        now: clock.now(),
      }),
    ).toEqual({
      stored: 1,
      duplicates: 2,
    });
    clock.advance(window.quietMs);
    expect(claim().map((r) => r.eventKey)).toEqual(['a', 'b', 'd']);
  });

  it("keeps each event's own account, also when one group holds events of several", async () => {
    const { db, inbox, clock } = setup();
    const other = { ...event('7', 'x'), accountId: 'portal-2' };
    expect(
      await inbox.store({ crm: 'hubspot', groups: [{ installationId: null, events: [event('6', 'w'), other] }], now: clock.now() }),
    ).toEqual({ stored: 2, duplicates: 0 });
    expect(db.$client.prepare('SELECT account_id AS account FROM inbox ORDER BY id').all()).toEqual([
      { account: 'portal-1' },
      { account: 'portal-2' },
    ]);
  });

  it('holds the events while webhooks keep coming, then claims them all once they pause', async () => {
    const { clock, store, claim, nextDueAt } = setup();
    expect(nextDueAt()).toBeNull();
    await store(event('42', 'stage-1'));
    clock.advance(600);
    await store(event('43', 'created'));
    clock.advance(600);
    await store(event('42', 'stage-2'));
    clock.advance(600);
    expect(claim()).toEqual([]);
    expect(nextDueAt()?.toISOString()).toBe('2026-11-22T09:00:02.200Z');
    clock.advance(400);
    expect(claim().map((r) => r.eventKey)).toEqual(['stage-1', 'created', 'stage-2']);
    expect(nextDueAt()).toBeNull();
  });

  it('claims everything waiting once the oldest event has waited the maximum delay, however busy the webhooks', async () => {
    const { clock, store, claim, nextDueAt } = setup();
    for (let i = 0; i < 20; i++) {
      await store(event(String(i % 3), `change-${i}`));
      expect(claim(), `after ${i * 500} ms`).toEqual([]);
      clock.advance(500);
    }
    // The first event arrived 10 s ago; the webhooks never paused for 1 s.
    expect(nextDueAt()?.toISOString()).toBe('2026-11-22T09:00:10.000Z');
    expect(claim()).toHaveLength(20);
  });

  it("another installation's webhooks do not hold this one's back", async () => {
    const { db, inbox, clock, store, claim } = setup();
    const busy = insertInstallation(db);
    await store(event('1', 'here'));
    for (let i = 0; i < 4; i++) {
      clock.advance(300);
      await inbox.store({ crm: 'hubspot', groups: [{ installationId: busy, events: [event('2', `there-${i}`)] }], now: clock.now() });
    }
    expect(claim().map((r) => r.eventKey)).toEqual(['here']);
    expect(inbox.claim(busy, { ...lease, ...window, now: clock.now() })).toEqual([]);
  });

  it('claims at most the given number of records, whole', async () => {
    const { inbox, installationId, clock, store } = setup();
    await store(event('1', 'a'), event('2', 'b'), event('1', 'c'), event('3', 'd'));
    clock.advance(window.quietMs);
    const claimTwo = () => inbox.claim(installationId, { ...window, records: 2, leaseMs: lease.leaseMs, now: clock.now() });
    expect(claimTwo().map((r) => r.eventKey)).toEqual(['a', 'b', 'c']);
    expect(claimTwo().map((r) => r.eventKey)).toEqual(['d']);
  });

  it('a claim whose lease ran out is claimed again, with its attempt counted', async () => {
    const { clock, store, claim } = setup();
    await store(event('9', 'x'));
    clock.advance(window.quietMs);
    expect(claim()).toEqual([expect.objectContaining({ eventKey: 'x', attempts: 1 })]);
    expect(claim()).toEqual([]);
    clock.advance(lease.leaseMs + 1);
    expect(claim()).toEqual([expect.objectContaining({ eventKey: 'x', attempts: 2 })]);
  });
});

describe('group commit', () => {
  it('requests stored in the same turn share one transaction, each told its own counts', async () => {
    const { db, installationId, clock } = setup();
    // Count the transactions the repository runs.
    let transactions = 0;
    const transaction = db.$client.transaction.bind(db.$client);
    db.$client.transaction = ((fn: (...args: never[]) => unknown) => {
      const run = transaction(fn);
      return Object.assign((...args: never[]) => {
        transactions++;
        return run(...args);
      }, run);
    }) as typeof db.$client.transaction;
    const inbox = inboxRepo(db);
    const write = (...events: CrmEvent[]) => inbox.store({ crm: 'hubspot', groups: [{ installationId, events }], now: clock.now() });

    const results = await Promise.all([
      write(event('1', 'a'), event('2', 'b')),
      write(event('2', 'b'), event('3', 'c')),
      write(event('3', 'c')),
    ]);
    expect(results).toEqual([
      { stored: 2, duplicates: 0 },
      { stored: 1, duplicates: 1 },
      { stored: 0, duplicates: 1 },
    ]);
    expect(transactions).toBe(1);
    await write(event('4', 'd'));
    expect(transactions).toBe(2);
    expect(inbox.pendingCount(installationId)).toBe(4);
  });

  it('a request that cannot be stored fails alone; the others in its turn are committed', async () => {
    const { inbox, installationId, clock } = setup();
    const write = (...events: CrmEvent[]) => inbox.store({ crm: 'hubspot', groups: [{ installationId, events }], now: clock.now() });
    const broken = { ...event('9', 'broken'), objectType: null } as unknown as CrmEvent;
    const [good, bad, alsoGood] = await Promise.allSettled([
      write(event('1', 'a')),
      write(event('2', 'b'), broken),
      write(event('3', 'c')),
    ]);
    expect(good).toEqual({ status: 'fulfilled', value: { stored: 1, duplicates: 0 } });
    expect(bad).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringContaining('NOT NULL') }) });
    expect(alsoGood).toEqual({ status: 'fulfilled', value: { stored: 1, duplicates: 0 } });
    // Nothing of the failed request was kept, not even its valid event.
    expect(inbox.pendingCount(installationId)).toBe(2);
  });
});

describe('inbox retention', () => {
  const day = 86_400_000;
  const statuses = (db: ReturnType<typeof setup>['db']) =>
    db.$client.prepare('SELECT event_key AS key, status FROM inbox ORDER BY id').all() as { key: string; status: string }[];

  it('deletes processed events older than the cutoff, oldest first, and keeps waiting, dead and recent ones', async () => {
    const { db, inbox, clock, store, claim } = setup();
    // Day 0: five events; two are done, one dead, one still pending, one of an unknown account.
    await store(event('1', 'done-1'), event('2', 'done-2'), event('3', 'dead'), event('4', 'pending'));
    await inbox.store({
      crm: 'hubspot',
      groups: [{ installationId: null, events: [{ ...event('5', 'ignored'), accountId: 'portal-unknown' }] }],
      now: clock.now(),
    });
    clock.advance(window.quietMs);
    const claimed = claim();
    const byKey = (key: string) => claimed.find((r) => r.eventKey === key)!;
    inbox.markDone([byKey('done-1').id, byKey('done-2').id], clock.now());
    inbox.markFailed([byKey('dead')], 'poison', 1);
    inbox.release([byKey('pending')]);
    // Day 40: one more processed event, within any retention.
    clock.advance(40 * day);
    await store(event('6', 'recent'));
    clock.advance(window.quietMs);
    const second = claim();
    inbox.markDone(
      second.filter((r) => r.eventKey === 'recent').map((r) => r.id),
      clock.now(),
    );
    inbox.release(second.filter((r) => r.eventKey === 'pending'));

    const cutoff = new Date(clock.now().getTime() - 30 * day);
    expect(inbox.prune(cutoff, { limit: 1, page: 2 })).toBe(1);
    expect(statuses(db).map((r) => r.key)).toEqual(['done-2', 'dead', 'pending', 'ignored', 'recent']);
    expect(inbox.prune(cutoff, { limit: 100, page: 2 })).toBe(2);
    expect(statuses(db)).toEqual([
      { key: 'dead', status: 'dead' },
      { key: 'pending', status: 'pending' },
      { key: 'recent', status: 'done' },
    ]);
    expect(inbox.prune(cutoff, { limit: 100, page: 2 })).toBe(0);
    expect(inbox.dead().map((r) => r.eventKey)).toEqual(['dead']);
  });
});

describe('inbox at volume', () => {
  it('claims and settles more events at once than SQLite takes parameters in one statement', async () => {
    const { inbox, installationId, clock, store, claim } = setup();
    const events = Array.from({ length: 33_000 }, (_, i) => event(String(i % 50), `bulk-${i}`));
    await store(...events);
    clock.advance(window.quietMs);
    const rows = claim();
    expect(rows).toHaveLength(33_000);
    inbox.extendLease(
      rows.map((r) => r.id),
      new Date(clock.now().getTime() + lease.leaseMs),
    );
    inbox.markDone(
      rows.map((r) => r.id),
      clock.now(),
    );
    expect(inbox.pendingCount(installationId)).toBe(0);
  });
});

/**
 * The inbox repository on PostgreSQL answers as on SQLite, call for call (the same calls on a fresh
 * SQLite store and on a PostgreSQL store emptied before each test), and its claims hold when
 * several workers claim at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmEvent } from '../../../../connectors/connector.ts';
import type { Store } from '../../../../src/store/contract.ts';
import { type Pair, type PostgresSide, both, dumpBoth, openPostgresSide, pairWith } from './pg4-support.ts';

let side: PostgresSide;
beforeAll(async () => {
  side = await openPostgresSide();
});
afterAll(async () => {
  await side?.close();
});

const window = { quietMs: 1_000, maxDelayMs: 10_000 };
const T0 = Date.parse('2026-11-22T09:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

function event(objectId: string, key: string, extra: Partial<CrmEvent> = {}): CrmEvent {
  return {
    accountId: 'portal-1',
    eventKey: key,
    objectType: 'deal',
    objectId,
    change: 'updated',
    occurredAt: '2026-11-20T10:00:00.000Z',
    ...extra,
  };
}

const put = (store: Store, installationId: string | null, events: CrmEvent[], now: Date) =>
  store.inbox.store({ crm: 'hubspot', groups: [{ installationId, events }], now });

async function expectSame<T>(pair: Pair, fn: (store: Store) => Promise<T>): Promise<T> {
  const [a, b] = await both(pair, fn);
  expect(b).toEqual(a);
  return a;
}

async function expectSameRows(pair: Pair): Promise<void> {
  const [a, b] = await dumpBoth(pair, 'inbox');
  expect(b).toEqual(a);
}

describe('PostgreSQL inbox, as SQLite', () => {
  it('store: one row per identity, duplicates counted within and across calls, unknown accounts ignored, related kept as JSON', async () => {
    const pair = await pairWith(side);
    const first = await expectSame(pair, (s) =>
      s.inbox.store({
        crm: 'hubspot',
        groups: [
          {
            installationId: 'inst_a',
            events: [
              event('1', 'a', { related: [{ objectType: 'contact', objectId: 'c1' }] }),
              event('2', 'b', { related: [] }),
              event('1', 'a'), // the same identity twice in one request
            ],
          },
          { installationId: null, events: [event('3', 'c', { accountId: 'portal-unknown' })] },
          { installationId: 'inst_b', events: [] },
        ],
        now: at(0),
      }),
    );
    expect(first).toEqual({ stored: 3, duplicates: 1 });
    const again = await expectSame(pair, (s) => put(s, 'inst_a', [event('2', 'b'), event('4', 'd'), event('4', 'd')], at(5)));
    expect(again).toEqual({ stored: 1, duplicates: 2 });
    // Another CRM with the same account and key is another event.
    await expectSame(pair, (s) =>
      s.inbox.store({ crm: 'salesforce', groups: [{ installationId: 'inst_a', events: [event('1', 'a')] }], now: at(6) }),
    );
    expect(await expectSame(pair, (s) => s.inbox.store({ crm: 'hubspot', groups: [], now: at(7) }))).toEqual({ stored: 0, duplicates: 0 });
    await expectSameRows(pair);
    const [rows] = await dumpBoth(pair, 'inbox');
    expect(rows).toMatchObject([
      { id: 1, objectId: '1', status: 'pending', related: [{ objectType: 'contact', objectId: 'c1' }], receivedAt: at(0).toISOString() },
      { id: 2, objectId: '2', related: [] },
      // A duplicate spends an id on both (SQLite's AUTOINCREMENT, PostgreSQL's identity).
      { id: 4, status: 'ignored', installationId: null, related: null },
      { id: 6, objectId: '4' },
      { id: 8, crm: 'salesforce' },
    ]);
  });

  it('claim and nextDueAt: nothing before the quiet window or the longest wait, then the oldest records with all their events', async () => {
    const pair = await pairWith(side);
    const options = (now: Date, records = 2) => ({ records, leaseMs: 60_000, ...window, now });
    expect(await expectSame(pair, (s) => s.inbox.nextDueAt('inst_a', { ...window, now: at(0) }))).toBeNull();
    expect(await expectSame(pair, (s) => s.inbox.claim('inst_a', options(at(0))))).toEqual([]);

    await expectSame(pair, (s) => put(s, 'inst_a', [event('d1', 'k1'), event('d2', 'k2')], at(0)));
    await expectSame(pair, (s) => put(s, 'inst_b', [event('x', 'kb', { accountId: 'portal-2' })], at(0)));
    await expectSame(pair, (s) => put(s, 'inst_a', [event('d1', 'k3'), event('d3', 'k4'), event('d2', 'k5'), event('d4', 'k6')], at(500)));
    expect(await expectSame(pair, (s) => s.inbox.nextDueAt('inst_a', { ...window, now: at(600) }))).toEqual(at(1_500));
    expect(await expectSame(pair, (s) => s.inbox.claim('inst_a', options(at(1_499))))).toEqual([]);

    const claimed = await expectSame(pair, (s) => s.inbox.claim('inst_a', options(at(1_500))));
    // Records d1 and d2 (the oldest two), every event of each, in id order, one attempt spent.
    expect(claimed.map((r) => [r.id, r.objectId, r.attempts, r.status])).toEqual([
      [1, 'd1', 1, 'pending'],
      [2, 'd2', 1, 'pending'],
      [4, 'd1', 1, 'pending'],
      [6, 'd2', 1, 'pending'],
    ]);
    await expectSameRows(pair);
    // The rest, then nothing while the lease holds.
    const rest = await expectSame(pair, (s) => s.inbox.claim('inst_a', options(at(1_600), 10)));
    expect(rest.map((r) => r.objectId)).toEqual(['d3', 'd4']);
    expect(await expectSame(pair, (s) => s.inbox.claim('inst_a', options(at(2_000), 10)))).toEqual([]);
    expect(await expectSame(pair, (s) => s.inbox.nextDueAt('inst_a', { ...window, now: at(2_000) }))).toBeNull();
    // A lease that ran out makes its events waiting again: claimed anew, a second attempt spent.
    const afterLease = at(1_600 + 60_001);
    expect(await expectSame(pair, (s) => s.inbox.nextDueAt('inst_a', { ...window, now: afterLease }))).toEqual(at(1_500));
    const again = await expectSame(pair, (s) => s.inbox.claim('inst_a', options(afterLease, 1)));
    expect(again.map((r) => [r.objectId, r.attempts, r.status])).toEqual([
      ['d1', 2, 'processing'],
      ['d1', 2, 'processing'],
    ]);
    await expectSameRows(pair);
  });

  it('claim: a steady trickle is claimed once the oldest event has waited the longest wait', async () => {
    const pair = await pairWith(side);
    for (let ms = 0; ms <= 10_000; ms += 800) {
      await expectSame(pair, (s) => put(s, 'inst_a', [event(`d${ms}`, `k${ms}`)], at(ms)));
    }
    expect(await expectSame(pair, (s) => s.inbox.nextDueAt('inst_a', { ...window, now: at(9_700) }))).toEqual(at(10_000));
    const claimed = await expectSame(pair, (s) => s.inbox.claim('inst_a', { records: 100, leaseMs: 1_000, ...window, now: at(10_000) }));
    expect(claimed).toHaveLength(13);
  });

  it('leases, done, failed, release, dead letters and their retry', async () => {
    const pair = await pairWith(side);
    await expectSame(pair, (s) => put(s, 'inst_a', [event('1', 'a'), event('2', 'b'), event('3', 'c'), event('4', 'd')], at(0)));
    await expectSame(pair, (s) => put(s, 'inst_b', [event('9', 'z', { accountId: 'portal-2' })], at(0)));
    const claim = (s: Store, now: Date) => s.inbox.claim('inst_a', { records: 10, leaseMs: 1_000, ...window, now });
    const rows = await expectSame(pair, (s) => claim(s, at(2_000)));
    expect(rows).toHaveLength(4);
    // Extends only rows still processing; an empty list is nothing.
    await expectSame(pair, (s) => s.inbox.markDone([rows[0]!.id], at(2_100)));
    await expectSame(pair, (s) => s.inbox.extendLease([rows[0]!.id, rows[1]!.id], at(50_000)));
    await expectSame(pair, (s) => s.inbox.extendLease([], at(60_000)));
    await expectSameRows(pair);
    // Two attempts allowed: rows at one attempt retry, rows at two are dead.
    await expectSame(pair, (s) => s.inbox.markFailed([rows[2]!], 'boom once', 2));
    await expectSame(pair, (s) => s.inbox.release([rows[3]!]));
    await expectSame(pair, (s) => s.inbox.markFailed([], 'nothing', 2));
    await expectSame(pair, (s) => s.inbox.release([]));
    await expectSame(pair, (s) => s.inbox.markDone([], at(0)));
    const second = await expectSame(pair, (s) => claim(s, at(60_000)));
    // rows[1]'s lease (extended to 50 s) ran out; rows[2] was failed once; rows[3] released without spending an attempt.
    expect(second.map((r) => [r.objectId, r.attempts])).toEqual([
      ['2', 2],
      ['3', 2],
      ['4', 1],
    ]);
    await expectSame(pair, (s) => s.inbox.markFailed(second, 'boom twice', 2));
    await expectSameRows(pair);
    const dead = await expectSame(pair, (s) => s.inbox.dead());
    expect(dead.map((r) => [r.objectId, r.lastError, r.leaseUntil])).toEqual([
      ['2', 'boom twice', null],
      ['3', 'boom twice', null],
    ]);
    expect(await expectSame(pair, (s) => s.inbox.dead('inst_b'))).toEqual([]);
    expect(await expectSame(pair, (s) => s.inbox.dead('inst_a'))).toEqual(dead);
    expect(await expectSame(pair, (s) => s.inbox.retryDead(dead[0]!.id))).toBe(true);
    expect(await expectSame(pair, (s) => s.inbox.retryDead(dead[0]!.id))).toBe(false);
    expect(await expectSame(pair, (s) => s.inbox.retryDead(rows[0]!.id))).toBe(false);
    expect(await expectSame(pair, (s) => s.inbox.retryDead(9_999))).toBe(false);
    expect(await expectSame(pair, (s) => s.inbox.pendingCount())).toBe(3);
    expect(await expectSame(pair, (s) => s.inbox.pendingCount('inst_a'))).toBe(2);
    expect(await expectSame(pair, (s) => s.inbox.pendingCount('inst_none'))).toBe(0);
    await expectSameRows(pair);
  });

  it('sweeper and replay: installations with pending events, the latest arrival, requeue since', async () => {
    const pair = await pairWith(side);
    await expectSame(pair, (s) => put(s, 'inst_b', [event('1', 'a', { accountId: 'p2' })], at(0)));
    await expectSame(pair, (s) => put(s, 'inst_a', [event('2', 'b')], at(1_000)));
    await expectSame(pair, (s) => put(s, null, [event('3', 'c', { accountId: 'p9' })], at(2_000)));
    await expectSame(pair, (s) => put(s, 'inst_c', [event('4', 'd', { accountId: 'p3' })], at(3_000)));
    const [a, b] = await both(pair, (s) => s.inbox.installationsWithPending(at(5_000)));
    expect([...b].sort()).toEqual([...a].sort());
    expect([...a].sort()).toEqual(['inst_a', 'inst_b', 'inst_c']);
    expect(await expectSame(pair, (s) => s.inbox.lastReceivedAt('inst_a'))).toBe(at(1_000).toISOString());
    expect(await expectSame(pair, (s) => s.inbox.lastReceivedAt('inst_none'))).toBeNull();

    // inst_c's event is done, inst_b's dead; a claimed one still leased is not pending for the sweeper.
    const claimC = await expectSame(pair, (s) => s.inbox.claim('inst_c', { records: 10, leaseMs: 60_000, ...window, now: at(20_000) }));
    await expectSame(pair, (s) =>
      s.inbox.markDone(
        claimC.map((r) => r.id),
        at(20_000),
      ),
    );
    const claimB = await expectSame(pair, (s) => s.inbox.claim('inst_b', { records: 10, leaseMs: 60_000, ...window, now: at(20_000) }));
    await expectSame(pair, (s) => s.inbox.markFailed(claimB, 'gone', 1));
    await expectSame(pair, (s) => s.inbox.claim('inst_a', { records: 10, leaseMs: 60_000, ...window, now: at(20_000) }));
    expect(await expectSame(pair, (s) => s.inbox.installationsWithPending(at(20_001)))).toEqual([]);
    expect(await expectSame(pair, (s) => s.inbox.installationsWithPending(at(80_001)))).toEqual(['inst_a']);

    expect(await expectSame(pair, (s) => s.inbox.requeueSince(at(0), 'inst_c'))).toBe(1);
    expect(await expectSame(pair, (s) => s.inbox.requeueSince(at(0), 'inst_c'))).toBe(0);
    expect(await expectSame(pair, (s) => s.inbox.requeueSince(at(1)))).toBe(0); // inst_b's dead event arrived at 0
    expect(await expectSame(pair, (s) => s.inbox.requeueSince(at(0)))).toBe(1);
    await expectSameRows(pair);
  });

  it('prune: done and ignored events before the cutoff, oldest first, up to the limit, stopping at the first recent one', async () => {
    const pair = await pairWith(side);
    // ids 1–6 at 0 s, 7 at 100 s, 8 at 0 s again (older, but after a recent one in id order).
    await expectSame(pair, (s) =>
      put(
        s,
        'inst_a',
        ['1', '2', '3', '4'].map((n) => event(n, `k${n}`)),
        at(0),
      ),
    );
    await expectSame(pair, (s) => put(s, null, [event('5', 'k5', { accountId: 'p9' })], at(0)));
    await expectSame(pair, (s) => put(s, 'inst_a', [event('6', 'k6')], at(0)));
    await expectSame(pair, (s) => put(s, 'inst_a', [event('7', 'k7')], at(100_000)));
    await expectSame(pair, (s) => put(s, null, [event('8', 'k8', { accountId: 'p9' })], at(0)));
    const rows = await expectSame(pair, (s) => s.inbox.claim('inst_a', { records: 10, leaseMs: 1_000, ...window, now: at(200_000) }));
    const byObject = new Map(rows.map((r) => [r.objectId, r]));
    await expectSame(pair, (s) =>
      s.inbox.markDone(
        ['1', '2', '4', '7'].map((n) => byObject.get(n)!.id),
        at(200_000),
      ),
    );
    await expectSame(pair, (s) => s.inbox.markFailed([byObject.get('3')!], 'dead', 1));
    // 6 stays processing (leased). Done 1, 2, 4 and ignored 5 are old enough; 7 is recent and ends
    // the walk after its page (8, in that page and old enough, goes too).
    expect(await expectSame(pair, (s) => s.inbox.prune(at(50_000), { limit: 2, page: 2 }))).toBe(2);
    await expectSameRows(pair);
    expect(await expectSame(pair, (s) => s.inbox.prune(at(50_000), { limit: 100, page: 2 }))).toBe(3);
    expect(await expectSame(pair, (s) => s.inbox.prune(at(50_000), { limit: 100 }))).toBe(0);
    await expectSameRows(pair);
    const [left] = await dumpBoth(pair, 'inbox');
    expect((left as { objectId: string }[]).map((r) => r.objectId)).toEqual(['3', '6', '7']);
    expect(await expectSame(pair, (s) => s.inbox.prune(at(300_000), { limit: 100 }))).toBe(1);
  });
});

describe('PostgreSQL inbox under concurrency', () => {
  it('two workers claiming one installation at once take disjoint events, each record whole, and together all of them', async () => {
    await side.reset();
    const store = side.store;
    const events = Array.from({ length: 1_200 }, (_, i) => event(`d${i % 300}`, `k${i}`));
    // Stored by several requests at once, half of them redeliveries: each event once.
    const results = await Promise.all(
      [0, 1, 2, 3].map((n) => put(store, 'inst_a', n % 2 ? events.slice(0, 600) : events.slice(600).concat(events.slice(0, 600)), at(n))),
    );
    expect(results.reduce((sum, r) => sum + r.stored, 0)).toBe(1_200);
    expect(results.reduce((sum, r) => sum + r.stored + r.duplicates, 0)).toBe(600 + 1_200 + 600 + 1_200);

    const claimed = new Map<number, number>();
    const recordOwner = new Map<string, number>();
    const now = at(60_000);
    for (let round = 0; round < 20 && claimed.size < 1_200; round++) {
      const batches = await Promise.all([0, 1].map(() => store.inbox.claim('inst_a', { records: 40, leaseMs: 600_000, ...window, now })));
      batches.forEach((rows, worker) => {
        for (const r of rows) {
          expect(claimed.has(r.id)).toBe(false);
          claimed.set(r.id, worker);
          const owner = recordOwner.get(r.objectId);
          expect(owner === undefined || owner === round * 2 + worker).toBe(true);
          recordOwner.set(r.objectId, round * 2 + worker);
        }
      });
    }
    expect(claimed.size).toBe(1_200);
    // Both workers took their share: the second passed over what the first held.
    expect(new Set(claimed.values())).toEqual(new Set([0, 1]));
    expect(await store.inbox.pendingCount('inst_a')).toBe(1_200);
    expect(await store.inbox.claim('inst_a', { records: 40, leaseMs: 600_000, ...window, now })).toEqual([]);
  });

  it('a claim passes over what an open claim holds instead of waiting for it', async () => {
    await side.reset();
    const store = side.store;
    await put(
      store,
      'inst_a',
      Array.from({ length: 100 }, (_, i) => event(`d${i % 50}`, `k${i}`)),
      at(0),
    );
    const options = { records: 10, leaseMs: 60_000, ...window, now: at(20_000) };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held: Awaited<ReturnType<Store['inbox']['claim']>> | undefined;
    // A claim whose transaction stays open (the test holds it; the app never would).
    const holder = store.transaction(async () => {
      held = await store.inbox.claim('inst_a', options);
      await gate;
    });
    while (!held) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await store.inbox.claim('inst_a', options);
    release();
    await holder;
    expect(held.map((r) => r.objectId)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `d${i}`),
      ...Array.from({ length: 10 }, (_, i) => `d${i}`),
    ]);
    expect(second.map((r) => r.objectId)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `d${i + 10}`),
      ...Array.from({ length: 10 }, (_, i) => `d${i + 10}`),
    ]);
    expect(await store.inbox.pendingCount('inst_a')).toBe(100);
  });

  it('a claim inside a caller transaction joins it (a savepoint) and is undone with it', async () => {
    await side.reset();
    const store = side.store;
    await put(store, 'inst_a', [event('1', 'a')], at(0));
    const failure = new Error('rolled back');
    await expect(
      store.transaction(async () => {
        const rows = await store.inbox.claim('inst_a', { records: 10, leaseMs: 1_000, ...window, now: at(20_000) });
        expect(rows).toHaveLength(1);
        throw failure;
      }),
    ).rejects.toBe(failure);
    const rows = await store.inbox.claim('inst_a', { records: 10, leaseMs: 1_000, ...window, now: at(20_000) });
    expect(rows.map((r) => r.attempts)).toEqual([1]);
  });
});

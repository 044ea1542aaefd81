/**
 * The outbox repository on PostgreSQL answers as on SQLite, call for call (the same calls on a
 * fresh SQLite store and on a PostgreSQL store emptied before each test), and two notifiers
 * claiming at once never take the same message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/contract.ts';
import type { NewOutboxRow } from '../../../../src/store/outbox.repo.ts';
import {
  type Pair,
  type PostgresSide,
  both,
  dumpBoth,
  openPostgresSide,
  pairWith,
  seedEndpoint,
  seedInstallation,
  seedReferral,
  seedReferrer,
  seedReward,
} from './pg4-support.ts';

let side: PostgresSide;
beforeAll(async () => {
  side = await openPostgresSide();
});
afterAll(async () => {
  await side?.close();
});

const AT = '2026-11-22T10:00:00.000Z';
const later = (minutes: number) => new Date(Date.parse(AT) + minutes * 60_000).toISOString();

function row(deliveryKey: string, fields: Partial<NewOutboxRow> = {}): NewOutboxRow {
  return {
    installationId: 'inst_a',
    channel: 'crm',
    topic: 'referral.received',
    deliveryKey,
    payload: { key: deliveryKey },
    status: 'pending',
    nextAttemptAt: AT,
    createdAt: AT,
    ...fields,
  };
}

async function expectSame<T>(pair: Pair, fn: (store: Store) => Promise<T>): Promise<T> {
  const [a, b] = await both(pair, fn);
  expect(b).toEqual(a);
  return a;
}

async function expectSameRows(pair: Pair, table: 'outbox' | 'deliveryAttempts' = 'outbox'): Promise<void> {
  const [a, b] = await dumpBoth(pair, table);
  expect(b).toEqual(a);
}

describe('PostgreSQL outbox, as SQLite', () => {
  it('add: new delivery keys only, in order, within and across calls; payload JSON kept as given; enqueuedBefore by key prefix', async () => {
    const pair = await pairWith(side);
    const payload = {
      amount: { cents: 123_456_789_012, currency: 'JPY' },
      list: [1, 'two', null, { deep: true }],
      text: 'café ☕',
      none: null,
    };
    expect(await expectSame(pair, (s) => s.outbox.add([]))).toBe(0);
    expect(
      await expectSame(pair, (s) =>
        s.outbox.add([
          row('step:1:email', { channel: 'email', referralId: 'ref_1', referrerId: 'rfr_1', payload }),
          row('step:1:crm'),
          row('step:1:email', { topic: 'duplicate in the same call' }),
          row('step:10:crm', { lastError: 'not worth telling', status: 'cancelled' }),
        ]),
      ),
    ).toBe(3);
    expect(await expectSame(pair, (s) => s.outbox.add([row('step:1:crm'), row('step:2:crm')]))).toBe(1);
    await expectSameRows(pair);
    const [rows] = await dumpBoth(pair, 'outbox');
    expect(rows).toMatchObject([
      { deliveryKey: 'step:1:email', payload, referralId: 'ref_1', attempts: 0, leaseUntil: null, deliveredAt: null },
      { deliveryKey: 'step:1:crm', referralId: null, referrerId: null, lastError: null },
      { deliveryKey: 'step:10:crm', status: 'cancelled', lastError: 'not worth telling' },
      { deliveryKey: 'step:2:crm' },
    ]);
    expect(await expectSame(pair, (s) => s.outbox.enqueuedBefore('step:1'))).toBe(true);
    expect(await expectSame(pair, (s) => s.outbox.enqueuedBefore('step:10'))).toBe(true);
    expect(await expectSame(pair, (s) => s.outbox.enqueuedBefore('step:2'))).toBe(true);
    // Keys of 'step' are 'step:…' (all of them here); a prefix that ends short of the ':' is another source key.
    expect(await expectSame(pair, (s) => s.outbox.enqueuedBefore('step'))).toBe(true);
    expect(await expectSame(pair, (s) => s.outbox.enqueuedBefore('ste'))).toBe(false);
    expect(await expectSame(pair, (s) => s.outbox.enqueuedBefore('step:3'))).toBe(false);
    expect(await expectSame(pair, (s) => s.outbox.enqueuedBefore('step:1:email'))).toBe(false);
  });

  it('who a message is for: referrer of an installation, whether it was enqueued before, enabled endpoints in creation order, owners of referrals and rewards, email preferences', async () => {
    const pair = await pairWith(side);
    await seedInstallation(pair, 'inst_a');
    await seedInstallation(pair, 'inst_b');
    await seedReferrer(pair, 'inst_a', 'rfr_1', { digest: true });
    await seedReferrer(pair, 'inst_a', 'rfr_2', { emailOptOut: true });
    await seedReferral(pair, 'inst_a', 'rfr_1', 'ref_1');
    await seedReward(pair, 'inst_a', 'ref_1', 'rfr_1', 'rwd_1');
    await seedEndpoint(pair, 'inst_a', 'rfr_1', 'whe_b', { createdAt: '2026-11-20T09:00:00.000Z' });
    await seedEndpoint(pair, 'inst_a', 'rfr_1', 'whe_c', { createdAt: '2026-11-20T08:30:00.000Z' });
    await seedEndpoint(pair, 'inst_a', 'rfr_1', 'whe_a', { createdAt: '2026-11-20T09:00:00.000Z' });
    await seedEndpoint(pair, 'inst_a', 'rfr_1', 'whe_off', { status: 'disabled', createdAt: '2026-11-20T07:00:00.000Z' });

    await both(pair, (s) => s.outbox.add([row('step:1:email:rfr_1')]));
    const facts = (referrerId: string, about: { sourceKey?: string; referralId?: string; rewardId?: string }, installationId = 'inst_a') =>
      expectSame(pair, (s) =>
        s.outbox.referrerMessageFacts(installationId, referrerId, {
          sourceKey: about.sourceKey ?? 'step:2',
          referralId: about.referralId ?? null,
          rewardId: about.rewardId ?? null,
        }),
      );
    const own = await facts('rfr_1', { sourceKey: 'step:1', referralId: 'ref_1', rewardId: 'rwd_1' });
    expect(own?.referrer).toMatchObject({ id: 'rfr_1', installationId: 'inst_a', digest: true, emailOptOut: false, company: null });
    expect(own).toMatchObject({
      enqueuedBefore: true,
      endpointIds: ['whe_c', 'whe_a', 'whe_b'],
      referrerOfReferral: 'rfr_1',
      referrerOfReward: 'rfr_1',
    });
    expect(await facts('rfr_1', { sourceKey: 'step' })).toMatchObject({ enqueuedBefore: true });
    expect(await facts('rfr_1', { sourceKey: 'ste' })).toMatchObject({ enqueuedBefore: false });
    expect(await facts('rfr_1', { sourceKey: 'step:1:crm' })).toMatchObject({ enqueuedBefore: false });
    expect(await facts('rfr_2', { referralId: 'ref_1', rewardId: 'rwd_1' })).toMatchObject({
      enqueuedBefore: false,
      referrer: { id: 'rfr_2', emailOptOut: true },
      endpointIds: [],
      referrerOfReferral: 'rfr_1',
      referrerOfReward: 'rfr_1',
    });
    expect(await facts('rfr_1', { referralId: 'ref_none', rewardId: 'rwd_none' })).toMatchObject({
      referrerOfReferral: undefined,
      referrerOfReward: undefined,
    });
    expect(await facts('rfr_1', {})).toMatchObject({ referrerOfReferral: undefined, referrerOfReward: undefined });
    // Another installation's referrer, or none: nothing, however the rest would answer.
    expect(await facts('rfr_1', { sourceKey: 'step:1', referralId: 'ref_1' }, 'inst_b')).toBeUndefined();
    expect(await facts('rfr_none', { sourceKey: 'step:1' })).toBeUndefined();
    expect(await expectSame(pair, (s) => s.outbox.emailPreferences('rfr_1'))).toEqual({ emailOptOut: false, accessKey: 'key_rfr_1' });
    expect(await expectSame(pair, (s) => s.outbox.emailPreferences('rfr_2'))).toEqual({ emailOptOut: true, accessKey: 'key_rfr_2' });
    expect(await expectSame(pair, (s) => s.outbox.emailPreferences('rfr_none'))).toBeUndefined();
  });

  it('firstDue: an expired claim first, then pending messages in due order (ties by id), nothing before it is due', async () => {
    const pair = await pairWith(side);
    await expectSame(pair, (s) =>
      s.outbox.add([
        row('retried-later', { nextAttemptAt: '2026-11-22T10:05:00.000Z' }),
        row('due-second', { nextAttemptAt: '2026-11-22T10:00:00.000Z' }),
        row('due-first', { nextAttemptAt: '2026-11-22T09:59:00.000Z' }),
        row('same-time', { nextAttemptAt: '2026-11-22T10:00:00.000Z' }),
        row('expired-claim'),
        row('claimed'),
        row('delivered', { nextAttemptAt: '2026-11-22T09:00:00.000Z' }),
      ]),
    );
    // Claimed through the repository: 5 with a lease that ran out, 6 still leased, 7 delivered.
    await expectSame(pair, (s) => s.outbox.claim([5], '2026-11-22T10:00:30.000Z'));
    await expectSame(pair, (s) => s.outbox.claim([6], '2026-11-22T10:10:00.000Z'));
    await expectSame(pair, (s) => s.outbox.claim([7], '2026-11-22T09:00:30.000Z'));
    await expectSame(pair, (s) => s.outbox.settle([7], { status: 'delivered', lastError: null, deliveredAt: AT }));
    await expectSame(pair, (s) => s.outbox.claim([], AT));
    await expectSameRows(pair);
    const at = '2026-11-22T10:01:00.000Z';
    const order = await expectSame(pair, async (s) => {
      const ids: number[] = [];
      for (let next = await s.outbox.firstDue(at); next; next = await s.outbox.firstDue(at)) {
        ids.push(next.id);
        await s.outbox.settle([next.id], { status: 'delivered', lastError: null, deliveredAt: at });
      }
      return ids;
    });
    expect(order).toEqual([5, 3, 2, 4]);
    expect((await expectSame(pair, (s) => s.outbox.firstDue('2026-11-22T10:06:00.000Z')))?.id).toBe(1);
    expect(await expectSame(pair, (s) => s.outbox.firstDue('2026-11-22T09:00:00.000Z'))).toBeUndefined();
    await expectSameRows(pair);
  });

  it('claim, attempts and settlement: a retry moves the due time, a delivery keeps it; attempts recorded as given', async () => {
    const pair = await pairWith(side);
    await expectSame(pair, (s) => s.outbox.add([row('a'), row('b'), row('c')]));
    await expectSame(pair, (s) => s.outbox.claim([1, 2, 3], later(5)));
    await expectSameRows(pair);
    const first = await expectSame(pair, (s) => s.outbox.firstDue(later(6)));
    expect(first).toMatchObject({ id: 1, status: 'sending', attempts: 1, leaseUntil: later(5) });
    await expectSame(pair, (s) =>
      s.outbox.recordAttempts([
        { outboxId: 1, attempt: 1, ok: false, detail: 'claim expired', at: later(6) },
        { outboxId: 2, attempt: 1, ok: true, detail: '250 OK', at: later(6) },
      ]),
    );
    await expectSame(pair, (s) => s.outbox.recordAttempts([]));
    await expectSame(pair, (s) => s.outbox.settle([1], { status: 'pending', lastError: 'HTTP 503', nextAttemptAt: later(10) }));
    await expectSame(pair, (s) => s.outbox.settle([2], { status: 'delivered', lastError: null, deliveredAt: later(6) }));
    await expectSame(pair, (s) => s.outbox.settle([3], { status: 'failed', lastError: 'HTTP 410' }));
    await expectSame(pair, (s) => s.outbox.settle([], { status: 'failed', lastError: 'nothing' }));
    await expectSameRows(pair);
    await expectSameRows(pair, 'deliveryAttempts');
    const [rows] = await dumpBoth(pair, 'outbox');
    expect(rows).toMatchObject([
      { id: 1, status: 'pending', lastError: 'HTTP 503', nextAttemptAt: later(10), leaseUntil: null, deliveredAt: null },
      { id: 2, status: 'delivered', nextAttemptAt: AT, deliveredAt: later(6) },
      { id: 3, status: 'failed', nextAttemptAt: AT, lastError: 'HTTP 410' },
    ]);
    const [attempts] = await dumpBoth(pair, 'deliveryAttempts');
    expect(attempts).toMatchObject([
      { outboxId: 1, ok: false },
      { outboxId: 2, ok: true },
    ]);
    expect(await expectSame(pair, (s) => s.outbox.firstDue(later(9)))).toBeUndefined();
    expect((await expectSame(pair, (s) => s.outbox.firstDue(later(10))))?.id).toBe(1);
  });

  it("claimNext: the next due message, or a digest referrer's due digest emails together; expired claims get a failed attempt", async () => {
    const pair = await pairWith(side);
    const digest = (key: string, fields: Partial<NewOutboxRow> = {}) =>
      row(key, { channel: 'email', referrerId: 'rfr_1', payload: { digestAt: AT }, ...fields });
    await expectSame(pair, (s) =>
      s.outbox.add([
        row('crm-1', { nextAttemptAt: later(-10) }),
        digest('d1', { nextAttemptAt: later(-5) }),
        row('plain-email', { channel: 'email', referrerId: 'rfr_1', nextAttemptAt: later(-1) }),
        digest('d2', { nextAttemptAt: later(-20) }),
        digest('d-later', { nextAttemptAt: later(30) }),
        digest('d-other', { referrerId: 'rfr_2', nextAttemptAt: later(-3) }),
      ]),
    );
    const take = (at: string, leaseUntil = later(5)) => expectSame(pair, (s) => s.outbox.claimNext(at, leaseUntil));
    // d2 is due first: every due digest email of rfr_1 goes with it, the plain email does not.
    expect((await take(AT)).map((r) => [r.deliveryKey, r.attempts, r.status])).toEqual([
      ['d1', 1, 'pending'],
      ['d2', 1, 'pending'],
    ]);
    expect((await take(AT)).map((r) => r.deliveryKey)).toEqual(['crm-1']);
    expect((await take(AT)).map((r) => r.deliveryKey)).toEqual(['d-other']);
    expect((await take(AT)).map((r) => r.deliveryKey)).toEqual(['plain-email']);
    expect(await take(AT)).toEqual([]);
    // Leases run out: taken over first, in id order, a failed attempt recorded for the claim that expired.
    expect((await take(later(6), later(60))).map((r) => [r.deliveryKey, r.attempts, r.status])).toEqual([['crm-1', 2, 'sending']]);
    expect((await take(later(6), later(60))).map((r) => [r.deliveryKey, r.attempts, r.status])).toEqual([
      ['d1', 2, 'sending'],
      ['d2', 2, 'sending'],
    ]);
    await expectSameRows(pair);
    await expectSameRows(pair, 'deliveryAttempts');
    const [attempts] = await dumpBoth(pair, 'deliveryAttempts');
    expect(attempts).toMatchObject([
      { outboxId: 1, attempt: 1, ok: false, at: later(6) },
      { outboxId: 2, attempt: 1, ok: false, at: later(6) },
      { outboxId: 4, attempt: 1, ok: false, at: later(6) },
    ]);
  });

  it("dueEmailsOf: a referrer's due emails, pending or with an expired claim, oldest first", async () => {
    const pair = await pairWith(side);
    const email = (key: string, fields: Partial<NewOutboxRow> = {}) =>
      row(key, { channel: 'email', referrerId: 'rfr_1', payload: { digestAt: AT }, ...fields });
    await expectSame(pair, (s) =>
      s.outbox.add([
        email('e1'),
        email('e2', { nextAttemptAt: later(30) }),
        email('e3'),
        email('other', { referrerId: 'rfr_2' }),
        row('crm-of-rfr_1', { referrerId: 'rfr_1' }),
        email('e4'),
        email('e5', { status: 'delivered' }),
      ]),
    );
    await expectSame(pair, (s) => s.outbox.claim([3], later(1)));
    await expectSame(pair, (s) => s.outbox.claim([6], later(10)));
    const due = await expectSame(pair, (s) => s.outbox.dueEmailsOf('rfr_1', later(2)));
    expect(due.map((r) => [r.deliveryKey, r.status])).toEqual([
      ['e1', 'pending'],
      ['e3', 'sending'],
    ]);
    expect((await expectSame(pair, (s) => s.outbox.dueEmailsOf('rfr_1', later(30)))).map((r) => r.deliveryKey)).toEqual([
      'e1',
      'e2',
      'e3',
      'e4',
    ]);
    expect(await expectSame(pair, (s) => s.outbox.dueEmailsOf('rfr_none', later(30)))).toEqual([]);
  });

  it('step messages: held while pending, never attempted and not due; told otherwise; only held ones are cancelled; emails of a referral', async () => {
    const pair = await pairWith(side);
    const step = (key: string, topic: string, fields: Partial<NewOutboxRow> = {}) =>
      row(key, { channel: 'email', referralId: 'ref_1', referrerId: 'rfr_1', topic, nextAttemptAt: later(1), ...fields });
    await expectSame(pair, (s) =>
      s.outbox.add([
        step('held', 'referral.contacted'),
        step('retrying', 'referral.contacted'),
        step('claimed', 'referral.in_sales_process', { nextAttemptAt: AT }),
        step('cancelled', 'referral.contacted', { status: 'cancelled' }),
        step('reward', 'reward.approved'),
        step('due-now', 'referral.won', { nextAttemptAt: AT }),
        step('other-channel', 'referral.contacted', { channel: 'crm' }),
        step('other-referrer', 'referral.contacted', { referrerId: 'rfr_2' }),
        step('failed', 'referral.lost'),
        step('other-referral', 'referral.contacted', { referralId: 'ref_2' }),
      ]),
    );
    // 'retrying' was attempted once and waits again; 'claimed' is on its way; 'failed' failed.
    await expectSame(pair, (s) => s.outbox.claim([2, 3, 9], later(5)));
    await expectSame(pair, (s) => s.outbox.settle([2], { status: 'pending', lastError: 'HTTP 503', nextAttemptAt: later(1) }));
    await expectSame(pair, (s) => s.outbox.settle([9], { status: 'failed', lastError: 'HTTP 410' }));
    const topics = ['referral.contacted', 'referral.in_sales_process', 'referral.won', 'referral.lost'];
    const messages = await expectSame(pair, (s) => s.outbox.stepMessagesOf('ref_1', 'email', 'rfr_1', topics, AT));
    expect(messages.map((m) => [m.id, m.topic, m.state, m.sendAt])).toEqual([
      [1, 'referral.contacted', 'held', later(1)],
      [2, 'referral.contacted', 'told', later(1)],
      [3, 'referral.in_sales_process', 'told', AT],
      [6, 'referral.won', 'told', AT],
    ]);
    expect(await expectSame(pair, (s) => s.outbox.stepMessagesOf('ref_1', 'email', 'rfr_1', [], AT))).toEqual([]);
    expect(await expectSame(pair, (s) => s.outbox.stepMessagesOf('ref_1', 'crm', 'rfr_1', topics, AT))).toHaveLength(1);

    // Only the held one is cancelled; the others are left as they are.
    await expectSame(pair, (s) =>
      s.outbox.cancel([
        { id: 1, reason: 'replaced by referral.won' },
        { id: 2, reason: 'replaced by referral.won' },
        { id: 3, reason: 'replaced by referral.won' },
        { id: 999, reason: 'no such message' },
      ]),
    );
    await expectSame(pair, (s) => s.outbox.cancel([]));
    await expectSameRows(pair);
    const emails = await expectSame(pair, (s) => s.outbox.emailsOfReferral('ref_1'));
    expect(emails.map((m) => [m.deliveryKey, m.status, m.lastError])).toEqual([
      ['held', 'cancelled', 'replaced by referral.won'],
      ['retrying', 'pending', 'HTTP 503'],
      ['claimed', 'sending', null],
      ['cancelled', 'cancelled', null],
      ['reward', 'pending', null],
      ['due-now', 'pending', null],
      ['other-referrer', 'pending', null],
      ['failed', 'failed', 'HTTP 410'],
    ]);
    expect(await expectSame(pair, (s) => s.outbox.emailsOfReferral('ref_none'))).toEqual([]);
  });
});

describe('PostgreSQL outbox under concurrency', () => {
  const claimNext = async (store: Store, at: string) => (await store.outbox.claimNext(at, later(60))).map((r) => r.id);

  it('notifiers claiming at once take each message once, and all of them', async () => {
    await side.reset();
    const store = side.store;
    const rows = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? row(`m${i}`, { channel: 'email', referrerId: `rfr_${i % 4}`, payload: { digestAt: AT } })
        : row(`m${i}`, { nextAttemptAt: later(-i) }),
    );
    expect(await store.outbox.add(rows)).toBe(60);
    const taken = new Map<number, number>();
    const notifiers = [0, 1, 2, 3].map(async (n) => {
      for (;;) {
        const ids = await claimNext(store, later(1));
        if (ids.length === 0) return;
        for (const id of ids) {
          expect(taken.has(id)).toBe(false);
          taken.set(id, n);
        }
      }
    });
    await Promise.all(notifiers);
    expect([...taken.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await store.outbox.firstDue(later(1))).toBeUndefined();
    // Each was claimed exactly once: one attempt, one lease; digest emails left with their referrer's others.
    expect(new Set(taken.values()).size).toBeGreaterThan(1);
    const emails = await store.outbox.dueEmailsOf('rfr_0', later(61));
    expect(emails.every((r) => r.attempts === 1 && r.status === 'sending')).toBe(true);
  });

  it('a message one notifier is claiming is passed over by another, not waited for', async () => {
    await side.reset();
    const store = side.store;
    await store.outbox.add([row('first', { nextAttemptAt: later(-2) }), row('second', { nextAttemptAt: later(-1) })]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held: number | undefined;
    // A claim whose transaction stays open (the test holds it; the notifier never would).
    const holder = store.transaction(async () => {
      held = (await store.outbox.firstDue(AT))?.id;
      await gate;
    });
    while (held === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    const other = await store.outbox.firstDue(AT);
    release();
    await holder;
    expect(held).toBe(1);
    expect(other?.id).toBe(2);
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../../../src/store/contract.ts';
import { closePgSide, type Harness, harness, openPgSide, type PgSide, referrerWithReferrals, unordered } from './pg3-harness.ts';

const ids = vi.hoisted(() => ({ n: 0, tag: '' }));
// Deterministic ids (see pg3-harness.ts): `${prefix}_${tag}${n}`, n rewound by both().
vi.mock('../../../../src/store/referrals.repo.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../../src/store/referrals.repo.ts')>()),
  newId: (prefix: string) => `${prefix}_${ids.tag}${String(++ids.n).padStart(6, '0')}`,
}));

type AccrueValues = Parameters<Store['rewards']['accrue']>[0];

const reward = (
  installationId: string,
  referralId: string,
  referrerId: string,
  key: string,
  over: Partial<AccrueValues> = {},
): AccrueValues => ({
  installationId,
  referralId,
  referrerId,
  dealId: 'deal-1',
  kind: 'commission',
  beneficiary: 'referrer',
  milestone: 'closed_won',
  referrerTier: 'gold',
  amountCents: 12_345,
  currency: 'EUR',
  status: 'pending',
  dueDate: '2026-04-01',
  requiresApproval: true,
  programId: `prg_${installationId}`,
  programVersion: 1,
  reasons: ['closed won', 'tier gold'],
  conversion: { from: 'USD', to: 'EUR', rate: '0.9', amountCents: 13_717 } as never,
  idempotencyKey: key,
  updatedAt: '2026-03-02T00:00:00.000Z',
  ...over,
});

let pg: PgSide;
beforeAll(async () => {
  pg = await openPgSide();
});
afterAll(async () => {
  await closePgSide(pg);
});

/** Two installations, a referrer in each, three referrals in the first. */
async function world(): Promise<{ h: Harness; inst: string; other: string }> {
  const h = harness(pg, ids);
  const inst = `${h.tag}inst`;
  const other = `${h.tag}other`;
  await h.installation(inst);
  await h.installation(other);
  await referrerWithReferrals(h, inst, `${h.tag}ref`, [{ id: `${h.tag}r1` }, { id: `${h.tag}r2` }, { id: `${h.tag}r3` }]);
  await referrerWithReferrals(h, other, `${h.tag}ref-o`, [{ id: `${h.tag}o1` }]);
  return { h, inst, other };
}

describe('rewards on SQLite and PostgreSQL', () => {
  it('accrues once per idempotency key, with its accrual entry, and reads it back with its net', async () => {
    const { h, inst } = await world();
    const t = h.tag;
    const first = await h.same((s) => s.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, 'k1'), 'system'));
    expect(first).toMatchObject({
      id: `rwd_${t}000001`,
      amountCents: 12_345,
      conversion: { rate: '0.9' },
      requiresApproval: true,
      paidCents: null,
    });
    // The same key again: nothing, on both.
    expect(await h.same((s) => s.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, 'k1', { amountCents: 1 }), 'system'))).toBeUndefined();
    // Nulls where the optional values are left out.
    const bare = await h.same((s) =>
      s.rewards.accrue(
        reward(inst, `${t}r1`, `${t}ref`, 'k2', { dealId: undefined, conversion: undefined, referrerTier: undefined }),
        'rep',
      ),
    );
    expect(bare).toMatchObject({ dealId: null, conversion: null, referrerTier: null });

    const got = await h.same((s) => s.rewards.get(`rwd_${t}000001`));
    expect(got?.netCents).toBe(12_345);
    expect(await h.same((s) => s.rewards.get('rwd_missing'))).toBeUndefined();
    const ledger = await h.same((s) => s.rewards.ledger(`rwd_${t}000001`));
    expect(ledger).toEqual([
      expect.objectContaining({
        kind: 'accrued',
        amountCents: 12_345,
        fromStatus: null,
        toStatus: 'pending',
        reason: 'closed won tier gold',
        idempotencyKey: `${inst}:k1:accrued`,
      }),
    ]);
    expect(await h.same((s) => s.rewards.ledger('rwd_missing'))).toEqual([]);
  });

  it('adds ledger entries once per key, in order, and nets them (clawbacks negative, large amounts exact)', async () => {
    const { h, inst } = await world();
    const t = h.tag;
    await h.same((s) => s.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, 'k1', { amountCents: 5_000_000_000_000 }), 'system'));
    const id = `rwd_${t}000001`;
    const added = await h.same(async (s) => [
      await s.rewards.addEntry({
        rewardId: id,
        kind: 'status',
        amountCents: 0,
        fromStatus: 'pending',
        toStatus: 'approved',
        actor: 'rep',
        reason: 'ok',
        idempotencyKey: `${t}e1`,
      }),
      await s.rewards.addEntry({
        rewardId: id,
        kind: 'status',
        amountCents: 0,
        fromStatus: 'pending',
        toStatus: 'approved',
        actor: 'rep',
        reason: 'ok',
        idempotencyKey: `${t}e1`,
      }),
      await s.rewards.addEntry({
        rewardId: id,
        kind: 'clawback',
        amountCents: -1_000_000_000_001,
        actor: 'system',
        reason: 'refund',
        idempotencyKey: `${t}e2`,
      }),
    ]);
    expect(added).toEqual([true, false, true]);
    const ledger = await h.same((s) => s.rewards.ledger(id));
    expect(ledger.map((e) => [e.kind, e.amountCents, e.fromStatus, e.toStatus])).toEqual([
      ['accrued', 5_000_000_000_000, null, 'pending'],
      ['status', 0, 'pending', 'approved'],
      ['clawback', -1_000_000_000_001, null, null],
    ]);
    expect((await h.same((s) => s.rewards.get(id)))?.netCents).toBe(3_999_999_999_999);
  });

  it('lists by referral, referrer and installation, and sets status, paid cents and payout reference', async () => {
    const { h, inst, other } = await world();
    const t = h.tag;
    await h.same(async (s) => {
      await s.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, 'a', { amountCents: 100 }), 'system');
      await s.rewards.accrue(reward(inst, `${t}r2`, `${t}ref`, 'b', { amountCents: 200, currency: 'USD' }), 'system');
      await s.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, 'c', { amountCents: 300 }), 'system');
      await s.rewards.accrue(reward(other, `${t}o1`, `${t}ref-o`, 'a', { amountCents: 400 }), 'system');
    });
    const forReferral = await h.same((s) => s.rewards.forReferral(`${t}r1`));
    expect(forReferral.map((r) => r.amountCents)).toEqual([100, 300]);
    expect(await h.same((s) => s.rewards.forReferral('missing'))).toEqual([]);
    const forReferrer = await h.same(async (s) => unordered(await s.rewards.forReferrer(`${t}ref`)));
    expect(forReferrer).toHaveLength(3);
    const forInstallation = await h.same((s) => s.rewards.forInstallation(inst));
    expect(forInstallation.map((r) => r.amountCents)).toEqual([100, 200, 300]);

    const after = await h.same(async (s) => {
      await s.rewards.setStatus(`rwd_${t}000001`, 'paid', new Date('2026-05-01T00:00:00Z'), 'PAY-1');
      await s.rewards.setStatus(`rwd_${t}000003`, 'approved', new Date('2026-05-02T00:00:00Z'));
      await s.rewards.setPaidCents(`rwd_${t}000001`, 100);
      await s.rewards.setStatus('rwd_missing', 'paid', new Date('2026-05-01T00:00:00Z'));
      return s.rewards.forInstallation(inst);
    });
    expect(after.map((r) => [r.status, r.payoutReference, r.paidCents, r.updatedAt])).toEqual([
      ['paid', 'PAY-1', 100, '2026-05-01T00:00:00.000Z'],
      ['pending', null, null, '2026-03-02T00:00:00.000Z'],
      ['approved', null, null, '2026-05-02T00:00:00.000Z'],
    ]);
  });

  it('pages newest id first with a cursor, filtered by installations and status', async () => {
    const { h, inst, other } = await world();
    const t = h.tag;
    await h.same(async (s) => {
      for (const key of ['a', 'b', 'c', 'd', 'e'])
        await s.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, key, { status: key === 'c' ? 'approved' : 'pending' }), 'system');
      await s.rewards.accrue(reward(other, `${t}o1`, `${t}ref-o`, 'a'), 'system');
    });
    const pages = await h.same(async (s) => {
      const out: { ids: string[]; next: string | null }[] = [];
      let cursor: string | undefined;
      do {
        const page = await s.rewards.list({ installationIds: [inst, other], cursor, limit: 4 });
        out.push({ ids: page.items.map((r) => r.id), next: page.nextCursor });
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    });
    expect(pages).toEqual([
      { ids: [6, 5, 4, 3].map((n) => `rwd_${t}00000${n}`), next: `rwd_${t}000003` },
      { ids: [2, 1].map((n) => `rwd_${t}00000${n}`), next: null },
    ]);
    const approved = await h.same((s) => s.rewards.list({ installationIds: [inst], status: 'approved', limit: 10 }));
    expect(approved.items.map((r) => r.id)).toEqual([`rwd_${t}000003`]);
    expect(approved.nextCursor).toBeNull();
    expect(await h.same((s) => s.rewards.list({ installationIds: [], limit: 10 }))).toEqual({ items: [], nextCursor: null });
  });

  it('finds deals needing a rate, rewards due for payout, and totals by referrer, status and currency', async () => {
    const { h, inst, other } = await world();
    const t = h.tag;
    await h.same(async (s) => {
      await s.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, 'a', { status: 'needs_rate', dealId: 'd1' }), 'system');
      await s.rewards.accrue(reward(inst, `${t}r2`, `${t}ref`, 'b', { status: 'needs_rate', dealId: 'd1' }), 'system');
      await s.rewards.accrue(reward(inst, `${t}r2`, `${t}ref`, 'c', { status: 'needs_rate', dealId: undefined }), 'system');
      await s.rewards.accrue(
        reward(inst, `${t}r3`, `${t}ref`, 'd', { status: 'approved', dueDate: '2026-04-01', amountCents: 10 }),
        'system',
      );
      await s.rewards.accrue(
        reward(inst, `${t}r3`, `${t}ref`, 'e', { status: 'approved', dueDate: '2026-04-02', amountCents: 20 }),
        'system',
      );
      await s.rewards.accrue(
        reward(inst, `${t}r3`, `${t}ref`, 'f', { status: 'approved', dueDate: '2026-03-31', amountCents: 30, currency: 'USD' }),
        'system',
      );
      await s.rewards.accrue(reward(other, `${t}o1`, `${t}ref-o`, 'g', { status: 'approved', dueDate: '2026-01-01' }), 'system');
    });
    expect(await h.same((s) => s.rewards.dealsNeedingRate(inst))).toEqual(['d1']);
    expect(await h.same((s) => s.rewards.dealsNeedingRate(`${t}nobody`))).toEqual([]);
    const due = await h.same(async (s) => unordered(await s.rewards.dueForPayout(inst, '2026-04-01')));
    expect(due.map((r) => r.amountCents).sort()).toEqual([10, 30]);

    await h.same((s) =>
      s.rewards.addEntry({
        rewardId: `rwd_${t}000004`,
        kind: 'clawback',
        amountCents: -4,
        actor: 'system',
        reason: 'refund',
        idempotencyKey: `${t}claw`,
      }),
    );
    const totals = await h.same(async (s) => unordered(await s.rewards.totals([inst, other])));
    expect(totals).toEqual(
      unordered([
        { referrerId: `${t}ref`, status: 'needs_rate', currency: 'EUR', netCents: 3 * 12_345, count: 3 },
        { referrerId: `${t}ref`, status: 'approved', currency: 'EUR', netCents: 26, count: 2 },
        { referrerId: `${t}ref`, status: 'approved', currency: 'USD', netCents: 30, count: 1 },
        { referrerId: `${t}ref-o`, status: 'approved', currency: 'EUR', netCents: 12_345, count: 1 },
      ]),
    );
    expect(await h.same((s) => s.rewards.totals([]))).toEqual([]);
  });

  it('writes nothing on PostgreSQL when the transaction around an accrual rolls back', async () => {
    const { h, inst } = await world();
    const t = h.tag;
    const [lite, pgResult] = await h.both(async (s) => {
      await expect(
        s.transaction(async () => {
          await s.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, 'rolled'), 'system');
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      return s.rewards.forReferral(`${t}r1`);
    });
    expect(lite).toEqual([]);
    expect(pgResult).toEqual([]);
  });

  it('accrues one reward and one accrual entry when the same key is accrued concurrently on PostgreSQL', async () => {
    const { h, inst } = await world();
    const t = h.tag;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        h.pg.transaction(() => h.pg.rewards.accrue(reward(inst, `${t}r1`, `${t}ref`, 'race', { amountCents: 100 + i }), 'system')),
      ),
    );
    const won = results.filter((r) => r !== undefined);
    expect(won).toHaveLength(1);
    const rows = await h.pg.rewards.forReferral(`${t}r1`);
    expect(rows).toHaveLength(1);
    expect(await h.pg.rewards.ledger(rows[0]!.id)).toHaveLength(1);
    expect(rows[0]!.netCents).toBe(won[0]!.amountCents);
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closePgSide, crmDeal, type Harness, harness, openPgSide, type PgSide, referrerWithReferrals, unordered } from './pg3-harness.ts';

const ids = vi.hoisted(() => ({ n: 0, tag: '' }));
// Deterministic ids (see pg3-harness.ts): `${prefix}_${tag}${n}`, n rewound by both().
vi.mock('../../../../src/store/referrals.repo.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../../src/store/referrals.repo.ts')>()),
  newId: (prefix: string) => `${prefix}_${ids.tag}${String(++ids.n).padStart(6, '0')}`,
}));

let pg: PgSide;
beforeAll(async () => {
  pg = await openPgSide();
});
afterAll(async () => {
  await closePgSide(pg);
});

const at = (iso: string) => new Date(iso);

async function world(): Promise<{ h: Harness; inst: string; t: string }> {
  const h = harness(pg, ids);
  const t = h.tag;
  const inst = `${t}inst`;
  await h.installation(inst);
  return { h, inst, t };
}

/** An active (or reversed) attribution of a deal to a referral. */
const attribution = (
  t: string,
  inst: string,
  n: number,
  dealId: string,
  referralId: string,
  referrerId: string,
  status: 'active' | 'reversed' = 'active',
) => ({
  id: `${t}att${n}`,
  installationId: inst,
  dealId,
  referralId,
  referrerId,
  model: 'first_touch',
  sharePpm: 1_000_000,
  role: 'sourced' as const,
  evidence: { via: 'test' },
  reasons: ['test'],
  status,
});

describe('deals on SQLite and PostgreSQL', () => {
  it('mirrors a deal, overwrites it on the next save but keeps its fingerprint, and marks it deleted', async () => {
    const { h, inst } = await world();
    const first = await h.same(async (s) => {
      await s.deals.save(inst, crmDeal('d1'), 'referral', 'new_business', at('2026-03-02T00:00:00Z'));
      return s.deals.get(inst, 'd1');
    });
    expect(first).toEqual({
      installationId: inst,
      dealId: 'd1',
      name: 'Deal d1',
      pipelineId: 'default',
      stageId: 'closedwon',
      isClosed: true,
      isWon: true,
      amountCents: 1_250_000,
      firstYearValueCents: 1_000_000,
      currency: 'EUR',
      closeDate: '2026-03-01',
      crmCreatedAt: '2026-01-05T10:00:00.000Z',
      ownerId: 'owner-1',
      sourcedBy: 'referral',
      dealType: 'newbusiness',
      dealKind: 'new_business',
      contactIds: ['c1', 'c2'],
      companyIds: ['co1'],
      deleted: false,
      crmModifiedAt: '2026-03-01T12:00:00.000Z',
      fetchedAt: '2026-03-02T00:00:00.000Z',
      appliedFingerprint: null,
    });
    const second = await h.same(async (s) => {
      await s.deals.setFingerprint(inst, 'd1', 'fp-1');
      await s.deals.markDeleted(inst, 'd1', at('2026-03-03T00:00:00Z'));
      const deleted = await s.deals.get(inst, 'd1');
      await s.deals.save(
        inst,
        crmDeal('d1', {
          name: null,
          isWon: false,
          amountCents: 9_007_199_254_740_991,
          firstYearValueCents: null,
          closeDate: null,
          ownerId: null,
          dealType: null,
          contactIds: [],
          companyIds: [],
        }),
        'rep',
        'renewal',
        at('2026-03-04T00:00:00Z'),
      );
      return { deleted, saved: await s.deals.get(inst, 'd1') };
    });
    expect(second.deleted).toMatchObject({ deleted: true, fetchedAt: '2026-03-03T00:00:00.000Z', appliedFingerprint: 'fp-1' });
    expect(second.saved).toMatchObject({
      name: null,
      isWon: false,
      amountCents: 9_007_199_254_740_991,
      firstYearValueCents: null,
      closeDate: null,
      sourcedBy: 'rep',
      dealKind: 'renewal',
      contactIds: [],
      deleted: false,
      fetchedAt: '2026-03-04T00:00:00.000Z',
      appliedFingerprint: 'fp-1',
    });
    expect(await h.same((s) => s.deals.get(inst, 'missing'))).toBeUndefined();
    const many = await h.same((s) => s.deals.getMany(inst, ['missing', 'd1']));
    expect(many).toEqual([second.saved]);
    expect(await h.same((s) => s.deals.getMany(inst, []))).toEqual([]);
    expect(await h.same((s) => s.deals.getMany('inst_other', ['d1']))).toEqual([]);
    // Changes to missing deals change nothing and fail on neither.
    await h.same(async (s) => {
      await s.deals.setFingerprint(inst, 'missing', 'fp');
      await s.deals.markDeleted(inst, 'missing', at('2026-03-03T00:00:00Z'));
    });
  });

  it('reads the won deals of referrals and referrers, and those won since a day', async () => {
    const { h, inst, t } = await world();
    await referrerWithReferrals(h, inst, `${t}ref`, [
      { id: `${t}won`, status: 'closed_won' },
      { id: `${t}won2`, status: 'closed_won' },
      { id: `${t}open`, status: 'qualified' },
    ]);
    await h.same(async (s) => {
      const now = at('2026-03-05T00:00:00Z');
      await s.deals.save(inst, crmDeal('d-b', { closeDate: '2026-02-01' }), 'referral', 'new_business', now);
      await s.deals.save(inst, crmDeal('d-a', { closeDate: '2026-02-01' }), 'referral', 'renewal', now);
      await s.deals.save(inst, crmDeal('d-c', { closeDate: '2026-01-15' }), 'referral', 'expansion', now);
      await s.deals.save(inst, crmDeal('d-lost', { isWon: false, closeDate: '2026-01-01' }), 'referral', 'new_business', now);
      await s.deals.save(inst, crmDeal('d-nodate', { closeDate: null }), 'referral', 'new_business', now);
      await s.deals.save(inst, crmDeal('d-gone', { closeDate: '2026-01-20' }), 'referral', 'new_business', now);
      await s.deals.save(inst, crmDeal('d-rev', { closeDate: '2026-01-21' }), 'referral', 'new_business', now);
      await s.deals.save(inst, crmDeal('d-other', { closeDate: '2026-03-01' }), 'referral', 'new_business', now);
      await s.deals.markDeleted(inst, 'd-gone', now);
    });
    await h.insert('attributions', [
      attribution(t, inst, 1, 'd-b', `${t}won`, `${t}ref`),
      attribution(t, inst, 2, 'd-a', `${t}won`, `${t}ref`),
      attribution(t, inst, 3, 'd-c', `${t}won`, `${t}ref`),
      attribution(t, inst, 4, 'd-lost', `${t}won`, `${t}ref`),
      attribution(t, inst, 5, 'd-nodate', `${t}won`, `${t}ref`),
      attribution(t, inst, 6, 'd-gone', `${t}won`, `${t}ref`),
      attribution(t, inst, 7, 'd-rev', `${t}won`, `${t}ref`, 'reversed'),
      // Two attributions of one deal: one row.
      attribution(t, inst, 8, 'd-other', `${t}won2`, `${t}ref`),
      attribution(t, inst, 9, 'd-other', `${t}won2`, `${t}ref`),
      attribution(t, inst, 10, 'd-other', `${t}open`, `${t}ref`),
    ]);
    expect(await h.same((s) => s.deals.wonForReferral(`${t}won`))).toEqual([
      { dealId: 'd-c', dealKind: 'expansion', closeDate: '2026-01-15' },
      { dealId: 'd-a', dealKind: 'renewal', closeDate: '2026-02-01' },
      { dealId: 'd-b', dealKind: 'new_business', closeDate: '2026-02-01' },
    ]);
    expect(await h.same((s) => s.deals.wonForReferral(`${t}nothing`))).toEqual([]);
    // New business only; the deleted and the lost deal count (a closed-won referral's close date), the reversed one does not.
    const closed = await h.same(async (s) => unordered(await s.deals.closedWonCloseDates(`${t}ref`)));
    expect(closed).toEqual(
      unordered([
        { referralId: `${t}won`, closeDate: '2026-02-01' },
        { referralId: `${t}won`, closeDate: '2026-01-01' },
        { referralId: `${t}won`, closeDate: '2026-01-20' },
        { referralId: `${t}won2`, closeDate: '2026-03-01' },
      ]),
    );
    const since = await h.same(async (s) => unordered(await s.deals.wonSince(inst, '2026-02-01')));
    expect(since.map((d) => d.dealId).sort()).toEqual(['d-a', 'd-b', 'd-other']);
    expect(await h.same((s) => s.deals.wonSince(inst, '2027-01-01'))).toEqual([]);
  });

  it('keeps sync cursors per installation and name', async () => {
    const { h, inst } = await world();
    const cursors = await h.same(async (s) => {
      const before = [await s.deals.cursor(inst, 'deals'), await s.deals.cursorMovedAt(inst, 'deals')];
      await s.deals.setCursor(inst, 'deals', 'c-1', at('2026-03-01T00:00:00Z'));
      await s.deals.setCursor(inst, 'companies', 'x-1', at('2026-03-01T00:00:01Z'));
      await s.deals.setCursor(inst, 'deals', 'c-2', at('2026-03-02T00:00:00Z'));
      return {
        before,
        deals: [await s.deals.cursor(inst, 'deals'), await s.deals.cursorMovedAt(inst, 'deals')],
        companies: [await s.deals.cursor(inst, 'companies'), await s.deals.cursorMovedAt(inst, 'companies')],
        elsewhere: await s.deals.cursor(`${inst}-other`, 'deals'),
      };
    });
    expect(cursors).toEqual({
      before: [null, null],
      deals: ['c-2', '2026-03-02T00:00:00.000Z'],
      companies: ['x-1', '2026-03-01T00:00:01.000Z'],
      elsewhere: null,
    });
  });
});

describe('deal claims on SQLite and PostgreSQL', () => {
  const claim = (t: string, inst: string, n: number, dealId: string, expiresAt: string) => ({
    referralId: `${t}r${n}`,
    installationId: inst,
    dealId,
    claimedBy: `${t}ref`,
    claimedAt: '2026-03-01T00:00:00.000Z',
    expiresAt,
  });

  it('inserts a claim once, finds claims by deal, decides once and lists the undecided expired ones', async () => {
    const { h, inst, t } = await world();
    await referrerWithReferrals(
      h,
      inst,
      `${t}ref`,
      [1, 2, 3, 4].map((n) => ({ id: `${t}r${n}`, status: 'claim_pending' as const })),
    );
    const inserted = await h.same(async (s) => [
      await s.dealClaims.insert(claim(t, inst, 1, 'd1', '2026-03-10T00:00:00.000Z')),
      await s.dealClaims.insert(claim(t, inst, 2, 'd1', '2026-03-11T00:00:00.000Z')),
      await s.dealClaims.insert(claim(t, inst, 3, 'd2', '2026-03-09T00:00:00.000Z')),
    ]);
    expect(inserted[0]).toEqual({
      ...claim(t, inst, 1, 'd1', '2026-03-10T00:00:00.000Z'),
      decision: null,
      decidedBy: null,
      decidedAt: null,
      reason: null,
    });
    // A second claim of the same referral fails on both.
    const duplicate = await h.same((s) =>
      s.dealClaims.insert(claim(t, inst, 1, 'd9', '2026-03-10T00:00:00.000Z')).then(
        () => 'inserted',
        () => 'refused',
      ),
    );
    expect(duplicate).toBe('refused');
    expect(await h.same((s) => s.dealClaims.get(`${t}r1`))).toEqual(inserted[0]);
    expect(await h.same((s) => s.dealClaims.get(`${t}r4`))).toBeUndefined();
    const forDeals = await h.same(async (s) => unordered(await s.dealClaims.forDeals(inst, ['d1', 'd2', 'd3'])));
    expect(forDeals.map((c) => c.referralId)).toEqual([`${t}r1`, `${t}r2`, `${t}r3`]);
    expect(await h.same((s) => s.dealClaims.forDeals(inst, []))).toEqual([]);
    expect(await h.same((s) => s.dealClaims.forDeals(`${inst}-other`, ['d1']))).toEqual([]);

    const decided = await h.same(async (s) => [
      await s.dealClaims.decide(`${t}r1`, 'approved', 'rep-1', '2026-03-02T00:00:00.000Z', null),
      await s.dealClaims.decide(`${t}r1`, 'rejected', 'rep-2', '2026-03-03T00:00:00.000Z', 'too late'),
      await s.dealClaims.decide(`${t}r4`, 'approved', 'rep-1', '2026-03-02T00:00:00.000Z', null),
    ]);
    expect(decided).toEqual([true, false, false]);
    expect(await h.same((s) => s.dealClaims.get(`${t}r1`))).toMatchObject({
      decision: 'approved',
      decidedBy: 'rep-1',
      decidedAt: '2026-03-02T00:00:00.000Z',
      reason: null,
    });

    // Expiry is inclusive of the instant; decided claims are left out.
    const expired = await h.same(async (s) => unordered(await s.dealClaims.undecidedExpiredBy(inst, '2026-03-10T00:00:00.000Z')));
    expect(expired.map((c) => c.referralId)).toEqual([`${t}r3`]);
    const later = await h.same(async (s) => unordered(await s.dealClaims.undecidedExpiredBy(inst, '2026-03-11T00:00:00.000Z')));
    expect(later.map((c) => c.referralId)).toEqual([`${t}r2`, `${t}r3`]);
  });

  it('lets one of several concurrent deciders on PostgreSQL decide a claim', async () => {
    const { h, inst, t } = await world();
    await referrerWithReferrals(h, inst, `${t}ref`, [{ id: `${t}r1`, status: 'claim_pending' }]);
    await h.pg.dealClaims.insert(claim(t, inst, 1, 'd1', '2026-03-10T00:00:00.000Z'));
    const decisions = ['approved', 'rejected', 'expired', 'approved'] as const;
    const results = await Promise.all(
      decisions.map((d, i) => h.pg.dealClaims.decide(`${t}r1`, d, `rep-${i}`, '2026-03-02T00:00:00.000Z', null)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await h.pg.dealClaims.get(`${t}r1`)).toMatchObject({ decision: decisions[winner], decidedBy: `rep-${winner}` });
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ReferralStatus } from '../../../../src/domain/referral-lifecycle.ts';
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
const MARCH = { fromInstant: '2026-03-01T00:00:00.000Z', untilInstant: '2026-04-01T00:00:00.000Z' };

/**
 * One installation: a partner with four referrals (two in March, one on each side of it), a
 * customer with one; timelines, links and attributions to deals in two pipelines (one deleted);
 * rewards with ledger entries; asks sent and refused.
 */
async function world(): Promise<{ h: Harness; inst: string; t: string }> {
  const h = harness(pg, ids);
  const t = h.tag;
  const inst = `${t}inst`;
  await h.installation(inst);
  await referrerWithReferrals(h, inst, `${t}partner`, [
    { id: `${t}feb`, submittedAt: '2026-02-28T23:59:59.999Z', status: 'closed_won' },
    { id: `${t}m2`, submittedAt: '2026-03-15T10:00:00.000Z', status: 'closed_won', askId: `${t}ask1` },
    { id: `${t}m1`, submittedAt: '2026-03-01T00:00:00.000Z', status: 'qualified' },
    { id: `${t}apr`, submittedAt: '2026-04-01T00:00:00.000Z', status: 'submitted' },
  ]);
  await referrerWithReferrals(
    h,
    inst,
    `${t}customer`,
    [{ id: `${t}m3`, submittedAt: '2026-03-15T10:00:00.000Z', status: 'submitted' }],
    'customer',
  );
  const event = (n: number, referralId: string, fromStatus: ReferralStatus | null, toStatus: ReferralStatus) => ({
    referralId,
    fromStatus,
    toStatus,
    reasons: [],
    source: 'test',
    idempotencyKey: `${t}ev${n}`,
    occurredAt: '2026-03-15T10:00:00.000Z',
  });
  await h.insert('referralEvents', [
    event(1, `${t}m2`, null, 'submitted'),
    event(2, `${t}m2`, 'submitted', 'qualified'),
    event(3, `${t}m2`, 'qualified', 'accepted'),
    event(4, `${t}m2`, 'accepted', 'qualified'),
    event(5, `${t}m1`, null, 'submitted'),
  ]);
  await h.same(async (s) => {
    const now = at('2026-03-20T00:00:00Z');
    await s.deals.save(
      inst,
      crmDeal('d-sales', { pipelineId: 'sales', closeDate: '2026-03-31', amountCents: 500_000 }),
      'referral',
      'new_business',
      now,
    );
    await s.deals.save(
      inst,
      crmDeal('d-alpha', { pipelineId: 'alpha', closeDate: '2026-03-01', amountCents: null }),
      'referral',
      'new_business',
      now,
    );
    await s.deals.save(inst, crmDeal('d-alpha2', { pipelineId: 'alpha', closeDate: '2026-03-10' }), 'referral', 'renewal', now);
    await s.deals.save(inst, crmDeal('d-gone', { pipelineId: 'zeta', closeDate: '2026-03-05' }), 'referral', 'new_business', now);
    await s.deals.save(
      inst,
      crmDeal('d-open', { pipelineId: 'open', isWon: false, closeDate: '2026-03-05' }),
      'referral',
      'new_business',
      now,
    );
    await s.deals.save(inst, crmDeal('d-april', { pipelineId: 'sales', closeDate: '2026-04-01' }), 'referral', 'new_business', now);
    await s.deals.markDeleted(inst, 'd-gone', now);
  });
  await h.insert('crmLinks', [
    { installationId: inst, referralId: `${t}m2`, objectType: 'deal', objectId: 'd-sales' },
    { installationId: inst, referralId: `${t}m2`, objectType: 'deal', objectId: 'd-gone' },
    { installationId: inst, referralId: `${t}m2`, objectType: 'company', objectId: 'd-open' },
  ]);
  const attribution = (
    n: number,
    dealId: string,
    referralId: string,
    referrerId: string,
    over: { role?: 'sourced' | 'influenced'; sharePpm?: number; status?: 'active' | 'reversed' } = {},
  ) => ({
    id: `${t}att${n}`,
    installationId: inst,
    dealId,
    referralId,
    referrerId,
    model: 'split',
    sharePpm: over.sharePpm ?? 1_000_000,
    role: over.role ?? 'sourced',
    evidence: {},
    reasons: [],
    status: over.status ?? 'active',
  });
  await h.insert('attributions', [
    attribution(1, 'd-alpha', `${t}m2`, `${t}partner`),
    attribution(2, 'd-alpha2', `${t}m2`, `${t}partner`, { sharePpm: 600_000 }),
    attribution(3, 'd-alpha2', `${t}m3`, `${t}customer`, { role: 'influenced', sharePpm: 400_000 }),
    attribution(4, 'd-sales', `${t}feb`, `${t}partner`),
    attribution(5, 'd-gone', `${t}m1`, `${t}partner`),
    attribution(6, 'd-open', `${t}m1`, `${t}partner`),
    attribution(7, 'd-april', `${t}m1`, `${t}partner`),
    attribution(8, 'd-sales', `${t}m3`, `${t}customer`, { status: 'reversed' }),
  ]);
  const reward = (
    referralId: string,
    referrerId: string,
    key: string,
    amountCents: number,
    dealId: string | undefined,
    status: 'pending' | 'approved' = 'pending',
  ) => ({
    installationId: inst,
    referralId,
    referrerId,
    dealId,
    kind: 'commission' as const,
    beneficiary: 'referrer' as const,
    milestone: 'closed_won' as const,
    amountCents,
    currency: 'EUR',
    status,
    dueDate: '2026-04-01',
    requiresApproval: false,
    programId: `prg_${inst}`,
    programVersion: 1,
    reasons: [],
    idempotencyKey: key,
    updatedAt: '2026-03-20T00:00:00.000Z',
  });
  await h.same(async (s) => {
    const clawed = await s.rewards.accrue(reward(`${t}m2`, `${t}partner`, 'a', 10_000, 'd-alpha', 'approved'), 'system');
    await s.rewards.addEntry({
      rewardId: clawed!.id,
      kind: 'clawback',
      amountCents: -2_500,
      actor: 'system',
      reason: 'refund',
      idempotencyKey: `${t}claw`,
    });
    await s.rewards.accrue(reward(`${t}m3`, `${t}customer`, 'b', 700, undefined), 'system');
    await s.rewards.accrue(reward(`${t}feb`, `${t}partner`, 'c', 99, 'd-sales'), 'system');
  });
  await h.insert('referralAsks', [
    ask(t, inst, 1, `${t}partner`, 'sent', '2026-03-01T00:00:00.000Z'),
    ask(t, inst, 2, null, 'sent', '2026-03-31T23:59:59.999Z'),
    ask(t, inst, 3, `${t}customer`, 'refused', '2026-03-10T00:00:00.000Z'),
    ask(t, inst, 4, `${t}customer`, 'sent', '2026-04-01T00:00:00.000Z'),
    ask(t, inst, 5, `${t}customer`, 'sent', '2026-03-20T00:00:00.000Z'),
  ]);
  return { h, inst, t };
}

function ask(t: string, inst: string, n: number, referrerId: string | null, status: 'sent' | 'refused', createdAt: string) {
  return {
    id: `${t}ask${n}`,
    installationId: inst,
    companyId: `co${n}`,
    referrerId,
    askedByName: 'Rep',
    askedByEmail: 'rep@example.test',
    trigger: 'manual' as const,
    status,
    reasons: [],
    idempotencyKey: `${t}ask${n}`,
    createdAt,
  };
}

describe('reports on SQLite and PostgreSQL', () => {
  it('reads the referrals submitted in a range with their timeline statuses and their deals’ pipelines', async () => {
    const { h, inst, t } = await world();
    // The pipelines' order carries no meaning (SQLite's follows its scan): compared sorted.
    const rows = await h.same(async (s) =>
      (await s.reports.referralsSubmitted({ installationId: inst, ...MARCH })).map((r) => ({
        ...r,
        pipelineIds: [...r.pipelineIds].sort(),
      })),
    );
    expect(rows).toEqual([
      {
        id: `${t}m1`,
        submittedAt: '2026-03-01T00:00:00.000Z',
        status: 'qualified',
        referrerId: `${t}partner`,
        referrerName: `Name ${t}partner`,
        referrerType: 'partner',
        referrerCompany: 'Acme',
        programId: `prg_${inst}`,
        askId: null,
        statuses: ['submitted', 'qualified'],
        // d-gone is deleted; d-open and d-april are linked whatever their state.
        pipelineIds: ['open', 'sales'],
      },
      {
        id: `${t}m2`,
        submittedAt: '2026-03-15T10:00:00.000Z',
        status: 'closed_won',
        referrerId: `${t}partner`,
        referrerName: `Name ${t}partner`,
        referrerType: 'partner',
        referrerCompany: 'Acme',
        programId: `prg_${inst}`,
        askId: `${t}ask1`,
        statuses: ['submitted', 'qualified', 'accepted', 'closed_won'],
        pipelineIds: ['alpha', 'sales'],
      },
      {
        id: `${t}m3`,
        submittedAt: '2026-03-15T10:00:00.000Z',
        status: 'submitted',
        referrerId: `${t}customer`,
        referrerName: `Name ${t}customer`,
        referrerType: 'customer',
        referrerCompany: 'Acme',
        programId: `prg_${inst}`,
        askId: null,
        statuses: ['submitted'],
        pipelineIds: ['alpha', 'sales'],
      },
    ]);
    expect(await h.same((s) => s.reports.referralsSubmitted({ installationId: `${inst}-other`, ...MARCH }))).toEqual([]);
  });

  it('reads the active attributions of deals won in a range of days, by close date and deal', async () => {
    const { h, inst } = await world();
    const rows = await h.same((s) => s.reports.wonDeals(inst, '2026-03-01', '2026-03-31'));
    expect(rows).toEqual([
      {
        dealId: 'd-alpha',
        pipelineId: 'alpha',
        currency: 'EUR',
        amountCents: null,
        crmCreatedAt: '2026-01-05T10:00:00.000Z',
        closeDate: '2026-03-01',
        referrerType: 'partner',
        role: 'sourced',
        sharePpm: 1_000_000,
        programId: `prg_${inst}`,
      },
      expect.objectContaining({ dealId: 'd-alpha2', closeDate: '2026-03-10' }),
      expect.objectContaining({ dealId: 'd-alpha2', closeDate: '2026-03-10' }),
      {
        dealId: 'd-sales',
        pipelineId: 'sales',
        currency: 'EUR',
        amountCents: 500_000,
        crmCreatedAt: '2026-01-05T10:00:00.000Z',
        closeDate: '2026-03-31',
        referrerType: 'partner',
        role: 'sourced',
        sharePpm: 1_000_000,
        programId: `prg_${inst}`,
      },
    ]);
    expect(unordered(rows.slice(1, 3).map((r) => [r.referrerType, r.role, r.sharePpm]))).toEqual([
      ['customer', 'influenced', 400_000],
      ['partner', 'sourced', 600_000],
    ]);
    expect(await h.same((s) => s.reports.wonDeals(inst, '2026-05-01', '2026-05-31'))).toEqual([]);
  });

  it('reads the rewards of the referrals submitted in a range with their net and pipeline', async () => {
    const { h, inst } = await world();
    const rows = await h.same(async (s) => unordered(await s.reports.rewardsOfReferrals({ installationId: inst, ...MARCH })));
    expect(rows).toEqual(
      unordered([
        { currency: 'EUR', status: 'approved', referrerType: 'partner', pipelineId: 'alpha', programId: `prg_${inst}`, netCents: 7_500 },
        { currency: 'EUR', status: 'pending', referrerType: 'customer', pipelineId: null, programId: `prg_${inst}`, netCents: 700 },
      ]),
    );
  });

  it('reads the asks sent in a range by referrer type, null before the champion became a referrer', async () => {
    const { h, inst } = await world();
    const rows = await h.same(async (s) => unordered(await s.reports.asksSent({ installationId: inst, ...MARCH })));
    expect(rows).toEqual(unordered([{ referrerType: 'partner' }, { referrerType: null }, { referrerType: 'customer' }]));
  });
});

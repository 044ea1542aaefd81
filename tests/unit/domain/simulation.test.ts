import { describe, expect, it } from 'vitest';
import { defaultProgram } from '../../../src/domain/program.ts';
import { simulateProgram, simulateSampleDeal, type SimulationDeal } from '../../../src/domain/simulation.ts';

function won(
  id: string,
  referrerId: string,
  type: 'customer' | 'partner',
  cents: number,
  closeDate: string,
  currency = 'USD',
): SimulationDeal {
  return {
    referral: { id: `ref-${id}`, referrerId, referrerType: type },
    deal: { id, firstYearValueCents: cents, amountCents: cents, currency, closeDate },
  };
}

describe('simulateProgram', () => {
  const deals = [
    won('d1', 'alice', 'customer', 2_500_000, '2026-01-15'),
    won('d2', 'alice', 'customer', 10_000_000, '2026-02-15'),
    won('d3', 'pat', 'partner', 2_500_000, '2026-03-01'),
  ];

  it('compares a draft with the current program, in total and per referrer', () => {
    const draft = defaultProgram();
    draft.rewardRules = draft.rewardRules.map((r) => (r.kind === 'percent' ? { ...r, rateBasisPoints: 1_500 } : r));
    const r = simulateProgram({ current: defaultProgram(), draft, deals, today: '2026-04-01' });
    // alice: 2 × $50 + $500 + $1,000; pat: 10% then 15% of $25,000
    expect(r.current).toEqual({
      currency: 'USD',
      totalCents: 410_000,
      refereeCents: 0,
      firstYearValueCents: 15_000_000,
      shareOfFirstYearValueBp: 273,
    });
    expect(r.draft.totalCents).toBe(535_000);
    expect(r.perReferrer).toEqual([
      { referrerId: 'alice', currentCents: 160_000, draftCents: 160_000, deltaCents: 0 },
      { referrerId: 'pat', currentCents: 250_000, draftCents: 375_000, deltaCents: 125_000 },
    ]);
  });

  it('accumulates bonuses and caps as they would have happened', () => {
    const draft = defaultProgram();
    draft.milestoneBonuses = [{ id: 'two', referrerTypes: ['customer'], closedWonPerQuarter: 2, amountCents: 10_000 }];
    draft.caps.perReferrerPerYearCents = 150_000;
    const r = simulateProgram({ current: defaultProgram(), draft, deals, today: '2026-04-01' });
    // alice reaches two closed-won in Q1 (bonus $100) but the $1,500 yearly cap trims her total
    expect(r.perReferrer.find((p) => p.referrerId === 'alice')).toEqual({
      referrerId: 'alice',
      currentCents: 160_000,
      draftCents: 150_000,
      deltaCents: -10_000,
    });
  });

  it('counts referee rewards in the total but not per referrer', () => {
    const draft = defaultProgram();
    draft.refereeReward = { milestone: 'closed_won', amountCents: 20_000, description: 'credit' };
    const r = simulateProgram({ current: defaultProgram(), draft, deals, today: '2026-04-01' });
    expect(r.draft.refereeCents).toBe(60_000);
    expect(r.draft.totalCents - r.current.totalCents).toBe(60_000);
    expect(r.perReferrer.every((p) => p.deltaCents === 0)).toBe(true);
  });

  it('leaves out deals in another currency or closing after today, and says so', () => {
    const r = simulateProgram({
      current: defaultProgram(),
      draft: defaultProgram(),
      deals: [won('eur', 'x', 'partner', 1_000_000, '2026-01-01', 'EUR'), won('future', 'y', 'partner', 1_000_000, '2026-05-01')],
      today: '2026-04-01',
    });
    expect(r.current.totalCents).toBe(0);
    expect(r.current.shareOfFirstYearValueBp).toBe(0);
    expect(r.notes).toContain('current: deal eur is in EUR, not USD; left out');
    expect(r.notes).toContain('draft: deal future closes after 2026-04-01; left out');
  });
});

describe('simulateProgram with renewals', () => {
  const firstWon = { dealId: 'd1', closeDate: '2026-01-15' };
  const renewal = (id: string, closeDate: string, renewalsBefore: number): SimulationDeal => ({
    ...won(id, 'alice', 'customer', 2_000_000, closeDate),
    referral: { id: 'ref-d1', referrerId: 'alice', referrerType: 'customer' },
    recurring: { kind: 'renewal', kindReason: 'the deal type "existingbusiness" is renewal', firstWon, renewalsBefore },
  });
  const deals = [won('d1', 'alice', 'customer', 2_500_000, '2026-01-15'), renewal('r1', '2026-12-20', 0), renewal('r2', '2027-12-20', 1)];

  it('a draft revenue share pays renewals in its period; without one a renewal earns no second fee', () => {
    const draft = defaultProgram();
    draft.rewardRules.push({
      id: 'share',
      kind: 'revenue_share',
      referrerTypes: ['customer'],
      milestone: 'closed_won',
      rateBasisPoints: 1_500,
      months: 12,
    });
    const r = simulateProgram({ current: defaultProgram(), draft, deals, today: '2028-01-10' });
    // current: $50 + $500 on the first deal only; draft: also 15% of the $20,000 renewal r1 (r2 is after the period)
    expect(r.current.totalCents).toBe(55_000);
    expect(r.draft.totalCents).toBe(355_000);
    expect(r.perReferrer).toEqual([{ referrerId: 'alice', currentCents: 55_000, draftCents: 355_000, deltaCents: 300_000 }]);
  });
});

describe('simulateSampleDeal', () => {
  it('tells what one deal closed won today would pay a referrer of the type under the draft and the current version', () => {
    const draft = defaultProgram();
    draft.rewardRules = draft.rewardRules.map((r) => (r.kind === 'percent' ? { ...r, rateBasisPoints: 1_500 } : r));
    const sample = simulateSampleDeal({
      draft,
      current: defaultProgram(),
      amountCents: 2_500_000,
      referrerType: 'partner',
      today: '2026-04-01',
    });
    // 10% then 15% of $25,000
    expect(sample).toEqual({
      amountCents: 2_500_000,
      currency: 'USD',
      referrerType: 'partner',
      currentCents: 250_000,
      draftCents: 375_000,
      notes: [],
    });
  });

  it('tells why the current version pays nothing when the draft changed the currency', () => {
    const draft = { ...defaultProgram(), currency: 'EUR' };
    const sample = simulateSampleDeal({
      draft,
      current: defaultProgram(),
      amountCents: 2_500_000,
      referrerType: 'partner',
      today: '2026-04-01',
    });
    expect(sample.currentCents).toBe(0);
    expect(sample.draftCents).toBe(250_000);
    expect(sample.notes).toEqual(['current: deal sample is in EUR, not USD; left out']);
  });
});

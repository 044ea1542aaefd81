import { describe, expect, it } from 'vitest';
import { defaultProgram, type Program } from '../../../src/domain/program.ts';
import { promotionByClosedWonReferrals } from '../../../src/domain/promotion.ts';

function tieredProgram(): Program {
  return {
    ...defaultProgram(),
    tiers: ['silver', 'gold', 'platinum'],
    promotionRules: [
      {
        id: 'gold-3-in-12m',
        description: '3 closed-won referrals in 12 months',
        referrerTypes: ['partner'],
        closedWonReferrals: 3,
        withinDays: 365,
        toTier: 'gold',
      },
      { id: 'platinum-5-in-12m', referrerTypes: ['partner'], closedWonReferrals: 5, withinDays: 365, toTier: 'platinum' },
    ],
  };
}

const decide = (closes: string[], tier: string | null = null, closeDate = '2026-06-30', type: 'partner' | 'customer' = 'partner') =>
  promotionByClosedWonReferrals({ program: tieredProgram(), referrer: { type, tier }, closedWonCloseDates: closes, closeDate });

describe('promotionByClosedWonReferrals (window: the withinDays days up to the close, that day included, its first day excluded)', () => {
  it.each<[string, string[], string | null, string | false]>([
    ['2 closes are not enough', ['2026-01-10', '2026-06-30'], null, false],
    ['3 closes in 12 months promote to gold', ['2025-07-01', '2026-01-10', '2026-06-30'], null, 'gold'],
    ['a close exactly 365 days before falls out of the window', ['2025-06-30', '2026-01-10', '2026-06-30'], null, false],
    ['a close 364 days before is in', ['2025-07-01', '2026-01-10', '2026-06-30'], 'silver', 'gold'],
    ['closes after the one applied do not count', ['2026-01-10', '2026-06-30', '2026-07-15'], null, false],
    [
      '5 closes go straight to platinum, the highest tier met',
      ['2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01', '2026-06-30'],
      null,
      'platinum',
    ],
    ['already gold: no promotion to gold again (a replay changes nothing)', ['2025-07-01', '2026-01-10', '2026-06-30'], 'gold', false],
    ['never demotes: platinum stays platinum', ['2025-07-01', '2026-01-10', '2026-06-30'], 'platinum', false],
    ['instants count by their day', ['2025-07-01T10:00:00Z', '2026-01-10T23:59:59Z', '2026-06-30T08:00:00Z'], null, 'gold'],
  ])('%s', (_, closes, tier, expected) => {
    const decision = decide(closes, tier);
    expect(decision.promote ? decision.toTier : false).toBe(expected);
  });

  it('names the rule, the count and the move in its reasons', () => {
    expect(decide(['2025-07-01', '2026-01-10', '2026-06-30'], 'silver')).toEqual({
      promote: true,
      ruleId: 'gold-3-in-12m',
      fromTier: 'silver',
      toTier: 'gold',
      reasons: [
        '3 closed-won referrals in the 365 days up to 2026-06-30 meet rule gold-3-in-12m (3 needed: 3 closed-won referrals in 12 months)',
        'promoted from silver to gold',
      ],
    });
  });

  it('says why not', () => {
    expect(decide(['2026-06-30'])).toEqual({
      promote: false,
      reasons: [
        'rule gold-3-in-12m: 1 closed-won referrals in the 365 days up to 2026-06-30, 3 needed for gold',
        'rule platinum-5-in-12m: 1 closed-won referrals in the 365 days up to 2026-06-30, 5 needed for platinum',
      ],
    });
    expect(decide(['2025-07-01', '2026-01-10', '2026-06-30'], null, '2026-06-30', 'customer').promote).toBe(false);
    expect(
      promotionByClosedWonReferrals({
        program: defaultProgram(),
        referrer: { type: 'partner', tier: null },
        closedWonCloseDates: [],
        closeDate: '2026-06-30',
      }),
    ).toEqual({ promote: false, reasons: ['the program has no promotion rules'] });
  });
});

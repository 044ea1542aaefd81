import { describe, expect, it } from 'vitest';
import type { CurrencyBook } from '../../../src/domain/exchange.ts';
import { addMonths } from '../../../src/domain/dates.ts';
import { classifyDealKind, defaultDealKindMapping } from '../../../src/domain/deal-kind.ts';
import { defaultProgram, type Program, type RevenueShareRewardRule } from '../../../src/domain/program.ts';
import { revenueSharePeriod, type RecurringDeal } from '../../../src/domain/revenue-share.ts';
import { computeRewards, planRewards, recomputeRewards, type RewardInput } from '../../../src/domain/rewards.ts';
import { programSchema } from '../../../src/http/program.schema.ts';

describe('classifyDealKind by the installation rule', () => {
  const hubspot = defaultDealKindMapping('hubspot');
  const salesforce = defaultDealKindMapping('salesforce');
  it.each([
    ['hubspot newbusiness', hubspot, 'default', 'newbusiness', 'new_business'],
    ['hubspot existingbusiness', hubspot, 'default', 'existingbusiness', 'renewal'],
    ['hubspot, case ignored', hubspot, 'default', 'ExistingBusiness', 'renewal'],
    ['hubspot, no type', hubspot, 'default', null, 'new_business'],
    ['hubspot, an unmapped custom value', hubspot, 'default', 'partnerbusiness', 'new_business'],
    ['salesforce upgrade', salesforce, 'default', 'Existing Customer - Upgrade', 'expansion'],
    ['salesforce replacement', salesforce, 'default', 'Existing Customer - Replacement', 'renewal'],
    ['salesforce downgrade', salesforce, 'default', 'Existing Customer - Downgrade', 'renewal'],
    ['salesforce new customer', salesforce, 'default', 'New Customer', 'new_business'],
    [
      'a renewals pipeline wins over the type',
      { pipelines: { renewals: 'renewal' as const }, typeValues: {} },
      'renewals',
      'newbusiness',
      'renewal',
    ],
    ['the fake CRM has no defaults', defaultDealKindMapping('fake'), 'default', 'existingbusiness', 'new_business'],
  ])('%s', (_label, mapping, pipelineId, dealType, kind) => {
    const decision = classifyDealKind({ pipelineId, dealType }, mapping);
    expect(decision.kind).toBe(kind);
    expect(decision.reason).not.toBe('');
  });
});

describe('addMonths', () => {
  it.each([
    ['2025-03-01', 12, '2026-03-01'],
    ['2026-01-31', 1, '2026-02-28'],
    ['2024-02-29', 12, '2025-02-28'],
    ['2025-11-15', 3, '2026-02-15'],
  ])('%s + %i months = %s', (from, n, to) => expect(addMonths(from, n)).toBe(to));
});

const firstWon = { dealId: 'deal-new', closeDate: '2025-03-01' };
const renewal = (renewalsBefore: number, kind: RecurringDeal['kind'] = 'renewal'): RecurringDeal => ({
  kind,
  kindReason: 'the deal type "existingbusiness" is renewal',
  firstWon,
  renewalsBefore,
});

describe('revenueSharePeriod', () => {
  it.each([
    // [rule period, close date, renewals before, kind, in period]
    [{ months: 12 }, '2026-02-20', 0, 'renewal', true],
    [{ months: 12 }, '2026-03-01', 0, 'renewal', true], // the end day is included
    [{ months: 12 }, '2026-03-02', 0, 'renewal', false],
    [{ months: 12 }, '2027-02-20', 1, 'renewal', false],
    [{ months: 12 }, '2025-09-01', 0, 'expansion', true],
    [{ months: 12 }, '2025-02-01', 0, 'renewal', false], // before the first won deal
    [{ renewals: 2 }, '2026-02-20', 0, 'renewal', true],
    [{ renewals: 2 }, '2027-02-20', 1, 'renewal', true],
    [{ renewals: 2 }, '2028-02-20', 2, 'renewal', false],
    [{ renewals: 2 }, '2027-08-01', 2, 'expansion', false], // after the last paid renewal
    [{ renewals: 2 }, '2026-08-01', 1, 'expansion', true],
    [{ months: 24, renewals: 1 }, '2026-02-20', 0, 'renewal', true],
    [{ months: 24, renewals: 1 }, '2026-09-01', 1, 'expansion', false], // in months, past the renewals
    [{ months: 24, renewals: 3 }, '2027-03-02', 2, 'renewal', false], // in renewals, past the months
  ] as const)('%o closing %s after %i renewals (%s) → %s', (period, closeDate, before, kind, inPeriod) => {
    const decision = revenueSharePeriod({ id: 'share', ...period }, closeDate, renewal(before, kind));
    expect(decision.inPeriod).toBe(inPeriod);
    expect(decision.reasons.join(' ')).toContain('deal-new');
  });

  it('without a won first deal nothing is in period, and it says why', () => {
    const decision = revenueSharePeriod({ id: 'share', months: 12 }, '2026-01-01', { ...renewal(0), firstWon: null });
    expect(decision).toEqual({ inPeriod: false, reasons: [expect.stringContaining('no won new-business deal')] });
  });
});

const shareRule: RevenueShareRewardRule = {
  id: 'renewal-share',
  kind: 'revenue_share',
  description: '15% of renewals for 12 months',
  referrerTypes: ['customer', 'partner'],
  milestone: 'closed_won',
  rateBasisPoints: 1_500,
  months: 12,
};
const withShare = (): Program => ({ ...defaultProgram(), rewardRules: [...defaultProgram().rewardRules, shareRule] });

function input(overrides: Partial<RewardInput> = {}): RewardInput {
  return {
    program: withShare(),
    milestone: 'closed_won',
    referral: { id: 'ref-1', referrerId: 'referrer-1', referrerType: 'customer' },
    deal: { id: 'deal-r1', firstYearValueCents: 2_000_000, amountCents: 2_000_000, currency: 'USD', closeDate: '2026-02-20' },
    sharePpm: 1_000_000,
    today: '2026-02-21',
    existing: [],
    referrerClosedWonThisQuarter: 1,
    referrerPaidThisYearCents: 0,
    recurring: renewal(0),
    ...overrides,
  };
}

describe('rewards on renewals and expansions', () => {
  it('a renewal in period pays only the revenue share: 15% of $20,000, tied to the first won deal', () => {
    const [reward, ...others] = computeRewards(input());
    expect(others).toEqual([]);
    expect(reward).toMatchObject({ kind: 'revenue_share', ruleId: 'renewal-share', amountCents: 300_000, dealId: 'deal-r1' });
    expect(reward?.idempotencyKey).toBe('ref-1:closed_won:revenue_share:deal-r1');
    const reasons = reward?.reasons.join(' ') ?? '';
    expect(reasons).toContain('never a second new-business reward');
    expect(reasons).toContain('deal deal-new, first won on 2025-03-01');
  });

  it('a renewal after the period earns nothing and says so', () => {
    const plan = planRewards(input({ deal: { ...input().deal!, closeDate: '2027-02-20' }, recurring: renewal(1) }));
    expect(plan.decisions).toEqual([]);
    expect(plan.notes.join(' ')).toMatch(/after rule renewal-share's 12-month period .* pays nothing/);
  });

  it('without a revenue-share rule a renewal earns no new-business fee, referee reward or bonus', () => {
    const program: Program = {
      ...defaultProgram(),
      refereeReward: { milestone: 'closed_won', amountCents: 10_000, description: 'a month free' },
      milestoneBonuses: [{ id: 'b', referrerTypes: ['customer'], closedWonPerQuarter: 1, amountCents: 20_000 }],
    };
    const plan = planRewards(input({ program }));
    expect(plan.decisions).toEqual([]);
    expect(plan.notes).toContain('no revenue-share rule pays customer referrers');
  });

  it('new business never pays under a revenue-share rule', () => {
    const program: Program = { ...defaultProgram(), rewardRules: [shareRule] };
    expect(computeRewards(input({ program, recurring: null }))).toEqual([]);
  });

  it('a deal in another currency converts through the CRM rate on its close date', () => {
    const currencies: CurrencyBook = {
      companyCurrency: 'USD',
      rates: [
        { currency: 'EUR', rate: '0.8', from: '2026-01-01', until: null, meaning: 'units_per_company', source: 'HubSpot exchange rate 1' },
      ],
      limitation: null,
    };
    const deal = { id: 'deal-r1', firstYearValueCents: 1_000_000, amountCents: 1_000_000, currency: 'EUR', closeDate: '2026-02-20' };
    const [reward] = computeRewards(input({ deal, currencies }));
    // €10,000 at 0.8 EUR per USD is $12,500; 15% of it is $1,875.
    expect(reward).toMatchObject({ kind: 'revenue_share', amountCents: 187_500, currency: 'USD' });
    expect(reward?.conversion?.dealCurrency).toBe('EUR');
  });

  it('replays accrue nothing; an amount change replaces the reward', () => {
    const first = computeRewards(input());
    const existing = first.map((d) => ({
      idempotencyKey: d.idempotencyKey,
      netCents: d.amountCents,
      kind: d.kind,
      status: d.initialStatus,
    }));
    expect(computeRewards(input({ existing }))).toEqual([]);
    const changed = recomputeRewards(input({ existing, deal: { ...input().deal!, firstYearValueCents: 4_000_000 } }));
    expect(changed.reverse.map((r) => r.idempotencyKey)).toEqual(['ref-1:closed_won:revenue_share:deal-r1']);
    expect(changed.decisions.map((d) => [d.idempotencyKey, d.amountCents])).toEqual([
      ['ref-1:closed_won:revenue_share:deal-r1#2', 600_000],
    ]);
  });
});

describe('program schema: revenue_share', () => {
  const parse = (rule: object) => programSchema.safeParse({ ...defaultProgram(), rewardRules: [rule] });
  it('accepts a rule with months and/or renewals', () => {
    expect(parse(shareRule).success).toBe(true);
    expect(parse({ ...shareRule, months: undefined, renewals: 2 }).success).toBe(true);
  });
  it('refuses a rule without a period', () => {
    const result = parse({ ...shareRule, months: undefined });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('give months and/or renewals');
  });
});

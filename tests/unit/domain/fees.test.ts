import { describe, expect, it } from 'vitest';
import { bracketFor, feeForValue, type Fee, type FeeBracket } from '../../../src/domain/fees.ts';
import { defaultProgram, type BracketRewardRule, type Program } from '../../../src/domain/program.ts';
import { computeRewards, type RewardInput } from '../../../src/domain/rewards.ts';

// The brief's enterprise table: under $10k → $250; $10k to under $50k → $500; $50k and up → 2%, at least $1,000.
const enterprise: FeeBracket[] = [
  { fromCents: 0, fee: { kind: 'flat', amountCents: 25_000 } },
  { fromCents: 1_000_000, fee: { kind: 'flat', amountCents: 50_000 } },
  { fromCents: 5_000_000, fee: { kind: 'percent', rateBasisPoints: 200, minCents: 100_000 } },
];
const fee = (f: Fee, value: number) => feeForValue(f, { cents: value, label: 'first-year value' }, 'USD').cents;

describe('bracket tables: each row from its fromCents (inclusive) to the next row’s (exclusive)', () => {
  it.each([
    [0, 25_000],
    [999_999, 25_000], // $9,999.99: still the first row
    [1_000_000, 50_000], // exactly $10,000: the second row starts here (inclusive)
    [4_999_999, 50_000], // $49,999.99: second row, its upper bound is exclusive
    [5_000_000, 100_000], // exactly $50,000: 2% is $1,000, the floor
    [5_000_050, 100_001], // 2% of $50,000.50 is $1,000.01 (half up), above the floor
    [7_500_000, 150_000], // 2% of $75,000 = $1,500: "$1,000+" pays more than $1,000
    [50_000_000, 1_000_000], // 2% of $500,000 = $10,000, no cap
  ])('first-year value %i cents earns %i cents', (value, expected) => {
    const row = bracketFor(enterprise, value)!;
    expect(fee(row.fee, value)).toBe(expected);
  });

  it('a value below the first row has no bracket', () => {
    expect(bracketFor([{ fromCents: 100, fee: { kind: 'flat', amountCents: 1 } }], 99)).toBeUndefined();
  });
});

describe('percentages with a floor and a cap (both inclusive bounds on the fee)', () => {
  const capped: Fee = { kind: 'percent', rateBasisPoints: 1_000, minCents: 50_000, maxCents: 500_000 };
  it.each([
    [0, 50_000], // nothing to take 10% of: the floor
    [499_990, 50_000], // 10% = $499.99 → raised to the $500 floor
    [500_000, 50_000], // 10% = $500 exactly: the floor itself
    [500_010, 50_001], // 10% = $500.01
    [5_000_000, 500_000], // 10% = $5,000 exactly: the cap itself
    [5_000_010, 500_000], // 10% = $5,000.01 → limited to the cap
  ])('value %i cents earns %i cents', (value, expected) => {
    expect(fee(capped, value)).toBe(expected);
  });

  it('says why it moved the amount', () => {
    expect(feeForValue(capped, { cents: 499_990, label: 'first-year value' }, 'USD').reasons).toEqual([
      '10% of first-year value $4,999.90',
      '$499.99 raised to the $500.00 floor',
    ]);
    expect(feeForValue(capped, { cents: 9_000_000, label: 'first-year value' }, 'USD').reasons).toEqual([
      '10% of first-year value $90,000.00',
      '$9,000.00 limited to the $5,000.00 cap',
    ]);
  });

  it('follows the currency’s minor units (JPY has none)', () => {
    expect(
      feeForValue({ kind: 'percent', rateBasisPoints: 250, minCents: 10_000 }, { cents: 1_000_000, label: 'first-year value' }, 'JPY'),
    ).toEqual({
      cents: 25_000,
      reasons: ['2.5% of first-year value ¥1,000,000'],
    });
  });
});

function enterpriseProgram(): Program {
  const program = defaultProgram();
  const rule: BracketRewardRule = {
    id: 'enterprise-brackets',
    kind: 'bracket',
    description: '$250, $500, then 2% at least $1,000',
    referrerTypes: ['customer', 'advisor'],
    milestone: 'closed_won',
    brackets: enterprise,
  };
  program.rewardRules = [rule, ...program.rewardRules];
  return program;
}

function wonDeal(program: Program, firstYearValueCents: number | null, amountCents: number | null): RewardInput {
  return {
    program,
    milestone: 'closed_won',
    referral: { id: 'ref-1', referrerId: 'referrer-1', referrerType: 'customer' },
    deal: { id: 'deal-1', firstYearValueCents, amountCents, currency: 'USD', closeDate: '2026-03-31' },
    sharePpm: 1_000_000,
    today: '2026-04-02',
    existing: [],
    referrerClosedWonThisQuarter: 1,
    referrerPaidThisYearCents: 0,
  };
}

describe('a bracket rule in a program', () => {
  it('pays its commission on first-year value, with the bracket named in the reasons', () => {
    const decisions = computeRewards(wonDeal(enterpriseProgram(), 7_500_000, 30_000_000));
    const commission = decisions.find((d) => d.kind === 'commission')!;
    expect(commission).toMatchObject({ ruleId: 'enterprise-brackets', amountCents: 150_000, referrerTier: null });
    expect(commission.reasons.slice(0, 2)).toEqual([
      'first-year value $75,000.00 is in the bracket from $50,000.00 up (rule enterprise-brackets: $250, $500, then 2% at least $1,000)',
      '2% of first-year value $75,000.00',
    ]);
  });

  it('reads the deal amount when no first-year value is recorded', () => {
    const commission = computeRewards(wonDeal(enterpriseProgram(), null, 2_000_000)).find((d) => d.kind === 'commission')!;
    expect(commission.amountCents).toBe(50_000);
    expect(commission.reasons[0]).toMatch(
      /^the deal amount \(no first-year value recorded\) \$20,000.00 is in the bracket from \$10,000.00/,
    );
  });
});

describe('deal-size tiers', () => {
  // A three-year $300,000 contract worth $90,000 in its first year.
  const multiYear = (program: Program) => computeRewards(wonDeal(program, 9_000_000, 30_000_000)).map((d) => [d.ruleId, d.amountCents]);

  it('read the first-year value in new programs: $90,000 first year is not a $100,000+ deal', () => {
    expect(multiYear(defaultProgram())).toEqual([['won-fee', 50_000]]);
  });

  it('read the amount in programs written before the setting existed, as they always did', () => {
    const { dealSizeBasis: _, ...legacy } = defaultProgram();
    expect(multiYear(legacy)).toEqual([['enterprise-won-fee', 100_000]]);
  });
});

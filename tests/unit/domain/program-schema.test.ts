import { describe, expect, it } from 'vitest';
import { defaultProgram, type Program } from '../../../src/domain/program.ts';
import { programSchema } from '../../../src/http/program.schema.ts';

function issuesOf(value: unknown) {
  const r = programSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('programSchema', () => {
  it('accepts defaultProgram() unchanged', () => {
    const parsed: Program = programSchema.parse(defaultProgram());
    expect(parsed).toEqual(defaultProgram());
  });

  it('a new version without a deal-size basis compares first-year values', () => {
    const { dealSizeBasis: _basis, ...withoutBasis } = defaultProgram();
    expect(programSchema.parse(withoutBasis).dealSizeBasis).toBe('first_year_value');
  });

  it.each<[string, (p: Program) => unknown, string, RegExp]>([
    ['fractional cents', (p) => ({ ...p, approvalThresholdCents: 1000.5 }), 'approvalThresholdCents', /whole number of minor units/],
    [
      'a rate over 100%',
      (p) => ({ ...p, rewardRules: p.rewardRules.map((r) => (r.kind === 'percent' ? { ...r, rateBasisPoints: 10_001 } : r)) }),
      'rewardRules.3.rateBasisPoints',
      /between 0 and 10000/,
    ],
    ['an unknown referrer type', (p) => ({ ...p, referrerTypes: ['customer', 'reseller'] }), 'referrerTypes.1', /must be one of/],
    ['an unknown field', (p) => ({ ...p, dedupe: { ...p.dedupe, windowDay: 30 } }), 'dedupe', /windowDay/],
    ['a lowercase currency', (p) => ({ ...p, currency: 'usd' }), 'currency', /ISO 4217/],
    ['an unknown currency code', (p) => ({ ...p, currency: 'XYZ' }), 'currency', /not an ISO 4217 currency this service knows/],
    ['a negative window', (p) => ({ ...p, attribution: { ...p.attribution, windowDays: -1 } }), 'attribution.windowDays', /at least 1/],
    [
      'tiers out of order',
      (p) => ({ ...p, rewardRules: [{ ...p.rewardRules[1], minDealCents: 500, maxDealCents: 100 }] }),
      'rewardRules.0.maxDealCents',
      /minDealCents must be below maxDealCents/,
    ],
    ['duplicate rule ids', (p) => ({ ...p, rewardRules: [p.rewardRules[0], p.rewardRules[0]] }), 'rewardRules', /unique/],
    ['a bad sender email', (p) => ({ ...p, senderEmail: 'nobody' }), 'senderEmail', /email/],
  ])('rejects %s, naming the field', (_label, change, path, message) => {
    const issues = issuesOf(change(defaultProgram()));
    expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});

describe('programSchema: fee rules and promotions', () => {
  const bracket = (brackets: unknown) => ({
    id: 'enterprise',
    kind: 'bracket',
    referrerTypes: ['customer'],
    milestone: 'closed_won',
    brackets,
  });
  const flat = (amountCents: number) => ({ kind: 'flat', amountCents });

  it('accepts a bracket table, a floored and capped percentage, tiers and promotion rules', () => {
    const program = {
      ...defaultProgram(),
      tiers: ['silver', 'gold'],
      promotionRules: [{ id: 'gold', closedWonReferrals: 3, withinDays: 365, toTier: 'gold' }],
      rewardRules: [
        bracket([
          { fromCents: 0, fee: flat(25_000) },
          { fromCents: 1_000_000, fee: flat(50_000) },
          { fromCents: 5_000_000, fee: { kind: 'percent', rateBasisPoints: 200, minCents: 100_000 } },
        ]),
        {
          id: 'p',
          kind: 'percent',
          referrerTypes: ['partner'],
          milestone: 'closed_won',
          rateBasisPoints: 1_000,
          minCents: 10_000,
          maxCents: 90_000,
        },
      ],
    };
    expect(issuesOf(program)).toEqual([]);
  });

  it('accepts a program stored before these fields existed', () => {
    const { dealSizeBasis: _, ...legacy } = defaultProgram();
    expect(issuesOf(legacy)).toEqual([]);
  });

  it.each<[string, (p: Program) => unknown, string, RegExp]>([
    [
      'a table not starting at 0',
      (p) => ({ ...p, rewardRules: [bracket([{ fromCents: 100, fee: flat(1) }])] }),
      'rewardRules.0.brackets',
      /start at fromCents 0/,
    ],
    [
      'brackets out of order',
      (p) => ({
        ...p,
        rewardRules: [
          bracket([
            { fromCents: 0, fee: flat(1) },
            { fromCents: 500, fee: flat(2) },
            { fromCents: 500, fee: flat(3) },
          ]),
        ],
      }),
      'rewardRules.0.brackets',
      /ascending fromCents/,
    ],
    ['an empty table', (p) => ({ ...p, rewardRules: [bracket([])] }), 'rewardRules.0.brackets', /at least one bracket/],
    [
      'a floor above the cap',
      (p) => ({ ...p, rewardRules: p.rewardRules.map((r) => (r.kind === 'percent' ? { ...r, minCents: 500, maxCents: 100 } : r)) }),
      'rewardRules.3.maxCents',
      /floor/,
    ],
    [
      'a promotion to a tier the program does not define',
      (p) => ({ ...p, tiers: ['silver'], promotionRules: [{ id: 'g', closedWonReferrals: 3, withinDays: 365, toTier: 'gold' }] }),
      'promotionRules.0.toTier',
      /gold is not one of the program's tiers \(silver\)/,
    ],
    [
      'a reward rule for a tier the program does not define',
      (p) => ({ ...p, tiers: ['silver', 'gold'], rewardRules: [{ ...p.rewardRules[0], referrerTiers: ['gold', 'platinum'] }] }),
      'rewardRules.0.referrerTiers.1',
      /platinum is not one of the program's tiers \(silver, gold\)/,
    ],
    [
      'a negative rate',
      (p) => ({ ...p, rewardRules: p.rewardRules.map((r) => (r.kind === 'percent' ? { ...r, rateBasisPoints: -1_000 } : r)) }),
      'rewardRules.3.rateBasisPoints',
      /between 0 and 10000/,
    ],
    [
      'a fractional rate',
      (p) => ({ ...p, rewardRules: p.rewardRules.map((r) => (r.kind === 'percent' ? { ...r, rateBasisPoints: 1_000.5 } : r)) }),
      'rewardRules.3.rateBasisPoints',
      /whole number of basis points/,
    ],
    [
      'a negative flat fee in a bracket',
      (p) => ({ ...p, rewardRules: [bracket([{ fromCents: 0, fee: flat(-25_000) }])] }),
      'rewardRules.0.brackets.0.fee.amountCents',
      /must not be negative/,
    ],
    [
      'an absurd percentage in a bracket',
      (p) => ({ ...p, rewardRules: [bracket([{ fromCents: 0, fee: { kind: 'percent', rateBasisPoints: 250_000 } }])] }),
      'rewardRules.0.brackets.0.fee.rateBasisPoints',
      /between 0 and 10000/,
    ],
    ['a repeated tier', (p) => ({ ...p, tiers: ['gold', 'gold'] }), 'tiers', /must not repeat/],
    ['an unknown deal-size basis', (p) => ({ ...p, dealSizeBasis: 'total' }), 'dealSizeBasis', /first_year_value, amount/],
  ])('rejects %s, naming the field', (_label, change, path, message) => {
    expect(issuesOf(change(defaultProgram()))).toContainEqual({ path, message: expect.stringMatching(message) });
  });
});

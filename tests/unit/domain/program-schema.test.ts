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
    ['an unknown deal-size basis', (p) => ({ ...p, dealSizeBasis: 'total' }), 'dealSizeBasis', /'amount' or 'first_year_value'/],
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

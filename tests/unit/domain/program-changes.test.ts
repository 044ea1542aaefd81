import { describe, expect, it } from 'vitest';
import { defaultProgram, type Program } from '../../../src/domain/program.ts';
import { programChanges } from '../../../src/domain/program-changes.ts';

const edited = (edit: (p: Program) => void): Program => {
  const p = structuredClone(defaultProgram());
  edit(p);
  return p;
};

describe('programChanges', () => {
  it('is empty for the same settings, whatever their keys order', () => {
    const p = defaultProgram();
    const reordered = Object.fromEntries(Object.entries(p).reverse()) as unknown as Program;
    expect(programChanges(p, reordered)).toEqual([]);
  });

  it('tells the edited settings in words and the currency', () => {
    const after = edited((p) => {
      p.approvalThresholdCents = 250_050;
      p.payoutDays = 60;
      p.attribution.windowDays = 180;
      p.attribution.model = 'last_touch';
      for (const r of p.rewardRules) {
        if (r.id === 'won-fee' && r.kind === 'fixed') r.amountCents = 75_000;
        if (r.kind === 'percent') Object.assign(r, { rateBasisPoints: 1_250, maxCents: 500_000 });
      }
    });
    expect(programChanges(defaultProgram(), after)).toEqual([
      'Approval needed over $1,000.00 → $2,500.50',
      'Rewards due 90 → 60 days after close',
      'Attribution window 365 → 180 days',
      '“$500 when a deal closes won”: $500.00 → $750.00',
      '“10% of first-year value when a deal closes won”: 10% → 12.5%',
      '“10% of first-year value when a deal closes won”, at most: none → $5,000.00',
      'Attribution model first touch → last touch',
    ]);
  });

  it('tells rules added and removed, other terms of a rule, and other settings by name', () => {
    const after = edited((p) => {
      p.rewardRules = p.rewardRules.filter((r) => r.id !== 'qualified-fee');
      p.rewardRules.push({ id: 'advisor-fee', kind: 'fixed', referrerTypes: ['advisor'], milestone: 'closed_won', amountCents: 10_000 });
      const won = p.rewardRules.find((r) => r.id === 'won-fee')!;
      won.referrerTypes = ['customer'];
      p.dedupe.windowDays = 30;
      p.requireAgreement = !p.requireAgreement;
    });
    expect(programChanges(defaultProgram(), after)).toEqual([
      '“$500 when a deal closes won”: other terms changed',
      'Added rule advisor-fee',
      'Removed “$50 when a referral is qualified”',
      'Also changed: dedupe, requireAgreement',
    ]);
  });
});

import type { EligibilityFieldMapping } from '../../../../src/domain/eligibility-fields.ts';
import { minorUnitDigits } from '../../../../src/domain/money.ts';
import type { EligibilityRule, EligibilityRuleKind, Program, RewardRule } from '../../../../src/domain/program.ts';
import { listOf } from './units.ts';

// New rows the editor adds, and the eligibility-fields form's mapping: pure, so they are tested as such.

export const MAPPED_FIELDS = [
  ['nps', 'Net Promoter Score field'],
  ['customerSince', 'Customer-since date field'],
  ['healthScore', 'Health score field'],
  ['openEscalations', 'Open escalations field'],
] as const;

/** A fresh id no rule of the program has: `percent-2`, `bracket-3`. */
export function newRuleId(rules: readonly { id: string }[], kind: string): string {
  const taken = new Set(rules.map((r) => r.id));
  let n = 1;
  while (taken.has(`${kind}-${n}`)) n++;
  return `${kind}-${n}`;
}

/** A new rule of a kind, for the program's referrer types, paying nothing until the admin says what. */
export function newRule(program: Program, kind: RewardRule['kind']): RewardRule {
  const base = { id: newRuleId(program.rewardRules, kind), referrerTypes: [...program.referrerTypes.slice(0, 1)] };
  const unit = 10 ** minorUnitDigits(program.currency);
  switch (kind) {
    case 'fixed':
      return { ...base, kind, milestone: 'closed_won', amountCents: 0 };
    case 'percent':
      return { ...base, kind, milestone: 'closed_won', rateBasisPoints: 0 };
    case 'bracket':
      return {
        ...base,
        kind,
        milestone: 'closed_won',
        brackets: [
          { fromCents: 0, fee: { kind: 'flat', amountCents: 0 } },
          { fromCents: 10_000 * unit, fee: { kind: 'percent', rateBasisPoints: 0 } },
        ],
      };
    case 'revenue_share':
      return { ...base, kind, milestone: 'closed_won', rateBasisPoints: 0, months: 12 };
  }
}

/** A rule of a kind with the program literature's usual bar (NPS 9, 90 days a customer). */
export function newEligibilityRule(kind: EligibilityRuleKind): EligibilityRule {
  switch (kind) {
    case 'min_nps':
      return { kind, enabled: true, min: 9, ifMissing: 'fail' };
    case 'min_customer_days':
      return { kind, enabled: true, days: 90, ifMissing: 'fail' };
    case 'min_health_score':
      return { kind, enabled: true, min: 70, ifMissing: 'pass' };
    case 'lifecycle_stage':
      return { kind, enabled: true, stages: ['customer'], ifMissing: 'fail' };
    case 'no_open_escalation':
      return { kind, enabled: true, ifMissing: 'pass' };
  }
}

export interface MappingForm {
  fields: Record<(typeof MAPPED_FIELDS)[number][0], string>;
  accountTypeField: string;
  customerValues: string;
}

export const mappingFormOf = (mapping: EligibilityFieldMapping | null): MappingForm => ({
  fields: {
    nps: mapping?.nps ?? '',
    customerSince: mapping?.customerSince ?? '',
    healthScore: mapping?.healthScore ?? '',
    openEscalations: mapping?.openEscalations ?? '',
  },
  accountTypeField: mapping?.accountType?.field ?? '',
  customerValues: mapping?.accountType?.customerValues.join(', ') ?? '',
});

/** The mapping a form says: an empty field is not read; no account-type field, no account type. */
export function mappingOf(form: MappingForm): EligibilityFieldMapping {
  const field = (name: string) => name.trim() || null;
  return {
    nps: field(form.fields.nps),
    customerSince: field(form.fields.customerSince),
    healthScore: field(form.fields.healthScore),
    openEscalations: field(form.fields.openEscalations),
    accountType: form.accountTypeField.trim() ? { field: form.accountTypeField.trim(), customerValues: listOf(form.customerValues) } : null,
  };
}

import { addDays, daysBetween, toDateOnly, type DateOnly } from './dates.ts';
import type { EligibilityRule, EligibilityRuleKind } from './program.ts';

/** CRM facts about an account; null or absent means the CRM has no value. */
export interface AccountFacts {
  nps?: number | null;
  /** 'YYYY-MM-DD' or an ISO instant. */
  customerSince?: string | null;
  healthScore?: number | null;
  lifecycleStage?: string | null;
  openEscalations?: number | null;
  isCustomer: boolean;
  /** The installation's field mapping says this stage (account type) value means customer ("Customer - Direct"). */
  stageMeansCustomer?: boolean;
}

export interface RuleOutcome {
  rule: EligibilityRuleKind;
  passed: boolean;
  detail: string;
}

export interface EligibilityResult {
  eligible: boolean;
  reasons: RuleOutcome[];
  summary: string;
}

/** Evaluates each enabled rule; the account is eligible when all pass. Disabled rules are not listed. */
export function evaluateEligibility(account: AccountFacts, rules: readonly EligibilityRule[], today: DateOnly): EligibilityResult {
  const reasons = rules.filter((r) => r.enabled).map((r) => evaluateRule(account, r, today));
  const failed = reasons.filter((r) => !r.passed);
  const summary =
    failed.length === 0
      ? `Eligible to refer: ${reasons.length === 1 ? 'the rule passes' : `all ${reasons.length} rules pass`}.`
      : `Not eligible to refer: ${failed.map((f) => f.detail).join('; ')}.`;
  return { eligible: failed.length === 0, reasons, summary };
}

function evaluateRule(account: AccountFacts, rule: EligibilityRule, today: DateOnly): RuleOutcome {
  const outcome = (passed: boolean, detail: string): RuleOutcome => ({ rule: rule.kind, passed, detail });
  const missing = (field: string): RuleOutcome =>
    rule.ifMissing === 'pass' ? outcome(true, `no ${field} recorded, which this program allows`) : outcome(false, `no ${field} recorded`);

  switch (rule.kind) {
    case 'min_nps': {
      const nps = account.nps;
      if (nps == null) return missing('NPS score');
      return nps >= rule.min ? outcome(true, `NPS ${nps} is at least ${rule.min}`) : outcome(false, `NPS ${nps} is below ${rule.min}`);
    }
    case 'min_customer_days': {
      if (!account.isCustomer) return outcome(false, 'the account is not a customer');
      if (!account.customerSince) return missing('customer-since date');
      const days = daysBetween(toDateOnly(account.customerSince), today);
      return days >= rule.days
        ? outcome(true, `customer for ${days} days, at least ${rule.days}`)
        : outcome(false, `customer for ${days} days, fewer than ${rule.days}`);
    }
    case 'min_health_score': {
      const score = account.healthScore;
      if (score == null) return missing('health score');
      return score >= rule.min
        ? outcome(true, `health score ${score} is at least ${rule.min}`)
        : outcome(false, `health score ${score} is below ${rule.min}`);
    }
    case 'lifecycle_stage': {
      const stage = account.lifecycleStage?.trim();
      if (!stage) return missing('lifecycle stage');
      // CRMs differ in case ('customer' in HubSpot, 'Customer' in Salesforce picklists).
      const allowed = rule.stages.some((s) => s.toLowerCase() === stage.toLowerCase());
      // 'customer' also stands for every value the installation's mapping says means customer ("Customer - Direct").
      const mappedCustomer = !allowed && account.stageMeansCustomer === true && rule.stages.some((s) => s.toLowerCase() === 'customer');
      if (mappedCustomer) return outcome(true, `lifecycle stage is ${stage}, which means customer`);
      return allowed
        ? outcome(true, `lifecycle stage is ${stage}`)
        : outcome(false, `lifecycle stage is ${stage}, not ${rule.stages.join(' or ')}`);
    }
    case 'no_open_escalation': {
      const open = account.openEscalations;
      if (open == null) return missing('escalation data');
      return open === 0 ? outcome(true, 'no open escalation') : outcome(false, `${open} open escalation${open === 1 ? '' : 's'}`);
    }
  }
}

/**
 * Whether an account just became eligible, which can trigger a referral ask. Without a previous
 * evaluation nothing is known to have changed: otherwise every eligible account would be asked
 * at once right after install.
 */
export function becameEligible(previous: { eligible: boolean } | null | undefined, current: { eligible: boolean }): boolean {
  return previous != null && !previous.eligible && current.eligible;
}

/**
 * The day a customer's tenure reaches the program's minimum, when the enabled tenure rule can be
 * met by time alone: the account is a customer with a known customer-since date. Null otherwise
 * (nothing but a CRM change can make that rule pass).
 */
export function tenureCrossesOn(account: AccountFacts, rules: readonly EligibilityRule[]): DateOnly | null {
  const rule = rules.find((r) => r.kind === 'min_customer_days' && r.enabled);
  if (rule?.kind !== 'min_customer_days' || !account.isCustomer || !account.customerSince) return null;
  return addDays(toDateOnly(account.customerSince), rule.days);
}

export interface TenureCrossingFacts {
  /** From the account's latest evaluation; null when its tenure cannot cross by time alone. */
  crossesOn: DateOnly | null;
  /** The day of that evaluation. */
  evaluatedOn: DateOnly;
}

/**
 * Whether an account must be evaluated again because its tenure crossed the program's minimum
 * after its latest evaluation and by today: no CRM change announces that day.
 */
export function tenureCrossingDue(facts: TenureCrossingFacts, today: DateOnly): { due: boolean; reason: string } {
  const { crossesOn, evaluatedOn } = facts;
  if (crossesOn === null) return { due: false, reason: 'tenure cannot cross the minimum by time alone' };
  if (crossesOn <= evaluatedOn) return { due: false, reason: `tenure crossed on ${crossesOn}, before the evaluation of ${evaluatedOn}` };
  if (crossesOn > today) return { due: false, reason: `tenure crosses on ${crossesOn}, after today` };
  return { due: true, reason: `tenure crossed on ${crossesOn}, after the evaluation of ${evaluatedOn}` };
}

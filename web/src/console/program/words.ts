import type { RewardRule } from '../../../../src/domain/program.ts';

// Every closed list of the program, in the words the editor shows: [stored value, words].

export const REFERRER_TYPE_WORDS = [
  ['customer', 'Customers'],
  ['partner', 'Partners'],
  ['consultant', 'Consultants'],
  ['advisor', 'Advisors'],
  ['employee', 'Employees'],
] as const;

export const MILESTONE_WORDS = [
  ['qualified', 'when the referral is qualified'],
  ['closed_won', 'when the deal closes won'],
] as const;

export const RULE_KIND_WORDS = [
  ['fixed', 'A fixed fee at a milestone'],
  ['percent', 'A percentage of the deal'],
  ['bracket', 'A table by deal size'],
  ['revenue_share', 'A share of later renewals and expansions'],
] as const;

/** What a rule grants, in the editor's words: cash is a rule without a grant; recognition is for fixed rules only. */
export const GRANT_WORDS = [
  ['cash', 'Cash'],
  ['account_credit', 'An account credit (noted on their company in the CRM)'],
  ['gift_card', 'A gift card'],
  ['donation', 'A donation to a charity'],
  ['recognition', 'Recognition: a badge and a message, no money'],
] as const;

export const ATTRIBUTION_MODEL_WORDS = [
  ['first_touch', 'The first referrer gets the credit'],
  ['last_touch', 'The last referrer gets the credit'],
  ['linear', 'The credit is split evenly between the referrers'],
] as const;

export const CHANNEL_CONFLICT_WORDS = [
  ['influenced_only', 'The partner is shown as having influenced it, without credit or reward'],
  ['rep_sourced_blocks_partner', 'The partner gets no credit'],
  ['split_with_rep', 'The partner keeps half of its share; the rep has the other half'],
  ['ignore', 'The partner is credited as usual'],
] as const;

export const CLAIM_CUTOFF_WORDS = [
  ['qualified', 'until the deal is qualified'],
  ['in_sales_process', 'until the deal is in the sales process'],
  ['closed', 'until the deal is won or lost'],
] as const;

export const DEDUPE_WINNER_WORDS = [
  ['first', 'The first referral keeps the referee'],
  ['last', 'A newer referral takes the referee once its protection ends'],
] as const;

export const PLUS_ADDRESSING_WORDS = [
  ['strip', 'jo+promo@acme.com is the same person as jo@acme.com'],
  ['keep', 'jo+promo@acme.com is a different person from jo@acme.com'],
] as const;

export const REFEREE_NAMING_WORDS = [
  ['full_name', 'By full name'],
  ['first_name', 'By first name'],
  ['company_only', 'By company only'],
] as const;

export const ASKER_WORDS = [
  ['cs_owner', 'The account’s customer-success owner'],
  ['account_owner', 'The account owner'],
  ['admins', 'Console admins'],
] as const;

export const DEAL_SIZE_BASIS_WORDS = [
  ['first_year_value', 'The first-year value (else the amount)'],
  ['amount', 'The amount (else the first-year value)'],
] as const;

export const IF_MISSING_WORDS = [
  ['fail', 'The rule fails'],
  ['pass', 'The rule passes'],
] as const;

export const ELIGIBILITY_RULE_WORDS = {
  min_nps: 'Net Promoter Score',
  min_customer_days: 'Time as a customer',
  min_health_score: 'Health score',
  lifecycle_stage: 'Lifecycle stage',
  no_open_escalation: 'No open escalation',
} as const;

const words = (value: string) => value.replaceAll('_', ' ');

/** A rule's own description, else what it pays in words. */
export function ruleName(rule: RewardRule): string {
  if (rule.description) return rule.description;
  const kind = RULE_KIND_WORDS.find(([k]) => k === rule.kind)?.[1] ?? rule.kind;
  return `${kind} for ${rule.referrerTypes.map(words).join(', ')} referrers`;
}

const PATH_WORDS: Record<string, string> = {
  rewardRules: 'Reward rule',
  promotionRules: 'Promotion',
  milestoneBonuses: 'Bonus',
  brackets: 'row',
  rules: 'rule',
  amountCents: 'amount',
  minCents: 'at least',
  maxCents: 'at most',
  minDealCents: 'deals from',
  maxDealCents: 'deals below',
  fromCents: 'deals from',
  rateBasisPoints: 'percent',
  approvalThresholdCents: 'Approval threshold',
  perReferralCents: 'per referral',
  perReferrerPerYearCents: 'per referrer a year',
  refereeReward: "Referee's reward",
  landingUrl: 'landing page',
};

/** A field's path in words for the list of what to fix: "rewardRules.1.rateBasisPoints" → "Reward rule 2, percent". */
export function pathWords(key: string): string {
  if (!key) return 'The program';
  const parts: string[] = [];
  for (const step of key.split('.')) {
    if (/^\d+$/.test(step) && parts.length) parts[parts.length - 1] += ` ${Number(step) + 1}`;
    else parts.push(PATH_WORDS[step] ?? step.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase());
  }
  const text = parts.join(', ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

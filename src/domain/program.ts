import type { FeeBracket } from './fees.ts';
import type { RuleGrant } from './grants.ts';
import type { AskPolicy } from './referral-ask.ts';
import type { LinkPolicy } from './referral-links.ts';

// The program an admin configures. Rewards are always computed with the version a referral was
// submitted under, so a Program value is treated as immutable once referrals point at it.

export const REFERRER_TYPES = ['customer', 'partner', 'consultant', 'advisor', 'employee'] as const;
export type ReferrerType = (typeof REFERRER_TYPES)[number];

/** Lifecycle steps that earn rewards. */
export const REWARD_MILESTONES = ['qualified', 'closed_won'] as const;
export type RewardMilestone = (typeof REWARD_MILESTONES)[number];

/** Referrer messages name the referee in full, by first name, or by company only. */
export const REFEREE_NAMINGS = ['full_name', 'first_name', 'company_only'] as const;
export type RefereeNaming = (typeof REFEREE_NAMINGS)[number];

export type AttributionModel = 'first_touch' | 'last_touch' | 'linear';

/**
 * What happens when a deal is marked rep-sourced in the CRM and a partner or consultant also
 * referred it: block their credit, record them as influenced (no share, no reward), split the
 * credit with the rep (the partner keeps half of its share), or ignore it (credit the partner).
 */
export const CHANNEL_CONFLICT_POLICIES = ['rep_sourced_blocks_partner', 'influenced_only', 'split_with_rep', 'ignore'] as const;
export type ChannelConflictPolicy = (typeof CHANNEL_CONFLICT_POLICIES)[number];

/** The deal lifecycle step from which a deal can no longer be claimed. */
export const CLAIM_CUTOFF_STEPS = ['qualified', 'in_sales_process', 'closed'] as const;
export type ClaimCutoffStep = (typeof CLAIM_CUTOFF_STEPS)[number];

/**
 * Deal claims: a referral logged against a person, company or deal that already has an open deal
 * asks for credit on that deal instead of being turned away as a conflict.
 */
export interface ClaimsPolicy {
  allowed: boolean;
  /** Claims are possible while the deal has not reached this step ('closed': until won or lost). */
  until: ClaimCutoffStep;
  /** A deal can be claimed within this many days of its creation; a pending claim expires this many days after it was made. */
  windowDays: number;
  /** A claim waits for an approver; without approval it is accepted at once. */
  requireApproval: boolean;
  /** An existing customer's (expansion) deal may be claimed. */
  allowExpansion: boolean;
}

/** Safe defaults: claims allowed until the deal closes, within 90 days of its creation, each approved, no expansion deals. */
export function defaultClaimsPolicy(): ClaimsPolicy {
  return { allowed: true, until: 'closed', windowDays: 90, requireApproval: true, allowExpansion: false };
}

/**
 * Optional limits that make a rule apply only to some deals or referrers. Deal size is read as the
 * program's `dealSizeBasis` says; min is inclusive, max exclusive, so adjacent tiers [0, 100k) and
 * [100k, ∞) never overlap.
 */
export interface RuleTiers {
  minDealCents?: number;
  maxDealCents?: number;
  /** Referrer tiers (e.g. 'gold') the rule is limited to; absent or empty means every tier. */
  referrerTiers?: string[];
}

/**
 * What a rule's reward is given as (grants.ts): absent is cash. An account credit, a gift card or a
 * donation is the rule's amount given that way; recognition (a badge and a message, no money) is
 * granted by fixed rules of amount 0 only.
 */
export interface GrantingRule {
  grant?: RuleGrant;
}

/** A fixed fee paid when a referral reaches a milestone. */
export interface FixedRewardRule extends RuleTiers, GrantingRule {
  id: string;
  kind: 'fixed';
  description?: string;
  referrerTypes: ReferrerType[];
  milestone: RewardMilestone;
  amountCents: number;
}

/** A commission on the deal's first-year value, paid on close. */
export interface PercentRewardRule extends RuleTiers, GrantingRule {
  id: string;
  kind: 'percent';
  description?: string;
  referrerTypes: ReferrerType[];
  milestone: 'closed_won';
  /** 1000 bp = 10%. */
  rateBasisPoints: number;
  /** Floor: the commission is at least this ("2%, at least $1,000"). */
  minCents?: number;
  /** Cap: the commission is at most this. */
  maxCents?: number;
}

/**
 * A commission read from a table on the deal's first-year value: each row applies from its
 * `fromCents` (inclusive) up to the next row's (exclusive); the first row starts at 0.
 * E.g. [0 → $250, 10k → $500, 50k → 2% at least $1,000].
 */
export interface BracketRewardRule extends RuleTiers, GrantingRule {
  id: string;
  kind: 'bracket';
  description?: string;
  referrerTypes: ReferrerType[];
  milestone: 'closed_won';
  brackets: FeeBracket[];
}

/**
 * A share of the referred customer's later revenue: a percentage of each renewal or expansion deal
 * (by the installation's deal-kind rule) won on the referred company, for a period counted from the
 * referral's first won deal: `months` after its close date (the end day included) and/or its first
 * `renewals` renewals (an expansion pays while fewer renewals than that closed before it). New
 * business never pays under it; renewals and expansions pay under nothing else.
 */
export interface RevenueShareRewardRule extends RuleTiers, GrantingRule {
  id: string;
  kind: 'revenue_share';
  description?: string;
  referrerTypes: ReferrerType[];
  milestone: 'closed_won';
  /** 1500 bp = 15%, of the deal's first-year value (else amount). */
  rateBasisPoints: number;
  months?: number;
  renewals?: number;
}

/**
 * Rules are evaluated in order and the first matching rule of each reward kind wins (fixed → fee,
 * percent or bracket → commission, revenue_share → revenue share), so list specific tiers before general ones.
 */
export type RewardRule = FixedRewardRule | PercentRewardRule | BracketRewardRule | RevenueShareRewardRule;

/**
 * What deal-size limits compare: 'first_year_value' (the amount when no first-year value is
 * recorded), or 'amount' (the first-year value when no amount is recorded). Programs written before
 * this setting existed have none and keep reading the amount.
 */
export const DEAL_SIZE_BASES = ['first_year_value', 'amount'] as const;
export type DealSizeBasis = (typeof DEAL_SIZE_BASES)[number];

/**
 * "3 closed-won referrals in 12 months → gold": counted over the referrer's referrals whose deal
 * closed within `withinDays` days up to the close that is being applied, that one included.
 */
export interface PromotionRule {
  id: string;
  description?: string;
  /** Referrer types the rule promotes; absent means every type. */
  referrerTypes?: ReferrerType[];
  closedWonReferrals: number;
  withinDays: number;
  /** One of the program's `tiers`; a referrer already at it or above is left alone. */
  toTier: string;
}

export interface MilestoneBonus {
  id: string;
  description?: string;
  referrerTypes: ReferrerType[];
  /** Paid once per calendar quarter when the referrer reaches this many closed-won referrals in it. */
  closedWonPerQuarter: number;
  amountCents: number;
}

/** Dual-sided programs: what the referred person gets. */
export interface RefereeReward {
  milestone: RewardMilestone;
  amountCents: number;
  description: string;
}

/**
 * Each rule can be switched off, and says what to do when the CRM has no value for its field
 * ('fail' unless the program says the field is optional).
 */
export type EligibilityRule =
  | { kind: 'min_nps'; enabled: boolean; min: number; ifMissing: 'fail' | 'pass' }
  | { kind: 'min_customer_days'; enabled: boolean; days: number; ifMissing: 'fail' | 'pass' }
  | { kind: 'min_health_score'; enabled: boolean; min: number; ifMissing: 'fail' | 'pass' }
  | { kind: 'lifecycle_stage'; enabled: boolean; stages: string[]; ifMissing: 'fail' | 'pass' }
  | { kind: 'no_open_escalation'; enabled: boolean; ifMissing: 'fail' | 'pass' };

export type EligibilityRuleKind = EligibilityRule['kind'];

export interface Program {
  name: string;
  senderName: string;
  senderEmail: string;
  /** Finance's address: a daily digest of rewards waiting for approval or overdue. None sent when absent. */
  financeEmail?: string;
  /** ISO 4217; all program amounts are in its minor units. */
  currency: string;
  referrerTypes: ReferrerType[];
  requireAgreement: boolean;
  dedupe: {
    /** A referee referred within this many days before is a duplicate. */
    windowDays: number;
    /** 'first': the earliest valid referral keeps the referee; 'last': a newer one replaces it once its protection ends. */
    winner: 'first' | 'last';
    plusAddressing: 'strip' | 'keep';
    /** How long an accepted referral protects its referee against a 'last'-wins replacement. */
    protectionDays: number;
  };
  attribution: {
    model: AttributionModel;
    windowDays: number;
    channelConflict: ChannelConflictPolicy;
  };
  claims: ClaimsPolicy;
  rewardRules: RewardRule[];
  milestoneBonuses: MilestoneBonus[];
  refereeReward?: RefereeReward;
  /** Referrer tiers the program defines, lowest first; promotions only move a referrer up this list. */
  tiers?: string[];
  promotionRules?: PromotionRule[];
  /**
   * What deal-size thresholds compare, converted into the program's currency: the first-year value
   * (else the amount). Absent in versions written before it existed, which compare the amount.
   */
  dealSizeBasis?: DealSizeBasis;
  caps: {
    /** Referrer rewards of one referral (milestones and commission) together. */
    perReferralCents?: number;
    /** Referrer rewards (including bonuses) in one calendar year. */
    perReferrerPerYearCents?: number;
  };
  /** Days after close (or after qualification, for that milestone) until a reward is due. */
  payoutDays: number;
  /** Rewards strictly over this amount need an approval. */
  approvalThresholdCents: number;
  eligibility: { rules: EligibilityRule[] };
  discretion: {
    showStage: boolean;
    showReward: boolean;
    showDealAmount: boolean;
    showInternalNotes: boolean;
    /** How referrer messages name the referee (absent: 'full_name'); see REFEREE_NAMINGS. */
    refereeNaming?: RefereeNaming;
  };
  /** Referral asks to account champions (who may sign them, automatic asks); absent: `defaultAskPolicy()`. */
  asks?: AskPolicy;
  /** Referral links (`/r/<code>`): where they land and which domains a landing page may be on; absent: no links. */
  links?: LinkPolicy;
  notifications: {
    digest: boolean;
    /** Deal steps passed within this many seconds are told as one message (absent: 60, see quiet-period.ts). */
    quietPeriodSeconds?: number;
  };
}

export function defaultEligibilityRules(): EligibilityRule[] {
  return [
    { kind: 'min_nps', enabled: true, min: 9, ifMissing: 'fail' },
    { kind: 'min_customer_days', enabled: true, days: 90, ifMissing: 'fail' },
    // Many CRMs have no health score; the rule only applies when one is recorded.
    { kind: 'min_health_score', enabled: true, min: 70, ifMissing: 'pass' },
    { kind: 'lifecycle_stage', enabled: true, stages: ['customer'], ifMissing: 'fail' },
    // Escalations are usually only recorded when they exist: no data reads as none open.
    { kind: 'no_open_escalation', enabled: true, ifMissing: 'pass' },
  ];
}

/**
 * The program of a fresh install: customers and advisors earn $50 when a referral
 * is qualified and $500 when it closes won, or $1,000 for deals of $100,000 or more; partners
 * and consultants earn 10% of first-year value on close. Employees may submit referrals (so they
 * are tracked and attributed) but no rule pays them: internal referral pay usually runs through
 * payroll, and an admin can add a rule for them.
 * Channel conflict defaults to 'influenced_only': on a deal the CRM marks rep-sourced, a partner
 * is still shown as having influenced it but is not paid twice for the rep's work.
 */
export function defaultProgram(): Program {
  const window = 365;
  return {
    name: 'Referral program',
    senderName: 'Referral program',
    senderEmail: 'referrals@example.com',
    currency: 'USD',
    dealSizeBasis: 'first_year_value',
    referrerTypes: ['customer', 'partner', 'consultant', 'advisor', 'employee'],
    requireAgreement: false,
    dedupe: { windowDays: window, winner: 'first', plusAddressing: 'strip', protectionDays: window },
    attribution: { model: 'first_touch', windowDays: window, channelConflict: 'influenced_only' },
    claims: defaultClaimsPolicy(),
    rewardRules: [
      {
        id: 'qualified-fee',
        kind: 'fixed',
        description: '$50 when a referral is qualified',
        referrerTypes: ['customer', 'advisor'],
        milestone: 'qualified',
        amountCents: 5_000,
      },
      {
        id: 'enterprise-won-fee',
        kind: 'fixed',
        description: '$1,000 when a deal of $100,000 or more closes won',
        referrerTypes: ['customer', 'advisor'],
        milestone: 'closed_won',
        amountCents: 100_000,
        minDealCents: 10_000_000,
      },
      {
        id: 'won-fee',
        kind: 'fixed',
        description: '$500 when a deal closes won',
        referrerTypes: ['customer', 'advisor'],
        milestone: 'closed_won',
        amountCents: 50_000,
        maxDealCents: 10_000_000,
      },
      {
        id: 'partner-commission',
        kind: 'percent',
        description: '10% of first-year value when a deal closes won',
        referrerTypes: ['partner', 'consultant'],
        milestone: 'closed_won',
        rateBasisPoints: 1_000,
      },
    ],
    milestoneBonuses: [],
    caps: {},
    payoutDays: 90,
    approvalThresholdCents: 100_000,
    eligibility: { rules: defaultEligibilityRules() },
    discretion: { showStage: true, showReward: true, showDealAmount: false, showInternalNotes: false },
    notifications: { digest: false },
  };
}

/**
 * The tiers a referrer may be given: the program's `tiers`, or, when it declares none, those its
 * reward rules name.
 */
export function definedTiers(program: Program): string[] {
  if (program.tiers) return [...program.tiers];
  return [...new Set(program.rewardRules.flatMap((r) => r.referrerTiers ?? []))];
}

/** The deal size deal-size limits compare, by the program's basis; null when the deal has neither value. */
export function dealSizeOf(program: Program, deal: { firstYearValueCents: number | null; amountCents: number | null }): number | null {
  return (program.dealSizeBasis ?? 'amount') === 'first_year_value'
    ? (deal.firstYearValueCents ?? deal.amountCents)
    : (deal.amountCents ?? deal.firstYearValueCents);
}

/** Two programs say the same thing, whatever the order of their keys or absent optional fields. */
export function sameProgram(a: Program, b: Program): boolean {
  return sameSettings(a, b);
}

/** Two settings values alike whatever their keys' order, an undefined key as an absent one. */
export function sameSettings(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, canonical(v)]),
  );
}

/** Whether a referrer leaves a program: not one they are not in, nor the last one they are in. */
export type LeavingDecision = { outcome: 'leaves' } | { outcome: 'not_member' } | { outcome: 'refused'; reason: string };

/**
 * A referrer keeps at least one program: one of none is referred into the default program, and
 * would join it again with their next referral, so leaving the last one would undo itself.
 */
export function decideLeaving(memberOf: readonly string[], programId: string): LeavingDecision {
  if (!memberOf.includes(programId)) return { outcome: 'not_member' };
  if (memberOf.length === 1)
    return { outcome: 'refused', reason: 'It is the referrer’s only program: add them to another before removing them from this one.' };
  return { outcome: 'leaves' };
}

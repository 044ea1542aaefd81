import { addDays, calendarQuarter, toDateOnly, type DateOnly } from './dates.ts';
import { conversionOn, convertMinorUnits, type Conversion, type CurrencyBook } from './exchange.ts';
import { BASIS_POINTS_WHOLE, formatMoney, PPM_WHOLE, shareOfCents } from './money.ts';
import { revenueSharePeriod, type RecurringDeal } from './revenue-share.ts';
import { bracketFor, bracketLabel, feeForValue, type FeeOutcome } from './fees.ts';
import { CASH, grantNeedsApproval, grantOf, grantReason, isMoneyGrant, type Grant } from './grants.ts';
import {
  dealSizeOf,
  type BracketRewardRule,
  type FixedRewardRule,
  type PercentRewardRule,
  type Program,
  type RevenueShareRewardRule,
  type ReferrerType,
  type RewardMilestone,
  type RewardRule,
} from './program.ts';

export const REWARD_KINDS = ['milestone', 'commission', 'bonus', 'referee', 'revenue_share'] as const;
export type RewardKind = (typeof REWARD_KINDS)[number];
/** `needs_rate`: earned on a deal in another currency whose exchange rate is not known yet; settled when it is. */
export const REWARD_STATUSES = ['needs_rate', 'pending', 'approved', 'payable', 'paid', 'rejected', 'reversed'] as const;
export type RewardStatus = (typeof REWARD_STATUSES)[number];
/** Kinds of reward ledger entries: the accrual, status changes, an approver's rejection, a clawback. */
export const REWARD_ENTRY_KINDS = ['accrued', 'status', 'rejection', 'clawback'] as const;
export type RewardEntryKind = (typeof REWARD_ENTRY_KINDS)[number];

/** A reward already stored. Pass `status` so reversed and rejected rewards are recognized. */
export interface ExistingReward {
  idempotencyKey: string;
  netCents: number;
  kind: RewardKind;
  status?: RewardStatus;
}

export interface RewardInput {
  /** The locked program version the referral was submitted under. */
  program: Program;
  milestone: RewardMilestone;
  referral: { id: string; referrerId: string; referrerType: ReferrerType; referrerTier?: string | null };
  deal?: {
    id: string;
    firstYearValueCents: number | null;
    amountCents: number | null;
    currency: string;
    /** 'YYYY-MM-DD' or an ISO instant. */
    closeDate?: string | null;
  } | null;
  /** This referral's share of the deal's credit; 1_000_000 when whole, 0 when only influenced. */
  sharePpm: number;
  today: DateOnly;
  /** Rewards already accrued for this referral (and the referrer's bonuses of the quarter, if known). */
  existing: readonly ExistingReward[];
  /** The referrer's closed-won referrals in the close date's calendar quarter, this one included. */
  referrerClosedWonThisQuarter: number;
  /** Net referrer rewards accrued this calendar year, this referral's existing ones included. */
  referrerPaidThisYearCents: number;
  /** The installation's company currency and the CRM's exchange rates, for deals in another currency than the program's. */
  currencies?: CurrencyBook | null;
  /** The won deal is a renewal or expansion of the referred customer: only revenue-share rules pay it. */
  recurring?: RecurringDeal | null;
}

export interface RewardDecision {
  idempotencyKey: string;
  kind: RewardKind;
  beneficiary: 'referrer' | 'referee';
  milestone: RewardMilestone;
  referralId: string;
  referrerId: string;
  dealId: string | null;
  /** The reward rule or milestone bonus that produced it; null for the referee reward. */
  ruleId: string | null;
  /** The referrer's tier when it was earned: a later promotion does not change it. */
  referrerTier: string | null;
  amountCents: number;
  currency: string;
  dueDate: DateOnly;
  requiresApproval: boolean;
  /** Recognition is `paid` from the start: there is nothing to approve or pay out. */
  initialStatus: 'pending' | 'approved' | 'needs_rate' | 'paid';
  /** What the reward is given as (the rule's grant; cash for bonuses and referee rewards). */
  grant: Grant;
  reasons: string[];
  /** How a deal in another currency was converted (or waits to be): kept on the reward for finance. */
  conversion: RewardConversion | null;
}

/** The deal amount a reward was computed on, in its own currency, and the CRM rates used on the close date. */
export interface RewardConversion {
  dealCurrency: string;
  /** First-year value (else amount) in the deal currency's minor units. */
  dealAmountCents: number | null;
  /** The close date (or today, without one): the day whose rates apply. */
  rateDate: DateOnly;
  /** Each rate used, through the company currency; empty while the reward waits in needs_rate. */
  rates: { currency: string; rate: string; meaning: string; source: string; from: DateOnly | null }[];
}

export interface RewardPlan {
  decisions: RewardDecision[];
  /** Live rewards to reverse (clawbackDecision) because a recomputation replaces or drops them. */
  reverse: { idempotencyKey: string; reason: string }[];
  /** Why something was not granted, for the audit trail. */
  notes: string[];
}

/** Rewards needing approval wait for it; the rest are approved from the start. */
export function initialRewardStatus(requiresApproval: boolean): 'pending' | 'approved' {
  return requiresApproval ? 'pending' : 'approved';
}

/** New rewards a milestone earns. Replaying the same facts with the output fed back as `existing` yields nothing. */
export function computeRewards(input: RewardInput): RewardDecision[] {
  return planRewards(input).decisions;
}

/** computeRewards with the reasons for what was not granted. */
export function planRewards(input: RewardInput): RewardPlan {
  return plan(input, 'new');
}

/**
 * Brings the rewards of a milestone in line with the current facts (deal amount changed, share
 * changed, deal won again after a reversal): a live reward whose amount no longer matches is
 * reversed and replaced by a new one, so every amount change goes through approval again and
 * a paid reward is netted in the next payout. Bonuses are left alone: they reward a count
 * that was reached, and a later drop does not take them back.
 */
export function recomputeRewards(input: RewardInput): RewardPlan {
  return plan(input, 'recompute');
}

interface Candidate {
  base: string;
  kind: RewardKind;
  beneficiary: 'referrer' | 'referee';
  ruleId: string | null;
  cents: number;
  grant: Grant;
  reasons: string[];
  /** No exchange rate yet: the reward waits in `needs_rate` with this reason. */
  needsRate?: string;
  conversion?: RewardConversion | null;
}

const isLive = (r: ExistingReward): boolean =>
  r.status === undefined ? r.netCents > 0 : r.status !== 'reversed' && r.status !== 'rejected';

function plan(input: RewardInput, mode: 'new' | 'recompute'): RewardPlan {
  const { program, milestone, referral, deal, sharePpm } = input;
  const notes: string[] = [];
  const money = (cents: number): string => formatMoney(cents, program.currency);
  const won = milestone === 'closed_won';
  const dealId = won && deal ? deal.id : null;
  // Qualification happens once per referral; closing pays per won deal.
  const keyPrefix = `${referral.id}:${milestone}:`;
  const base = (kind: RewardKind): string => `${keyPrefix}${kind}${dealId ? `:${dealId}` : ''}`;
  const dueFrom = won && deal?.closeDate ? toDateOnly(deal.closeDate) : input.today;
  const dueDate = addDays(dueFrom, program.payoutDays);

  const candidates: Candidate[] = [];
  if (won && sharePpm === 0) {
    notes.push('the referral only influenced the deal, so it earns no reward');
  } else {
    candidates.push(...referrerCandidates(input, base, notes));
    const referee = program.refereeReward;
    // The referee's reward welcomes a new customer: a renewal is not one.
    if (referee && referee.milestone === milestone && !(won && input.recurring)) {
      candidates.push({
        base: base('referee'),
        kind: 'referee',
        beneficiary: 'referee',
        ruleId: null,
        cents: referee.amountCents,
        grant: CASH,
        reasons: [`${money(referee.amountCents)} for the referred person: ${referee.description}`],
      });
    }
  }

  const decisions: RewardDecision[] = [];
  const reverse: RewardPlan['reverse'] = [];
  const counts = (kinds: readonly RewardKind[]) => (r: ExistingReward) => kinds.includes(r.kind) && isLive(r);
  const perReferralKinds: readonly RewardKind[] = ['milestone', 'commission', 'revenue_share'];
  const perYearKinds: readonly RewardKind[] = ['milestone', 'commission', 'bonus', 'revenue_share'];
  let usedReferral = input.existing.filter(counts(perReferralKinds)).reduce((s, r) => s + r.netCents, 0);
  let usedYear = input.referrerPaidThisYearCents;
  const produced = new Set<string>();

  for (const c of candidates) {
    produced.add(c.base);
    const family = input.existing.filter((r) => r.idempotencyKey === c.base || r.idempotencyKey.startsWith(`${c.base}#`));
    const live = family.find(isLive);
    if (!live && family.some((r) => r.status === 'rejected')) {
      notes.push(`${c.base} was rejected by an approver and is not proposed again`);
      continue;
    }
    const reasons = [...c.reasons];
    const liveNet = live?.netCents ?? 0;
    let cents = c.cents;
    const cap = (limit: number | undefined, used: number, label: string): void => {
      if (limit === undefined) return;
      const room = Math.max(0, limit - (used - liveNet));
      if (cents > room) {
        cents = room;
        reasons.push(`capped at ${money(room)} by the ${label} cap of ${money(limit)}`);
      }
    };
    if (perReferralKinds.includes(c.kind)) cap(program.caps.perReferralCents, usedReferral, 'per-referral');
    if (perYearKinds.includes(c.kind)) cap(program.caps.perReferrerPerYearCents, usedYear, 'yearly per-referrer');

    if (live) {
      if (live.netCents === cents) continue; // replay: already accrued
      if (mode === 'new') {
        notes.push(`${live.idempotencyKey} already accrued ${money(live.netCents)}; recompute to change it to ${money(cents)}`);
        continue;
      }
      reverse.push({
        idempotencyKey: live.idempotencyKey,
        reason: `amount changes from ${money(live.netCents)} to ${money(cents)}`,
      });
    }
    if (perReferralKinds.includes(c.kind)) usedReferral += cents - liveNet;
    if (perYearKinds.includes(c.kind)) usedYear += cents - liveNet;
    if (c.needsRate) {
      decisions.push({
        idempotencyKey: family.length === 0 ? c.base : `${c.base}#${family.length + 1}`,
        kind: c.kind,
        beneficiary: c.beneficiary,
        milestone,
        referralId: referral.id,
        referrerId: referral.referrerId,
        referrerTier: referral.referrerTier ?? null,
        dealId,
        ruleId: c.ruleId,
        amountCents: 0,
        currency: program.currency,
        dueDate,
        requiresApproval: true,
        initialStatus: 'needs_rate',
        grant: c.grant,
        reasons: [...reasons, `waits for an exchange rate: ${c.needsRate}`],
        conversion: c.conversion ?? null,
      });
      continue;
    }
    const isMoney = isMoneyGrant(c.grant);
    if (isMoney && cents <= 0) {
      notes.push(`no ${c.kind} reward: ${reasons.at(-1) ?? 'nothing earned'}`);
      continue;
    }
    const requiresApproval = grantNeedsApproval(c.grant, cents, program.approvalThresholdCents);
    if (c.grant.kind !== 'cash') reasons.push(grantReason(c.grant, cents, program.currency));
    if (isMoney) {
      reasons.push(
        requiresApproval
          ? `needs approval: over the ${money(program.approvalThresholdCents)} threshold`
          : `approved automatically: not over the ${money(program.approvalThresholdCents)} threshold`,
        `due ${dueDate}, ${program.payoutDays} days after ${won && deal?.closeDate ? 'the close date' : 'the milestone'}`,
      );
    }
    decisions.push({
      idempotencyKey: family.length === 0 ? c.base : `${c.base}#${family.length + 1}`,
      kind: c.kind,
      beneficiary: c.beneficiary,
      milestone,
      referralId: referral.id,
      referrerId: referral.referrerId,
      dealId,
      ruleId: c.ruleId,
      referrerTier: referral.referrerTier ?? null,
      amountCents: cents,
      currency: program.currency,
      dueDate,
      requiresApproval,
      initialStatus: isMoney ? initialRewardStatus(requiresApproval) : 'paid',
      grant: c.grant,
      reasons,
      conversion: c.conversion ?? null,
    });
  }

  if (mode === 'recompute') {
    // Rewards of this milestone (and deal) the current facts no longer earn.
    for (const r of input.existing) {
      const familyBase = r.idempotencyKey.split('#')[0] ?? r.idempotencyKey;
      const ours = familyBase.startsWith(keyPrefix) && (!dealId || familyBase.endsWith(`:${dealId}`));
      if (ours && isLive(r) && !produced.has(familyBase)) {
        reverse.push({ idempotencyKey: r.idempotencyKey, reason: 'no longer earned with the current deal facts' });
      }
    }
  }
  return { decisions, reverse, notes };
}

function referrerCandidates(input: RewardInput, base: (kind: RewardKind) => string, notes: string[]): Candidate[] {
  const { program, milestone, referral, deal, sharePpm } = input;
  const money = (cents: number): string => formatMoney(cents, program.currency);
  const won = milestone === 'closed_won';
  // Program amounts are in the program's currency: a deal in another one is converted at the CRM's
  // rate in force on its close date; without one, amount-based rewards wait for it.
  const basis = dealBasis(input);
  const conversion = conversionRecord(input, basis);
  // Versions written before first-year values were compared keep comparing the deal amount.
  const dealSize =
    basis.kind === 'ok' ? dealSizeOf(program, { firstYearValueCents: basis.firstYearValueCents, amountCents: basis.amountCents }) : null;
  const appliesIgnoringSize = (rule: RewardRule): boolean =>
    rule.milestone === milestone &&
    rule.referrerTypes.includes(referral.referrerType) &&
    tiersMatch(rule, referral.referrerTier ?? null, null, true);
  const applies = (rule: RewardRule): boolean => appliesIgnoringSize(rule) && tiersMatch(rule, referral.referrerTier ?? null, dealSize);
  const shareNote = won && sharePpm < PPM_WHOLE ? [`${(sharePpm / 10_000).toFixed(2)}% share of the deal's credit`] : [];
  const applyShare = (cents: number): number => (won ? shareOfCents(cents, sharePpm) : cents);
  if (won && input.recurring) {
    const rule = program.rewardRules.find(
      (r): r is RevenueShareRewardRule => r.kind === 'revenue_share' && (basis.kind === 'needs_rate' ? appliesIgnoringSize(r) : applies(r)),
    );
    return revenueShareCandidates(input, input.recurring, rule, { basis, conversion, base, notes, shareNote, applyShare, dealSize });
  }
  const candidates: Candidate[] = [];

  const sized = (rule: RewardRule): boolean => rule.minDealCents !== undefined || rule.maxDealCents !== undefined;
  // Without a rate, a flat fee that does not depend on the deal size is still paid; one that does waits.
  const fixed = program.rewardRules.find(
    (r): r is FixedRewardRule => r.kind === 'fixed' && (basis.kind === 'needs_rate' ? appliesIgnoringSize(r) : applies(r)),
  );
  if (fixed && basis.kind === 'needs_rate' && sized(fixed)) {
    candidates.push({
      base: base('milestone'),
      kind: 'milestone',
      beneficiary: 'referrer',
      ruleId: null,
      cents: 0,
      grant: grantOf(fixed),
      reasons: [`a ${milestone.replace('_', ' ')} fee by deal size, on the deal's ${basis.dealMoney}`],
      needsRate: basis.reason,
      conversion,
    });
  } else if (fixed) {
    candidates.push({
      base: base('milestone'),
      kind: 'milestone',
      beneficiary: 'referrer',
      ruleId: fixed.id,
      // A fee chosen by the converted deal size keeps the conversion that chose it.
      conversion: sized(fixed) ? conversion : null,
      cents: applyShare(fixed.amountCents),
      grant: grantOf(fixed),
      reasons: [
        `${money(fixed.amountCents)} ${milestone.replace('_', ' ')} fee (rule ${ruleLabel(fixed)})`,
        ...tierNote(fixed, dealSize, money),
        ...shareNote,
      ],
    });
  }

  const commission = program.rewardRules.find(
    (r): r is PercentRewardRule | BracketRewardRule =>
      (r.kind === 'percent' || r.kind === 'bracket') && (basis.kind === 'needs_rate' ? appliesIgnoringSize(r) : applies(r)),
  );
  if (commission && basis.kind === 'needs_rate') {
    candidates.push({
      base: base('commission'),
      kind: 'commission',
      beneficiary: 'referrer',
      ruleId: commission.id,
      cents: 0,
      grant: grantOf(commission),
      reasons: [`a commission on the deal's ${basis.dealMoney} (rule ${ruleLabel(commission)})`],
      needsRate: basis.reason,
      conversion,
    });
  } else if (commission && basis.kind === 'ok') {
    if (basis.sourceCents === null || basis.firstYearValueCents === null) {
      notes.push(`rule ${commission.id}: the deal has neither a first-year value nor an amount, so no commission`);
    } else {
      const fee = commissionFor(commission, { ...basis, sourceCents: basis.sourceCents, valueCents: basis.firstYearValueCents }, program);
      candidates.push({
        base: base('commission'),
        kind: 'commission',
        beneficiary: 'referrer',
        ruleId: commission.id,
        cents: applyShare(fee.cents),
        grant: grantOf(commission),
        conversion,
        reasons: [...fee.reasons, ...basis.conversionReasons, ...tierNote(commission, dealSize, money), ...shareNote],
      });
    }
  }

  if (!fixed && !commission) notes.push(`no reward rule pays ${referral.referrerType} referrers at ${milestone.replace('_', ' ')}`);

  if (won) {
    const closeDay = deal?.closeDate ? toDateOnly(deal.closeDate) : input.today;
    const quarter = calendarQuarter(closeDay);
    const count = input.referrerClosedWonThisQuarter;
    for (const bonus of program.milestoneBonuses) {
      if (!bonus.referrerTypes.includes(referral.referrerType) || count < bonus.closedWonPerQuarter) continue;
      candidates.push({
        // Referrer- and quarter-scoped so it is paid once per quarter whichever referral reaches it.
        base: `${referral.referrerId}:bonus:${bonus.id}:${quarter}`,
        kind: 'bonus',
        beneficiary: 'referrer',
        ruleId: bonus.id,
        cents: bonus.amountCents,
        grant: CASH,
        reasons: [
          `${money(bonus.amountCents)} bonus for ${bonus.closedWonPerQuarter} closed-won referrals in ${quarter} (${count} so far)`,
        ],
      });
    }
  }
  return candidates;
}

/**
 * A renewal or expansion earns the first matching revenue-share rule's percentage of its value, if
 * it closed inside the rule's period, and nothing else: its reasons say which deal the period runs
 * from, so the reward ties back to the original referral.
 */
function revenueShareCandidates(
  input: RewardInput,
  recurring: RecurringDeal,
  rule: RevenueShareRewardRule | undefined,
  facts: {
    basis: DealBasis;
    conversion: RewardConversion | null;
    base: (kind: RewardKind) => string;
    notes: string[];
    shareNote: string[];
    applyShare: (cents: number) => number;
    dealSize: number | null;
  },
): Candidate[] {
  const { program, referral, deal } = input;
  const { basis, notes } = facts;
  const kindWords = `the deal is ${recurring.kind === 'renewal' ? 'a renewal' : 'an expansion'} (${recurring.kindReason}), so it earns only revenue-share rules, never a second new-business reward`;
  if (!rule || !deal) {
    notes.push(kindWords, `no revenue-share rule pays ${referral.referrerType} referrers`);
    return [];
  }
  const period = revenueSharePeriod(rule, deal.closeDate ?? input.today, recurring);
  if (!period.inPeriod) {
    notes.push(kindWords, ...period.reasons, `so rule ${ruleLabel(rule)} pays nothing for it`);
    return [];
  }
  const candidate = {
    base: facts.base('revenue_share'),
    kind: 'revenue_share' as const,
    beneficiary: 'referrer' as const,
    ruleId: rule.id,
    grant: grantOf(rule),
  };
  if (basis.kind === 'needs_rate') {
    return [
      {
        ...candidate,
        cents: 0,
        reasons: [kindWords, `a revenue share of the deal's ${basis.dealMoney} (rule ${ruleLabel(rule)})`, ...period.reasons],
        needsRate: basis.reason,
        conversion: facts.conversion,
      },
    ];
  }
  if (basis.kind !== 'ok' || basis.sourceCents === null || basis.firstYearValueCents === null) {
    notes.push(kindWords, `rule ${rule.id}: the deal has neither a first-year value nor an amount, so no revenue share`);
    return [];
  }
  const { sourceCents } = basis;
  const percentOf = (rateBasisPoints: number): number =>
    convertMinorUnits(sourceCents, basis.conversion, {
      numerator: BigInt(rateBasisPoints),
      denominator: BigInt(BASIS_POINTS_WHOLE),
    });
  const fee = feeForValue(
    { kind: 'percent', rateBasisPoints: rule.rateBasisPoints },
    { cents: basis.firstYearValueCents, label: basis.label, percentOf },
    program.currency,
  );
  const money = (cents: number): string => formatMoney(cents, program.currency);
  return [
    {
      ...candidate,
      cents: facts.applyShare(fee.cents),
      conversion: facts.conversion,
      reasons: [
        `${fee.reasons[0]} revenue share (rule ${ruleLabel(rule)})`,
        kindWords,
        ...period.reasons,
        ...basis.conversionReasons,
        ...tierNote(rule, facts.dealSize, money),
        ...facts.shareNote,
      ],
    },
  ];
}

/** What finance keeps of a conversion: only for deals in another currency than the program's. */
function conversionRecord(input: RewardInput, basis: DealBasis): RewardConversion | null {
  const { deal } = input;
  if (!deal || deal.currency === input.program.currency || basis.kind === 'none') return null;
  return {
    dealCurrency: deal.currency,
    dealAmountCents: deal.firstYearValueCents ?? deal.amountCents,
    rateDate: deal.closeDate ? toDateOnly(deal.closeDate) : input.today,
    rates:
      basis.kind === 'ok'
        ? basis.conversion.rates.map(({ currency, rate, meaning, source, from }) => ({ currency, rate, meaning, source, from }))
        : [],
  };
}

type DealBasis =
  | { kind: 'none' }
  | { kind: 'needs_rate'; reason: string; dealMoney: string }
  | {
      kind: 'ok';
      /** First-year value (else amount) in the deal's own currency, the percentage's basis. */
      sourceCents: number | null;
      /** …converted to the program's currency, rounded once: what deal-size thresholds compare. */
      firstYearValueCents: number | null;
      /** The deal amount converted, for versions whose deal size is the amount (else the first-year value). */
      amountCents: number | null;
      conversion: Conversion;
      label: string;
      shown: string;
      conversionReasons: string[];
    };

/**
 * The deal's first-year value (else its amount) and how it converts into the program's currency on
 * the close date. Locked program versions keep their own rules; only the rate comes from the CRM.
 */
function dealBasis(input: RewardInput): DealBasis {
  const { deal, program } = input;
  if (!deal) return { kind: 'none' };
  const sourceCents = deal.firstYearValueCents ?? deal.amountCents;
  const label = deal.firstYearValueCents === null ? 'the deal amount (no first-year value recorded)' : 'first-year value';
  const shown = sourceCents === null ? 'unknown' : formatMoney(sourceCents, deal.currency);
  const day = deal.closeDate ? toDateOnly(deal.closeDate) : input.today;
  const book = input.currencies ?? { companyCurrency: program.currency, rates: [], limitation: 'the CRM gave no exchange rates' };
  const result = conversionOn(book, deal.currency, program.currency, day);
  if (!result.ok) return { kind: 'needs_rate', reason: result.reason, dealMoney: `${label} ${shown}` };
  const { conversion } = result;
  const converted = sourceCents === null ? null : convertMinorUnits(sourceCents, conversion);
  const conversionReasons =
    conversion.rates.length === 0 || converted === null
      ? []
      : [
          `${shown} is ${formatMoney(converted, program.currency)} at ${conversion.description}, the rate in force on the close date ${day}`,
        ];
  const amountCents = deal.amountCents === null ? converted : convertMinorUnits(deal.amountCents, conversion);
  return { kind: 'ok', sourceCents, firstYearValueCents: converted, amountCents, conversion, label, shown, conversionReasons };
}

/**
 * A commission rule applied to the deal's first-year value in the program's currency. A percentage
 * is taken of the deal's own value at the exact rate, so it is rounded once; the rule is named in
 * the first reason.
 */
function commissionFor(
  rule: PercentRewardRule | BracketRewardRule,
  basis: { sourceCents: number; valueCents: number; conversion: Conversion; label: string },
  program: Program,
): FeeOutcome {
  const percentOf = (rateBasisPoints: number): number =>
    convertMinorUnits(basis.sourceCents, basis.conversion, {
      numerator: BigInt(rateBasisPoints),
      denominator: BigInt(BASIS_POINTS_WHOLE),
    });
  const value = { cents: basis.valueCents, label: basis.label, percentOf };
  const valueWords = `${basis.label} ${formatMoney(basis.valueCents, program.currency)}`;
  if (rule.kind === 'percent') {
    const { rateBasisPoints, minCents, maxCents } = rule;
    const fee = feeForValue({ kind: 'percent', rateBasisPoints, minCents, maxCents }, value, program.currency);
    return { cents: fee.cents, reasons: [`${fee.reasons[0]} (rule ${ruleLabel(rule)})`, ...fee.reasons.slice(1)] };
  }
  const bracket = bracketFor(rule.brackets, basis.valueCents);
  if (!bracket) return { cents: 0, reasons: [`${valueWords} is below every bracket of rule ${ruleLabel(rule)}`] };
  const fee = feeForValue(bracket.fee, value, program.currency);
  return {
    cents: fee.cents,
    reasons: [
      `${valueWords} is in the bracket ${bracketLabel(rule.brackets, bracket, program.currency)} (rule ${ruleLabel(rule)})`,
      ...fee.reasons,
    ],
  };
}

function tiersMatch(rule: RewardRule, referrerTier: string | null, dealSize: number | null, ignoreSize = false): boolean {
  const tiers = rule.referrerTiers ?? [];
  if (tiers.length > 0 && (referrerTier === null || !tiers.includes(referrerTier))) return false;
  if (ignoreSize) return true;
  const { minDealCents: min, maxDealCents: max } = rule;
  if (min === undefined && max === undefined) return true;
  if (dealSize === null) return false;
  return (min === undefined || dealSize >= min) && (max === undefined || dealSize < max);
}

function tierNote(rule: RewardRule, dealSize: number | null, money: (c: number) => string): string[] {
  if (dealSize === null || (rule.minDealCents === undefined && rule.maxDealCents === undefined)) return [];
  const bounds = [
    rule.minDealCents !== undefined ? `at least ${money(rule.minDealCents)}` : null,
    rule.maxDealCents !== undefined ? `under ${money(rule.maxDealCents)}` : null,
  ].filter((b) => b !== null);
  return [`deal size ${money(dealSize)} is ${bounds.join(' and ')}`];
}

function ruleLabel(rule: RewardRule): string {
  return rule.description ? `${rule.id}: ${rule.description}` : rule.id;
}

export interface ClawbackEntry {
  rewardId: string;
  idempotencyKey: string;
  /** Negative: brings the reward's net to exactly zero. */
  amountCents: number;
  currency: string;
  /** Already paid out: the entry is deducted from the referrer's next payout. */
  settlesInNextPayout: boolean;
  nextStatus: 'reversed';
  reasons: string[];
}

/**
 * Offsetting entries that net each reward to zero. A reversed reward never comes back (a deal won
 * again earns a new reward), so one clawback per reward is all there is and its key is stable.
 */
export function clawbackDecision(
  rewards: readonly { id: string; netCents: number; status: RewardStatus; currency: string }[],
  reason: string,
): ClawbackEntry[] {
  return rewards
    .filter((r) => r.netCents > 0 && r.status !== 'rejected')
    .map((r) => ({
      rewardId: r.id,
      idempotencyKey: `${r.id}:clawback`,
      amountCents: -r.netCents,
      currency: r.currency,
      settlesInNextPayout: r.status === 'paid',
      nextStatus: 'reversed' as const,
      reasons: [
        `${formatMoney(r.netCents, r.currency)} reversed: ${reason}`,
        ...(r.status === 'paid' ? ['already paid, so it is deducted from the next payout'] : []),
      ],
    }));
}

export type RewardAction = 'approve' | 'reject' | 'make_payable' | 'mark_paid' | 'reverse';

export type RewardTransition =
  | { ok: true; from: RewardStatus; to: RewardStatus; changed: boolean; reason: string }
  | { ok: false; from: RewardStatus; action: RewardAction; reason: string };

const REWARD_MOVES: Readonly<Record<RewardAction, { to: RewardStatus; from: readonly RewardStatus[] }>> = {
  approve: { to: 'approved', from: ['pending'] },
  reject: { to: 'rejected', from: ['pending', 'approved', 'payable'] },
  make_payable: { to: 'payable', from: ['approved'] },
  mark_paid: { to: 'paid', from: ['payable'] },
  reverse: { to: 'reversed', from: ['needs_rate', 'pending', 'approved', 'payable', 'paid'] },
};

const REFUSALS: Readonly<Partial<Record<RewardStatus, string>>> = {
  needs_rate: 'it waits for an exchange rate and is settled when the CRM has one',
  pending: 'it still needs approval',
  approved: 'it is not payable yet',
  payable: 'it is already approved and payable',
  paid: 'it was already paid; reverse it instead',
  rejected: 'it was rejected',
  reversed: 'it was reversed',
};

/** Reward state machine: pending → approved → payable → paid, or rejected / reversed. Repeats are no-ops. */
export function rewardTransition(from: RewardStatus, action: RewardAction): RewardTransition {
  const move = REWARD_MOVES[action];
  const verb = action.replace('_', ' ');
  if (from === move.to) return { ok: true, from, to: from, changed: false, reason: `already ${from}` };
  if (!move.from.includes(from)) {
    return { ok: false, from, action, reason: `cannot ${verb} a ${from} reward: ${REFUSALS[from] ?? 'not allowed'}` };
  }
  return { ok: true, from, to: move.to, changed: true, reason: `${verb}: ${from} → ${move.to}` };
}

/** An approved reward becomes payable on its due date. */
export function payableDecision(
  reward: { status: RewardStatus; dueDate: DateOnly },
  today: DateOnly,
): { payable: boolean; reason: string } {
  if (reward.status === 'payable') return { payable: true, reason: 'already payable' };
  if (reward.status === 'pending') return { payable: false, reason: 'waiting for approval' };
  if (reward.status === 'needs_rate') return { payable: false, reason: 'waiting for an exchange rate' };
  if (reward.status !== 'approved') return { payable: false, reason: `a ${reward.status} reward is not paid out` };
  return reward.dueDate <= today
    ? { payable: true, reason: `due on ${reward.dueDate}` }
    : { payable: false, reason: `not due until ${reward.dueDate}` };
}

import { compareText } from './compare.ts';
import { addDaysToInstant, instantMs, MS_PER_DAY, type IsoInstant } from './dates.ts';
import type { ClaimCutoffStep, ClaimsPolicy } from './program.ts';
import type { ReferralStatus } from './referral-lifecycle.ts';

/**
 * Who reads a verdict. Reps and admins see the CRM's facts and who holds a deal; a referrer sees
 * neither another referrer's identity nor the CRM's data (deal names, stages, owners).
 */
export type Audience = 'rep' | 'admin' | 'referrer';

/** An open (or named) deal as a claim sees it: labels, not ids, so the verdict reads well. */
export interface ClaimableDeal {
  id: string;
  name: string | null;
  /** The stage as the CRM shows it ("Presentation scheduled"). */
  stageLabel: string;
  ownerId: string | null;
  ownerName: string | null;
  createdAt: IsoInstant;
  isClosed: boolean;
  isWon: boolean;
  /** The lifecycle step the deal's stage maps to. */
  step: 'contacted' | 'qualified' | 'in_sales_process' | 'closed_won' | 'closed_lost';
  /** The deal's company is already a customer: an expansion deal. */
  isExpansion: boolean;
}

/** A referral that holds a deal: linked to it, or a pending claim on it. */
export interface DealHolder {
  referralId: string;
  referrerId: string;
  referrerName: string;
  status: ReferralStatus;
  submittedAt: IsoInstant;
  protectedUntil: IsoInstant | null;
}

export interface ClaimFacts {
  policy: ClaimsPolicy;
  now: IsoInstant;
  audience: Audience;
  /** The claiming referrer, when already known. */
  referrerId: string | null;
  deal: ClaimableDeal;
  holders: readonly DealHolder[];
}

export type ClaimConflictCode = 'held' | 'closed' | 'forbidden' | 'past_cutoff' | 'outside_window' | 'expansion';

export interface ClaimCollision {
  dealId: string;
  referralId?: string;
  /** Reps and admins only. */
  referrerName?: string;
  protectedUntil?: IsoInstant;
}

export type ClaimVerdict =
  | { outcome: 'claim_pending'; dealId: string; expiresAt: IsoInstant; reasons: string[] }
  | { outcome: 'accepted'; dealId: string; reasons: string[] }
  | { outcome: 'duplicate'; collidesWith: ClaimCollision; reasons: string[] }
  | { outcome: 'conflict'; code: ClaimConflictCode; collidesWith: ClaimCollision; reasons: string[] };

/** Referrals that no longer hold anything. */
const RELEASED: readonly ReferralStatus[] = ['submitted', 'rejected', 'expired', 'closed_lost'];

const STEP_RANK: Record<ClaimableDeal['step'] | ClaimCutoffStep, number> = {
  contacted: 1,
  qualified: 2,
  in_sales_process: 3,
  closed: 4,
  closed_won: 4,
  closed_lost: 4,
};

/** "deal "Acme platform" (stage Presentation scheduled, owner Sam Rep)"; a referrer reads "a deal already in progress". */
export function describeDeal(deal: Pick<ClaimableDeal, 'id' | 'name' | 'stageLabel' | 'ownerName'>, audience: Audience): string {
  if (audience === 'referrer') return 'a deal our sales team is already working on';
  const owner = deal.ownerName ? `, owner ${deal.ownerName}` : '';
  return `deal "${deal.name ?? deal.id}" (stage ${deal.stageLabel}${owner})`;
}

/**
 * A referral logged against a record that already has a deal asks for credit on that deal. In
 * order: the same referrer already holds it (duplicate) → another referrer holds it → the deal is
 * closed → the program forbids claims → the deal is past the program's cutoff step → outside the
 * claim window → an expansion deal the program does not open to referrals. Otherwise the claim
 * waits for approval, or is accepted at once when the program needs none.
 */
export function claimVerdict(facts: ClaimFacts): ClaimVerdict {
  const { policy, deal, audience, now } = facts;
  const described = describeDeal(deal, audience);
  const Described = described.charAt(0).toUpperCase() + described.slice(1);
  const conflict = (code: ClaimConflictCode, reason: string, extra: Partial<ClaimCollision> = {}): ClaimVerdict => ({
    outcome: 'conflict',
    code,
    collidesWith: { dealId: deal.id, ...extra },
    reasons: [reason],
  });

  const holders = facts.holders
    .filter((h) => !RELEASED.includes(h.status))
    .sort((a, b) => instantMs(a.submittedAt) - instantMs(b.submittedAt) || compareText(a.referralId, b.referralId));
  const own = holders.find((h) => facts.referrerId !== null && h.referrerId === facts.referrerId);
  if (own) {
    const how = own.status === 'claim_pending' ? 'claimed' : 'were credited with';
    const who =
      audience === 'referrer'
        ? `You already ${how}`
        : `${own.referrerName} already ${own.status === 'claim_pending' ? 'claimed' : 'holds'}`;
    return {
      outcome: 'duplicate',
      collidesWith: { dealId: deal.id, referralId: own.referralId },
      reasons: [`${who} ${described} on ${own.submittedAt.slice(0, 10)} (referral ${own.referralId}).`],
    };
  }
  const other = holders[0];
  if (other) {
    const until = other.protectedUntil ? `, protected until ${other.protectedUntil.slice(0, 10)}` : '';
    const pending = other.status === 'claim_pending' ? ' (a claim waiting for approval)' : '';
    return audience === 'referrer'
      ? conflict('held', 'This introduction concerns a deal that is already credited to another referral, so it cannot be accepted.')
      : conflict('held', `${Described} is already held by ${other.referrerName}'s referral ${other.referralId}${pending}${until}.`, {
          referralId: other.referralId,
          referrerName: other.referrerName,
          ...(other.protectedUntil ? { protectedUntil: other.protectedUntil } : {}),
        });
  }

  if (deal.isClosed) {
    return conflict('closed', `${Described} is already closed ${deal.isWon ? 'won' : 'lost'}, so it cannot be claimed.`);
  }
  if (!policy.allowed) {
    return conflict('forbidden', `${Described} already exists, and the program does not allow referrals to claim existing deals.`);
  }
  if (STEP_RANK[deal.step] >= STEP_RANK[policy.until]) {
    return conflict(
      'past_cutoff',
      `${Described} is already ${deal.step.replace(/_/g, ' ')}; the program allows claims only before a deal is ${policy.until.replace(/_/g, ' ')}.`,
    );
  }
  const ageMs = instantMs(now) - instantMs(deal.createdAt);
  if (ageMs > policy.windowDays * MS_PER_DAY) {
    return conflict(
      'outside_window',
      `${Described} was created on ${deal.createdAt.slice(0, 10)}, ${Math.floor(ageMs / MS_PER_DAY)} days ago; ` +
        `the program allows claims within ${policy.windowDays} days of a deal's creation.`,
    );
  }
  if (deal.isExpansion && !policy.allowExpansion) {
    return conflict(
      'expansion',
      `${Described} is an expansion deal of an existing customer, and the program does not accept referrals for existing customers.`,
    );
  }

  if (!policy.requireApproval) {
    return { outcome: 'accepted', dealId: deal.id, reasons: [`Claim on ${described} accepted: the deal is credited to this referral.`] };
  }
  const expiresAt = addDaysToInstant(now, policy.windowDays);
  return {
    outcome: 'claim_pending',
    dealId: deal.id,
    expiresAt,
    reasons: [
      `Claim on ${described} recorded; waiting for approval by the program's approvers.`,
      `It expires on ${expiresAt.slice(0, 10)} unless it is approved before.`,
    ],
  };
}

export type DealChoice =
  | { outcome: 'none' }
  | { outcome: 'one'; deal: ClaimableDeal }
  | { outcome: 'choose_deal'; deals: ClaimableDeal[]; reasons: string[] };

/**
 * Which deal a claim is on: the one named, else the only open deal of the person or company.
 * Several open deals and none named: the submitter chooses, and nothing is written meanwhile.
 */
export function chooseClaimDeal(openDeals: readonly ClaimableDeal[], audience: Audience): DealChoice {
  const deals = [...openDeals].sort((a, b) => instantMs(a.createdAt) - instantMs(b.createdAt) || compareText(a.id, b.id));
  const [only, ...more] = deals;
  if (!only) return { outcome: 'none' };
  if (more.length === 0) return { outcome: 'one', deal: only };
  const names = audience === 'referrer' ? [] : deals.map((d) => describeDeal(d, audience));
  return {
    outcome: 'choose_deal',
    deals,
    reasons: [
      audience === 'referrer'
        ? `This introduction matches ${deals.length} deals our sales team is already working on; please ask your contact at the company which one it concerns.`
        : `There are ${deals.length} open deals: ${names.join('; ')}. Name the deal this referral claims.`,
    ],
  };
}

export type ClaimDecisionInput = { action: 'approve'; approvedBy: string } | { action: 'reject'; rejectedBy: string; reason: string };

export type ClaimDecision =
  | { change: 'approved' | 'rejected'; to: 'accepted' | 'rejected'; reasons: string[] }
  | { change: 'none'; reasons: string[] }
  | { change: 'refused'; reasons: string[] };

/**
 * An approver decides a pending claim. Deciding the same way twice changes nothing; a claim that
 * was decided the other way, expired, or is no claim at all cannot be decided again.
 */
export function decideClaimApproval(
  claim: { id: string; status: ReferralStatus; claimedDealId: string | null; decidedAs: 'approved' | 'rejected' | null },
  input: ClaimDecisionInput,
): ClaimDecision {
  const wanted = input.action === 'approve' ? 'approved' : 'rejected';
  if (!claim.claimedDealId) return { change: 'refused', reasons: [`Referral ${claim.id} is not a claim on a deal.`] };
  if (claim.status !== 'claim_pending') {
    if (claim.decidedAs === wanted) return { change: 'none', reasons: [`The claim was already ${wanted}; nothing changed.`] };
    const now = claim.decidedAs ? `was already ${claim.decidedAs}` : `is ${claim.status.replace(/_/g, ' ')}`;
    return { change: 'refused', reasons: [`The claim ${now}, so it cannot be ${wanted}.`] };
  }
  if (input.action === 'approve') {
    return {
      change: 'approved',
      to: 'accepted',
      reasons: [`Claim on deal ${claim.claimedDealId} approved by ${input.approvedBy}; the deal is credited to this referral.`],
    };
  }
  return {
    change: 'rejected',
    to: 'rejected',
    reasons: [`Claim on deal ${claim.claimedDealId} rejected by ${input.rejectedBy}: ${input.reason}`],
  };
}

export interface ClaimExpiry {
  expire: boolean;
  expiresAt: IsoInstant;
  reason: string;
}

/** A claim nobody approved within the program's claim window expires and releases the deal. */
export function claimExpiry(
  claim: { status: ReferralStatus; submittedAt: IsoInstant },
  policy: ClaimsPolicy,
  now: IsoInstant,
): ClaimExpiry {
  const expiresAt = addDaysToInstant(claim.submittedAt, policy.windowDays);
  const day = expiresAt.slice(0, 10);
  if (claim.status !== 'claim_pending') return { expire: false, expiresAt, reason: `the referral is no pending claim` };
  if (instantMs(now) < instantMs(expiresAt)) return { expire: false, expiresAt, reason: `the claim waits for approval until ${day}` };
  return {
    expire: true,
    expiresAt,
    reason: `the claim was not approved within the program's ${policy.windowDays}-day claim window, which ended on ${day}`,
  };
}

import { chooseClaimDeal, claimVerdict, describeDeal, type Audience, type ClaimableDeal, type DealHolder } from './claims.ts';
import { compareText } from './compare.ts';
import { addDaysToInstant, instantMs, type IsoInstant } from './dates.ts';
import { domainFromEmail, isFreeMailDomain, normalizeEmail, refereeIdentity } from './normalize.ts';
import type { Program, ReferrerType } from './program.ts';
import type { ReferralStatus } from './referral-lifecycle.ts';

export interface PriorReferral {
  id: string;
  referrerId: string;
  /** Normalized when stored; normalized again here in case the policy changed since. */
  refereeEmail: string;
  refereeDomain: string | null;
  status: ReferralStatus;
  submittedAt: IsoInstant;
  protectedUntil?: IsoInstant | null;
}

export interface SubmissionFacts {
  program: Program;
  now: IsoInstant;
  referrer: { id?: string | null; email: string; type: ReferrerType; agreementAcceptedAt?: IsoInstant | null };
  referee: { email: string; domain?: string | null; company?: string | null; website?: string | null };
  priorReferrals: readonly PriorReferral[];
  /** Who submits and reads the verdict: a referrer never sees another referrer or the CRM's data. */
  audience?: Audience;
  crm: {
    customerAccount?: { companyId: string; name: string } | null;
    /** The referee's (person's or company's) open deals. */
    openDeals: readonly ClaimableDeal[];
    /** The deal the submitter named (the card on a deal record): the referral claims it. */
    namedDeal?: ClaimableDeal | null;
    /** Per deal id, the referrals that hold it (linked to it, or pending claims on it). */
    holders?: Readonly<Record<string, readonly DealHolder[]>>;
  };
}

export type RejectionCode = 'duplicate' | 'conflict' | 'ineligible_referrer' | 'self_referral';

export interface Collision {
  referralId?: string;
  dealId?: string;
  ownerId?: string;
  ownerName?: string;
  companyId?: string;
  /** The referrer who holds the deal; never told to another referrer. */
  referrerName?: string;
}

export type SubmissionVerdict =
  | {
      outcome: 'accepted';
      refereeEmail: string;
      refereeDomain: string | null;
      /** Until when this referral keeps its referee (see Program.dedupe.protectionDays). */
      protectedUntil: IsoInstant;
      /** Earlier referrals this one replaces under a 'last' winner policy; the caller closes them. */
      supersedes: string[];
      /** A claim the program accepts without approval: the deal is credited to this referral. */
      claimedDealId?: string;
      reasons: string[];
    }
  | {
      /** A claim on an existing deal, holding it until an approver decides or the claim expires. */
      outcome: 'claim_pending';
      refereeEmail: string;
      refereeDomain: string | null;
      protectedUntil: IsoInstant;
      claimedDealId: string;
      expiresAt: IsoInstant;
      reasons: string[];
    }
  | {
      /** Several open deals and none named: nothing is recorded until the submitter names one. */
      outcome: 'choose_deal';
      refereeEmail: string;
      refereeDomain: string | null;
      deals: ClaimableDeal[];
      reasons: string[];
    }
  | {
      outcome: 'rejected';
      code: RejectionCode;
      refereeEmail: string;
      refereeDomain: string | null;
      reasons: string[];
      /** The same for the referrer, when they submitted it: their words, no internal ids. */
      referrerReason: string;
      collidesWith?: Collision;
      /** For duplicates: the date from which this referee could be referred again. */
      protectedUntil?: IsoInstant;
      /** The submission named a deal (a claim): failing, it records nothing. */
      claim?: boolean;
    };

/** Referrals that no longer hold their referee. */
const SPENT: readonly ReferralStatus[] = ['rejected', 'expired', 'closed_lost'];

/**
 * Checks a new referral in order: referrer allowed → self-referral → duplicate → an existing deal
 * (a claim on it, see claims.ts) → an existing customer. Every outcome carries sentences the
 * submitter can read.
 */
export function checkSubmission(facts: SubmissionFacts): SubmissionVerdict {
  const { program, now, referrer, crm } = facts;
  const { email, domain } = refereeIdentity(facts.referee, program.dedupe);
  const who = domain ? `${email} (${domain})` : email;
  const reject = (
    code: RejectionCode,
    reasons: string[],
    extra: { collidesWith?: Collision; protectedUntil?: IsoInstant; referrerReason?: string } = {},
  ): SubmissionVerdict => {
    const { referrerReason = reasons.join(' '), ...collision } = extra;
    return {
      outcome: 'rejected',
      code,
      refereeEmail: email,
      refereeDomain: domain,
      reasons,
      referrerReason,
      ...collision,
      // A submission naming a deal is a claim: failing, it records nothing.
      ...(crm.namedDeal ? { claim: true } : {}),
    };
  };

  if (!program.referrerTypes.includes(referrer.type)) {
    return reject('ineligible_referrer', [`${capitalize(referrer.type)} referrers are not part of the ${program.name}.`]);
  }
  if (program.requireAgreement && !referrer.agreementAcceptedAt) {
    return reject('ineligible_referrer', [`Please accept the ${program.name} agreement before submitting referrals.`]);
  }

  const referrerEmail = normalizeEmail(referrer.email, program.dedupe);
  const referrerDomain = domainFromEmail(referrerEmail);
  if (referrerEmail === email) return reject('self_referral', ['You cannot refer yourself.']);
  if (domain !== null && referrerDomain === domain) {
    return reject('self_referral', [`${email} works at your own company (${domain}); referrals must be for another company.`]);
  }

  const duplicate = findDuplicate(facts, email, domain);
  if (duplicate.verdict === 'duplicate') {
    const { prior, openUntil, byYou, via } = duplicate;
    const target = via === 'email' ? email : `someone at ${domain}`;
    const when = prior.submittedAt.slice(0, 10);
    const already = byYou
      ? `You already referred ${target} on ${when}`
      : `${via === 'email' ? email : `Someone at ${domain}`} was already referred on ${when}`;
    const protection = openUntil
      ? [
          program.dedupe.winner === 'first'
            ? `The first referral counts; it is protected until ${openUntil.slice(0, 10)}.`
            : `It is protected until ${openUntil.slice(0, 10)}; after that a new referral can replace it.`,
        ]
      : [];
    return reject('duplicate', [`${already} (referral ${prior.id}).`, ...protection], {
      collidesWith: { referralId: prior.id },
      ...(openUntil ? { protectedUntil: openUntil } : {}),
      referrerReason: [`${byYou ? already : `${already} by someone else`}.`, ...protection].join(' '),
    });
  }

  const audience = facts.audience ?? 'rep';
  const protectedUntil = addDaysToInstant(now, program.dedupe.protectionDays);
  const named = crm.namedDeal ?? null;
  const [firstDeal, ...moreDeals] = crm.openDeals;
  if (!named && firstDeal && !program.claims.allowed) {
    const more = moreDeals.length > 0 ? ` and ${moreDeals.length} more` : '';
    const deal = describeDeal(firstDeal, audience);
    return reject(
      'conflict',
      [
        `${who} conflicts with ${audience === 'referrer' ? deal : `open ${deal}`}${more}; the program does not allow referrals to claim existing deals.`,
      ],
      {
        collidesWith: dealCollision(firstDeal, audience),
        // The deal, its owner and its size are the sales team's, not the referrer's.
        referrerReason: `${who} is already talking with our sales team, so it cannot be referred.`,
      },
    );
  }
  const choice = named ? ({ outcome: 'one', deal: named } as const) : chooseClaimDeal(crm.openDeals, audience);
  if (choice.outcome === 'choose_deal') {
    return { outcome: 'choose_deal', refereeEmail: email, refereeDomain: domain, deals: choice.deals, reasons: choice.reasons };
  }
  if (choice.outcome === 'one') {
    const deal = choice.deal;
    const claimFacts = {
      policy: program.claims,
      now,
      audience,
      referrerId: referrer.id ?? null,
      deal,
      holders: crm.holders?.[deal.id] ?? [],
    };
    const claim = claimVerdict(claimFacts);
    if (claim.outcome === 'claim_pending') {
      const { dealId: claimedDealId, expiresAt, reasons } = claim;
      return { outcome: 'claim_pending', refereeEmail: email, refereeDomain: domain, protectedUntil, claimedDealId, expiresAt, reasons };
    }
    if (claim.outcome === 'accepted') {
      return {
        outcome: 'accepted',
        refereeEmail: email,
        refereeDomain: domain,
        protectedUntil,
        supersedes: [],
        claimedDealId: claim.dealId,
        reasons: claim.reasons,
      };
    }
    const { referralId, referrerName, protectedUntil: heldUntil } = claim.collidesWith;
    return reject(claim.outcome, claim.reasons, {
      collidesWith: { ...dealCollision(deal, audience), ...(referralId ? { referralId } : {}), ...(referrerName ? { referrerName } : {}) },
      ...(heldUntil ? { protectedUntil: heldUntil } : {}),
      // The same decision in the words a referrer may read.
      referrerReason: claimVerdict({ ...claimFacts, audience: 'referrer' }).reasons.join(' '),
    });
  }

  if (crm.customerAccount) {
    const account = crm.customerAccount;
    return reject('conflict', [`${account.name} is already a customer, so it cannot be referred.`], {
      collidesWith: { companyId: account.companyId },
    });
  }

  const supersedes = duplicate.verdict === 'supersedes' ? duplicate.priors.map((p) => p.id) : [];
  const reasons = [`Referral of ${who} received.`];
  if (supersedes.length > 0) {
    const ids = supersedes.join(', ');
    reasons.push(`It replaces earlier referral ${ids} whose protection has ended (the latest referral counts).`);
  }
  reasons.push(`It is protected until ${protectedUntil.slice(0, 10)}.`);
  return { outcome: 'accepted', refereeEmail: email, refereeDomain: domain, protectedUntil, supersedes, reasons };
}

type DuplicateCheck =
  | { verdict: 'none' }
  | { verdict: 'supersedes'; priors: PriorReferral[] }
  | { verdict: 'duplicate'; prior: PriorReferral; openUntil: IsoInstant | null; byYou: boolean; via: 'email' | 'domain' };

/**
 * A prior referral matches while it is still valid (a pending one counts: two people may submit
 * at once) and was submitted inside the dedupe window. 'first' wins: any match makes the new one
 * a duplicate of the earliest. 'last' wins: a match blocks only while it is protected; after that
 * the new one replaces it. A referrer re-submitting their own referral is always a duplicate.
 */
function findDuplicate(facts: SubmissionFacts, email: string, domain: string | null): DuplicateCheck {
  const { program, now, referrer } = facts;
  const nowMs = instantMs(now);
  const { windowDays, protectionDays, winner } = program.dedupe;
  const matches = facts.priorReferrals
    .filter((p) => !SPENT.includes(p.status))
    .filter((p) => instantMs(addDaysToInstant(p.submittedAt, windowDays)) > nowMs)
    .map((p) => ({
      prior: p,
      via: normalizeEmail(p.refereeEmail, program.dedupe) === email ? ('email' as const) : ('domain' as const),
      sameDomain: domain !== null && p.refereeDomain === domain && !isFreeMailDomain(domain),
      claimEnd: p.protectedUntil ?? addDaysToInstant(p.submittedAt, protectionDays),
      windowEnd: addDaysToInstant(p.submittedAt, windowDays),
    }))
    .filter((m) => m.via === 'email' || m.sameDomain)
    .sort((a, b) => instantMs(a.prior.submittedAt) - instantMs(b.prior.submittedAt) || compareText(a.prior.id, b.prior.id));

  const byYou = (p: PriorReferral): boolean => referrer.id != null && p.referrerId === referrer.id;
  const isProtected = (claimEnd: IsoInstant): boolean => instantMs(claimEnd) > nowMs;
  const blocking = winner === 'first' ? matches : matches.filter((m) => isProtected(m.claimEnd) || byYou(m.prior));
  const first = blocking[0];
  if (!first) return matches.length > 0 ? { verdict: 'supersedes', priors: matches.map((m) => m.prior) } : { verdict: 'none' };
  // 'first': the referee is free again once both the window and the protection have ended.
  const openUntil =
    winner === 'first'
      ? instantMs(first.claimEnd) > instantMs(first.windowEnd)
        ? first.claimEnd
        : first.windowEnd
      : isProtected(first.claimEnd)
        ? first.claimEnd
        : null;
  return { verdict: 'duplicate', prior: first.prior, openUntil, byYou: byYou(first.prior), via: first.via };
}

/** The deal a submission collides with; its owner only for reps and admins. */
function dealCollision(deal: ClaimableDeal, audience: Audience): Collision {
  if (audience === 'referrer') return { dealId: deal.id };
  return { dealId: deal.id, ...(deal.ownerId ? { ownerId: deal.ownerId } : {}), ...(deal.ownerName ? { ownerName: deal.ownerName } : {}) };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

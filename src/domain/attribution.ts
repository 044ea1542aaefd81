import { compareText } from './compare.ts';
import { instantMs, MS_PER_DAY, type IsoInstant } from './dates.ts';
import { formatMoney, PPM_WHOLE, shareOfCents } from './money.ts';
import { domainFromWebsite, isFreeMailDomain } from './normalize.ts';
import type { DealKind } from './deal-kind.ts';
import type { DealSource } from './deal-source.ts';
import type { ChannelConflictPolicy, Program, ReferrerType } from './program.ts';
import type { ReferralStatus } from './referral-lifecycle.ts';

export interface AttributionDeal {
  id: string;
  createdAt: IsoInstant;
  closeDate?: string | null;
  isWon: boolean;
  isClosed: boolean;
  amountCents: number | null;
  firstYearValueCents: number | null;
  currency: string;
  contactIds: readonly string[];
  companyIds: readonly string[];
  companyDomain?: string | null;
  sourcedBy?: DealSource;
  /** How the installation read the CRM's source fields, for the decision's reasons. */
  sourceReason?: string;
  /** New business, renewal or expansion by the installation's rule; absent: new business. */
  kind?: DealKind;
}

/** A claim an approver accepted: it credits the deal although it was made after the deal was created. */
export interface ApprovedClaim {
  dealId: string;
  /** Who made the claim (the rep or referrer who submitted it). */
  by: string;
  at: IsoInstant;
  approvedBy: string;
}

export interface AttributionCandidate {
  referralId: string;
  referrerId: string;
  referrerType: ReferrerType;
  submittedAt: IsoInstant;
  status: ReferralStatus;
  /** CRM contact ids linked to the referral. */
  refereePersonIds: readonly string[];
  refereeCompanyIds: readonly string[];
  refereeDomain: string | null;
  claim?: ApprovedClaim | null;
  /**
   * The program version the referral is locked to: its window and channel-conflict policy judge
   * it, and the earliest credited referral's model splits the deal. Absent: the input's program.
   */
  program?: { id?: string; version: number; attribution: Program['attribution'] };
}

export interface AttributionInput {
  /** The program whose model, window and channel-conflict policy apply to candidates without their own. */
  program: Pick<Program, 'attribution'>;
  deal: AttributionDeal;
  candidates: readonly AttributionCandidate[];
}

export type Evidence =
  | { via: 'contact' | 'company' | 'domain'; id: string }
  | { via: 'claim'; id: string; by: string; at: IsoInstant; approvedBy: string };

export interface Attribution {
  referralId: string;
  referrerId: string;
  /** Parts per million of the deal's credit; 0 for influenced referrals. */
  sharePpm: number;
  role: 'sourced' | 'influenced';
  evidence: Evidence[];
  reasons: string[];
}

export interface AttributionDecision {
  attributed: Attribution[];
  notAttributed: { referralId: string; reasons: string[] }[];
  reasons: string[];
}

/** Referrals that never held their referee. */
const NOT_ATTRIBUTABLE: readonly ReferralStatus[] = ['submitted', 'claim_pending', 'rejected', 'expired'];
const CHANNEL_TYPES: readonly ReferrerType[] = ['partner', 'consultant'];

/** n equal shares in parts per million summing to exactly 1,000,000; the remainder goes to the earliest. */
export function equalSharesPpm(n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`need at least one share, got ${n}`);
  const base = Math.floor(PPM_WHOLE / n);
  const remainder = PPM_WHOLE - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < remainder ? 1 : 0));
}

/**
 * Which referrals earn credit for a deal. Matching is account-level (B2B buying groups): any of
 * the deal's contacts, its companies, or its company domain; or an approved claim on the deal. A
 * referral must predate the deal's creation (a claim need not: an approver vouched for it), and
 * the deal must be created within the window after the referral. Each referral is judged by the
 * program version it is locked to; the split follows the version of the earliest credited one.
 * A renewal or expansion belongs to the customer a referral brought in: only a closed-won referral
 * is credited, and the attribution window does not apply (revenue-share periods judge it instead).
 */
export function attributeDeal(input: AttributionInput): AttributionDecision {
  const { deal } = input;
  const dealCreated = instantMs(deal.createdAt);
  const dealDomain = deal.companyDomain ? domainFromWebsite(deal.companyDomain) : null;
  const rulesOf = (c: AttributionCandidate): Program['attribution'] => c.program?.attribution ?? input.program.attribution;
  // Versions of different programs differ even when their numbers are the same.
  const versions = new Set(input.candidates.map((c) => (c.program ? `${c.program.id ?? ''}@${c.program.version}` : null)));
  const judgedBy = (c: AttributionCandidate): string[] =>
    versions.size > 1 && c.program ? [`judged by program version ${c.program.version}, the one the referral is locked to`] : [];
  const channelConflict = (c: AttributionCandidate): ChannelConflictPolicy | null =>
    deal.sourcedBy === 'rep' && CHANNEL_TYPES.includes(c.referrerType) ? rulesOf(c).channelConflict : null;
  const recurring = deal.kind === 'renewal' ? 'a renewal' : deal.kind === 'expansion' ? 'an expansion' : null;
  const notAttributed: AttributionDecision['notAttributed'] = [];
  const eligible: { candidate: AttributionCandidate; evidence: Evidence[] }[] = [];

  for (const c of input.candidates) {
    const skip = (reason: string): void => void notAttributed.push({ referralId: c.referralId, reasons: [reason, ...judgedBy(c)] });
    const { windowDays } = rulesOf(c);
    const claim = c.claim?.dealId === deal.id ? c.claim : null;
    const evidence = evidenceFor(c, deal, dealDomain);
    const submitted = instantMs(c.submittedAt);
    const day = c.submittedAt.slice(0, 10);
    const dealDay = deal.createdAt.slice(0, 10);
    if (NOT_ATTRIBUTABLE.includes(c.status)) skip(`the referral is ${c.status.replace(/_/g, ' ')}`);
    else if (recurring && c.status !== 'closed_won') {
      skip(
        `the deal is ${recurring}, and the referral is ${c.status.replace(/_/g, ' ')}: only a referral whose first deal was won earns on its renewals`,
      );
    } else if (evidence.length === 0) skip(`none of the deal's contacts, companies or domain match the referral`);
    // CRMs keep creation times to the second (Salesforce's CreatedDate); within that second, the
    // referral is taken to come first.
    else if (!claim && wholeSeconds(submitted) > wholeSeconds(dealCreated)) {
      skip(`the referral was submitted on ${day}, after the deal was created on ${dealDay}, and no claim on the deal was approved`);
    } else if (!claim && !recurring && dealCreated - submitted > windowDays * MS_PER_DAY) {
      skip(`the deal was created on ${dealDay}, more than ${windowDays} days after the referral on ${day}`);
    } else if (channelConflict(c) === 'rep_sourced_blocks_partner') {
      skip(`the deal is rep-sourced and the channel-conflict policy rep_sourced_blocks_partner gives ${c.referrerType}s no credit on it`);
    } else eligible.push({ candidate: c, evidence });
  }

  eligible.sort(
    (a, b) =>
      instantMs(a.candidate.submittedAt) - instantMs(b.candidate.submittedAt) ||
      compareText(a.candidate.referralId, b.candidate.referralId),
  );
  const influencedOnly = (c: AttributionCandidate): boolean => channelConflict(c) === 'influenced_only';
  const creditable = eligible.filter((e) => !influencedOnly(e.candidate));
  const leader = creditable[0]?.candidate;
  const { model, windowDays } = leader ? rulesOf(leader) : input.program.attribution;
  const credited = model === 'linear' ? creditable : model === 'first_touch' ? creditable.slice(0, 1) : creditable.slice(-1);
  const shares = splitShares(credited.map((e) => channelConflict(e.candidate) === 'split_with_rep'));
  const modelLabel = model.replace('_', '-');
  const winner = model === 'first_touch' ? credited[0] : credited.at(-1);

  const attributed = eligible.map(({ candidate: c, evidence }): Attribution => {
    const linked = `linked through ${evidence.map(describeEvidence).join(', ')}`;
    const base = { referralId: c.referralId, referrerId: c.referrerId, evidence };
    const index = credited.findIndex((e) => e.candidate === c);
    const share = shares[index];
    if (share !== undefined) {
      const split = credited.length > 1 ? `${modelLabel} split: ${formatPpm(share)} of the credit` : `${modelLabel}: full credit`;
      const policy = channelConflict(c);
      const channel =
        policy === 'split_with_rep'
          ? [
              `the deal is rep-sourced; the channel-conflict policy split_with_rep leaves the ${c.referrerType} half of its share (${formatPpm(share)})`,
            ]
          : policy === 'ignore'
            ? [`the deal is rep-sourced; the channel-conflict policy ignore credits the ${c.referrerType} in full`]
            : [];
      return { ...base, sharePpm: share, role: 'sourced', reasons: [linked, split, ...channel, ...judgedBy(c)] };
    }
    const why = influencedOnly(c)
      ? `the deal is rep-sourced, so the channel-conflict policy influenced_only records the ${c.referrerType} referral as influence without credit`
      : `${modelLabel}: credit goes to referral ${winner?.candidate.referralId}`;
    return { ...base, sharePpm: 0, role: 'influenced', reasons: [linked, why, ...judgedBy(c)] };
  });

  const reasons = [
    credited.length > 0
      ? `deal ${deal.id} is credited to ${credited.length} referral${credited.length > 1 ? 's' : ''} ` +
        `(${modelLabel}, ${windowDays}-day window${leader?.program && versions.size > 1 ? `, program version ${leader.program.version} of the earliest credited referral` : ''})`
      : `no referral earns credit for deal ${deal.id}`,
  ];
  if (recurring) reasons.push(`the deal is ${recurring} of a referred customer: no attribution window applies`);
  if (deal.sourcedBy === 'rep')
    reasons.push(`the CRM records the deal as rep-sourced${deal.sourceReason ? ` (${deal.sourceReason})` : ''}`);
  if (!deal.isWon) reasons.push('the deal is not closed won yet, so this attribution is provisional');
  return { attributed, notAttributed, reasons };
}

/**
 * Equal shares of the deal; a share marked `halved` (a partner splitting a rep-sourced deal with
 * the rep) keeps half, and the other half is nobody's to pay.
 */
function splitShares(halved: readonly boolean[]): number[] {
  if (halved.length === 0) return [];
  return equalSharesPpm(halved.length).map((share, i) => (halved[i] ? Math.floor(share / 2) : share));
}

function describeEvidence(e: Evidence): string {
  return e.via === 'claim' ? `a claim by ${e.by} on ${e.at.slice(0, 10)}, approved by ${e.approvedBy}` : `${e.via} ${e.id}`;
}

/**
 * The part of a deal's value credited to its referrals (written back to the deal): the sourced
 * shares are added first and the amount taken once, rounded down, so a linear split three ways
 * credits the whole value rather than three rounded thirds. A deal without a value credits 0.
 */
export function attributedValueCents(valueCents: number | null, attributed: readonly Pick<Attribution, 'role' | 'sharePpm'>[]): number {
  const sharePpm = attributed.filter((a) => a.role === 'sourced').reduce((sum, a) => sum + a.sharePpm, 0);
  return valueCents === null ? 0 : shareOfCents(valueCents, sharePpm);
}

function evidenceFor(c: AttributionCandidate, deal: AttributionDeal, dealDomain: string | null): Evidence[] {
  const evidence: Evidence[] = [];
  if (c.claim?.dealId === deal.id) {
    const { by, at, approvedBy } = c.claim;
    evidence.push({ via: 'claim', id: deal.id, by, at, approvedBy });
  }
  for (const id of deal.contactIds) if (c.refereePersonIds.includes(id)) evidence.push({ via: 'contact', id });
  for (const id of deal.companyIds) if (c.refereeCompanyIds.includes(id)) evidence.push({ via: 'company', id });
  // A free-mail domain says nothing about the company.
  if (dealDomain && !isFreeMailDomain(dealDomain) && c.refereeDomain === dealDomain) {
    evidence.push({ via: 'domain', id: dealDomain });
  }
  return evidence;
}

const wholeSeconds = (ms: number): number => Math.floor(ms / 1000);

function formatPpm(ppm: number): string {
  return `${(ppm / 10_000).toFixed(2).replace(/\.?0+$/, '')}%`;
}

export interface ReversalDecision {
  /** Claw back what the won deal paid. */
  reverse: boolean;
  /** Compute rewards again from the deal's current facts. */
  recompute: boolean;
  reason: string;
}

/**
 * A deal read that is older than the state already applied: two sync runs fetched the same deal
 * and the older answer arrived last. Applying it would undo the newer state (a won deal would look
 * reopened, its reward clawed back, then paid again). Equal times are not stale: same state.
 */
export function isStaleDealRead(applied: { modifiedAt: string } | undefined, fetched: { modifiedAt: string }): boolean {
  if (!applied) return false;
  const appliedAt = Date.parse(applied.modifiedAt);
  const fetchedAt = Date.parse(fetched.modifiedAt);
  return Number.isFinite(appliedAt) && Number.isFinite(fetchedAt) && fetchedAt < appliedAt;
}

/** What a change to a deal means for the rewards it earned when it was won. */
export function reversalDecision(
  previous: { dealWasWon: boolean; amountCents: number | null; currency?: string },
  current: { exists: boolean; isWon: boolean; isClosed: boolean; amountCents: number | null },
): ReversalDecision {
  const money = (cents: number | null): string =>
    cents === null ? 'no amount' : previous.currency ? formatMoney(cents, previous.currency) : `${cents} minor units`;
  if (!previous.dealWasWon) {
    return current.exists && current.isWon
      ? { reverse: false, recompute: true, reason: 'the deal is now closed won' }
      : { reverse: false, recompute: false, reason: 'the deal was not won before, so nothing was paid for it' };
  }
  if (!current.exists) return { reverse: true, recompute: false, reason: 'the won deal was deleted in the CRM' };
  if (!current.isWon) {
    const what = current.isClosed ? 'changed to closed lost' : 'reopened';
    return { reverse: true, recompute: false, reason: `the won deal was ${what}` };
  }
  if (current.amountCents !== previous.amountCents) {
    return {
      reverse: false,
      recompute: true,
      reason: `the won deal's amount changed from ${money(previous.amountCents)} to ${money(current.amountCents)}`,
    };
  }
  return { reverse: false, recompute: false, reason: 'the deal is still won with the same amount' };
}

import { compareText } from './compare.ts';
import { instantMs, MS_PER_DAY, type IsoInstant } from './dates.ts';
import { formatMoney, PPM_WHOLE, shareOfCents } from './money.ts';
import { domainFromWebsite, isFreeMailDomain } from './normalize.ts';
import type { Program, ReferrerType } from './program.ts';
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
  sourcedBy?: 'rep' | 'partner' | 'referral' | 'unknown';
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
}

export interface AttributionInput {
  /** The program whose model, window and channel-conflict policy apply. */
  program: Pick<Program, 'attribution'>;
  deal: AttributionDeal;
  candidates: readonly AttributionCandidate[];
}

export interface Evidence {
  via: 'contact' | 'company' | 'domain';
  id: string;
}

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
const NOT_ATTRIBUTABLE: readonly ReferralStatus[] = ['submitted', 'rejected', 'expired'];
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
 * the deal's contacts, its companies, or its company domain. A referral must predate the deal's
 * creation, and the deal must be created within the window after the referral.
 */
export function attributeDeal(input: AttributionInput): AttributionDecision {
  const { deal } = input;
  const { model, windowDays, channelConflict } = input.program.attribution;
  const dealCreated = instantMs(deal.createdAt);
  const dealDomain = deal.companyDomain ? domainFromWebsite(deal.companyDomain) : null;
  const repSourcedChannel = (c: AttributionCandidate): boolean =>
    deal.sourcedBy === 'rep' && CHANNEL_TYPES.includes(c.referrerType);
  const notAttributed: AttributionDecision['notAttributed'] = [];
  const eligible: { candidate: AttributionCandidate; evidence: Evidence[] }[] = [];

  for (const c of input.candidates) {
    const skip = (reason: string): void => void notAttributed.push({ referralId: c.referralId, reasons: [reason] });
    const evidence = evidenceFor(c, deal, dealDomain);
    const submitted = instantMs(c.submittedAt);
    const day = c.submittedAt.slice(0, 10);
    const dealDay = deal.createdAt.slice(0, 10);
    if (NOT_ATTRIBUTABLE.includes(c.status)) skip(`the referral is ${c.status.replace(/_/g, ' ')}`);
    else if (evidence.length === 0) skip(`none of the deal's contacts, companies or domain match the referral`);
    // CRMs keep creation times to the second (Salesforce's CreatedDate); within that second, the
    // referral is taken to come first.
    else if (wholeSeconds(submitted) > wholeSeconds(dealCreated)) skip(`the referral was submitted on ${day}, after the deal was created on ${dealDay}`);
    else if (dealCreated - submitted > windowDays * MS_PER_DAY) {
      skip(`the deal was created on ${dealDay}, more than ${windowDays} days after the referral on ${day}`);
    } else if (repSourcedChannel(c) && channelConflict === 'rep_sourced_blocks_partner') {
      skip(`the deal is rep-sourced and the program gives ${c.referrerType}s no credit on rep-sourced deals`);
    } else eligible.push({ candidate: c, evidence });
  }

  eligible.sort(
    (a, b) =>
      instantMs(a.candidate.submittedAt) - instantMs(b.candidate.submittedAt) ||
      compareText(a.candidate.referralId, b.candidate.referralId),
  );
  const influencedOnly = (c: AttributionCandidate): boolean => repSourcedChannel(c) && channelConflict === 'influenced_only';
  const creditable = eligible.filter((e) => !influencedOnly(e.candidate));
  const credited =
    model === 'linear' ? creditable : model === 'first_touch' ? creditable.slice(0, 1) : creditable.slice(-1);
  const shares = credited.length > 0 ? equalSharesPpm(credited.length) : [];
  const modelLabel = model.replace('_', '-');
  const winner = model === 'first_touch' ? credited[0] : credited.at(-1);

  const attributed = eligible.map(({ candidate: c, evidence }): Attribution => {
    const linked = `linked through ${evidence.map((e) => `${e.via} ${e.id}`).join(', ')}`;
    const base = { referralId: c.referralId, referrerId: c.referrerId, evidence };
    const index = credited.findIndex((e) => e.candidate === c);
    const share = shares[index];
    if (share !== undefined) {
      const split = credited.length > 1 ? `${modelLabel} split: ${formatPpm(share)} of the credit` : `${modelLabel}: full credit`;
      return { ...base, sharePpm: share, role: 'sourced', reasons: [linked, split] };
    }
    const why = influencedOnly(c)
      ? `the deal is rep-sourced, so a ${c.referrerType} referral is recorded as influence without credit`
      : `${modelLabel}: credit goes to referral ${winner?.candidate.referralId}`;
    return { ...base, sharePpm: 0, role: 'influenced', reasons: [linked, why] };
  });

  const reasons = [
    credited.length > 0
      ? `deal ${deal.id} is credited to ${credited.length} referral${credited.length > 1 ? 's' : ''} ` +
        `(${modelLabel}, ${windowDays}-day window)`
      : `no referral earns credit for deal ${deal.id}`,
  ];
  if (!deal.isWon) reasons.push('the deal is not closed won yet, so this attribution is provisional');
  return { attributed, notAttributed, reasons };
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

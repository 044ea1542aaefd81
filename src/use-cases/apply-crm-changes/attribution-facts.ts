import type { CrmClient, CrmDeal } from '../../../connectors/connector.ts';
import type { AttributionCandidate, AttributionDecision } from '../../domain/attribution.ts';
import { classifyDealKind, defaultDealKindMapping, type DealKindDecision } from '../../domain/deal-kind.ts';
import type { RecurringDeal } from '../../domain/revenue-share.ts';
import { classifyDealSource, defaultDealSourceMapping, type DealSourceDecision } from '../../domain/deal-source.ts';
import { domainFromWebsite, isFreeMailDomain } from '../../domain/normalize.ts';
import type { ReferrerType } from '../../domain/program.ts';
import type { ReferralStatus } from '../../domain/referral-lifecycle.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { ReadOnce } from './read-once.ts';
import type { InstallationRow, InstallationSettings } from '../../store/installations.repo.ts';
import type { ReferralRow } from '../../store/referrals.repo.ts';

const BATCH = 100;

/**
 * Each deal's company domain (its first company's), read in one batch per hundred companies:
 * account-level attribution finds referrals of colleagues at the same company by it.
 */
export async function dealCompanyDomains(client: CrmClient, deals: readonly CrmDeal[]): Promise<Map<string, string | null>> {
  const companyIds = [...new Set(deals.flatMap((d) => d.companyIds))];
  const domainOf = new Map<string, string | null>();
  for (let i = 0; i < companyIds.length; i += BATCH) {
    const { records } = await client.getCompanies(companyIds.slice(i, i + BATCH));
    for (const company of records) domainOf.set(company.id, company.domain ? domainFromWebsite(company.domain) : null);
  }
  return new Map(deals.map((d) => [d.id, d.companyIds.map((id) => domainOf.get(id) ?? null).find((domain) => domain !== null) ?? null]));
}

/**
 * Who sourced the deal, as the installation's mapping (else its CRM's careful defaults) reads the
 * CRM's source fields. `settings` should be read fresh: an admin may have changed the mapping
 * since the job began.
 */
export function dealSource(installation: InstallationRow, settings: InstallationSettings, deal: CrmDeal): DealSourceDecision {
  return classifyDealSource(deal.sources, settings.dealSources ?? defaultDealSourceMapping(installation.crm));
}

/** New business, renewal or expansion, as the installation's rule (else its CRM's defaults) reads the deal's pipeline and type. */
export function dealKind(installation: InstallationRow, settings: InstallationSettings, deal: CrmDeal): DealKindDecision {
  return classifyDealKind(deal, settings.dealKinds ?? defaultDealKindMapping(installation.crm));
}

/**
 * What a won renewal or expansion's revenue share depends on: the referral's first won
 * new-business deal (the period starts at its close) and the renewals it won before this deal.
 */
export async function recurringFacts(
  ctx: UseCaseContext,
  referralId: string,
  deal: { id: string; closeDate: string | null },
  kind: DealKindDecision,
): Promise<RecurringDeal | null> {
  if (kind.kind === 'new_business') return null;
  const won = (await ctx.store.deals.wonForReferral(referralId)).filter((d) => d.dealId !== deal.id);
  const first = won.find((d) => d.dealKind === 'new_business');
  // A won deal without a close date comes after every renewal that has one.
  const closeDate = deal.closeDate ?? '9999-12-31';
  return {
    kind: kind.kind,
    kindReason: kind.reason,
    firstWon: first ? { dealId: first.dealId, closeDate: first.closeDate } : null,
    // Same close date: the deal with the smaller id counts first, so two renewals a day apart never both claim the last slot.
    renewalsBefore: won.filter(
      (d) => d.dealKind === 'renewal' && (d.closeDate < closeDate || (d.closeDate === closeDate && d.dealId < deal.id)),
    ).length,
  };
}

/** Referrals of people at the deal's company domain, linked or not (a free-mail domain names no company). */
export async function referralsAtDomain(ctx: UseCaseContext, installation: InstallationRow, domain: string | null): Promise<ReferralRow[]> {
  if (!domain || isFreeMailDomain(domain)) return [];
  return await ctx.store.referrals.byDomain(installation.id, domain);
}

/**
 * What attribution needs of each candidate: its links, the program version it is locked to, and
 * an approved claim on a deal (who claimed it, when, who approved it).
 */
export async function attributionCandidates(
  ctx: UseCaseContext,
  known: ReadOnce,
  referrals: readonly ReferralRow[],
): Promise<AttributionCandidate[]> {
  const { store } = ctx;
  const candidates: AttributionCandidate[] = [];
  for (const r of referrals) {
    const links = await store.referrals.links(r.id);
    const claim = await store.dealClaims.get(r.id);
    candidates.push({
      referralId: r.id,
      referrerId: r.referrerId,
      referrerType: (await known.referrer(r.referrerId)).type as ReferrerType,
      submittedAt: r.submittedAt,
      status: r.status as ReferralStatus,
      refereePersonIds: links.filter((l) => l.objectType === 'contact' || l.objectType === 'lead').map((l) => l.objectId),
      refereeCompanyIds: links.filter((l) => l.objectType === 'company').map((l) => l.objectId),
      refereeDomain: r.refereeDomain,
      claim:
        claim?.decision === 'approved'
          ? { dealId: claim.dealId, by: claim.claimedBy, at: claim.claimedAt, approvedBy: claim.decidedBy ?? 'an approver' }
          : null,
      program: { id: r.programId, version: r.programVersion, attribution: (await known.lockedProgram(r)).attribution },
    });
  }
  return candidates;
}

/**
 * Each candidate's part of a deal's attribution, kept on the referral too, so the referral's own
 * page says for every deal it touched why it was (not) credited.
 */
export function referralDecisions(installationId: string, dealId: string, decision: AttributionDecision): Decision[] {
  return [
    ...decision.attributed.map(
      (a): Decision => ({
        installationId,
        subjectType: 'referral',
        subjectId: a.referralId,
        kind: 'attribution',
        outcome: {
          dealId,
          attributed: true,
          role: a.role,
          sharePpm: a.sharePpm,
          evidence: a.evidence,
          reasons: a.reasons,
          dealReasons: decision.reasons,
        },
      }),
    ),
    ...decision.notAttributed.map(
      (n): Decision => ({
        installationId,
        subjectType: 'referral',
        subjectId: n.referralId,
        kind: 'attribution',
        outcome: { dealId, attributed: false, reasons: n.reasons, dealReasons: decision.reasons },
      }),
    ),
  ];
}

type Decision = Parameters<UseCaseContext['store']['audit']['decide']>[0];

import { grantLabel, grantOf } from '../domain/grants.ts';
import { defaultDealKindMapping, type DealKindMapping } from '../domain/deal-kind.ts';
import { defaultDealSourceMapping, type DealSourceMapping } from '../domain/deal-source.ts';
import type { EligibilityFieldMapping } from '../domain/eligibility-fields.ts';
import { minorUnitDigits, toMajorUnits } from '../domain/money.ts';
import type { Store } from '../store/index.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ReferralRow, ReferrerRow } from '../store/referrals.repo.ts';
import type { RewardWithNet } from '../store/rewards.repo.ts';

/** JSON shapes of the API. Amounts go out in the currency's major unit; the store keeps minor units. */

export function installationView(row: InstallationRow) {
  const settings = row.settings as {
    stageMapping?: unknown;
    provisioning?: unknown;
    dealSources?: DealSourceMapping;
    dealKinds?: DealKindMapping;
  };
  return {
    id: row.id,
    crm: row.crm,
    accountId: row.accountId,
    accountName: row.accountName,
    status: row.status,
    statusReason: row.statusReason,
    scopes: row.scopes,
    stageMapping: settings.stageMapping ?? {},
    /** Who sourced a deal, as this installation reads the CRM's fields (its own mapping, else the CRM's defaults). */
    dealSources: settings.dealSources ?? defaultDealSourceMapping(row.crm),
    /** Which deals are renewals or expansions (revenue share only): this installation's rule, else the CRM's defaults. */
    dealKinds: settings.dealKinds ?? defaultDealKindMapping(row.crm),
    provisioning: settings.provisioning ?? null,
    createdAt: row.createdAt,
  };
}

/**
 * `fields` null: the installation predates field mappings, and eligibility reads the connector's own
 * fields until an admin sets a mapping.
 */
export function eligibilityFieldsView(installationId: string, mapping: EligibilityFieldMapping | null) {
  return { installationId, fields: mapping };
}

export function referrerView(row: ReferrerRow) {
  return {
    id: row.id,
    installationId: row.installationId,
    email: row.email,
    name: row.name,
    type: row.type,
    company: row.company,
    tier: row.tier,
    agreementAcceptedAt: row.agreementAcceptedAt,
    payoutEmail: row.payoutEmail,
    crmPerson: row.crmPersonId ? { objectType: row.crmPersonType, id: row.crmPersonId } : null,
    emailOptOut: row.emailOptOut,
    digest: row.digest,
    createdAt: row.createdAt,
  };
}

export function rewardView(row: RewardWithNet) {
  return {
    id: row.id,
    referralId: row.referralId,
    referrerId: row.referrerId,
    dealId: row.dealId,
    kind: row.kind,
    beneficiary: row.beneficiary,
    milestone: row.milestone,
    referrerTier: row.referrerTier,
    amount: toMajorUnits(row.amountCents, row.currency),
    amountCents: row.amountCents,
    net: toMajorUnits(row.netCents, row.currency),
    netCents: row.netCents,
    currency: row.currency,
    /** The currency's ISO 4217 minor-unit digits: amountCents / 10^currencyDigits is the amount (the Salesforce card formats it so). */
    currencyDigits: minorUnitDigits(row.currency),
    status: row.status,
    dueDate: row.dueDate,
    requiresApproval: row.requiresApproval,
    programId: row.programId,
    programVersion: row.programVersion,
    payoutReference: row.payoutReference,
    /** What it is given as (cash when the rule granted nothing else), and in words. */
    grant: grantOf(row),
    givenAs: grantLabel(grantOf(row)),
    /** Handed over when paid; kept when the reward is later clawed back (then owed back). */
    paidCents: row.paidCents,
    reasons: row.reasons,
    conversion: row.conversion,
    createdAt: row.createdAt,
  };
}

export function referralSummary(row: ReferralRow) {
  const verdict = row.verdict as { reasons?: string[]; code?: string };
  return {
    id: row.id,
    installationId: row.installationId,
    status: row.status,
    referrerId: row.referrerId,
    referee: {
      email: row.refereeEmail,
      firstName: row.refereeFirstName,
      lastName: row.refereeLastName,
      company: row.refereeCompany,
      domain: row.refereeDomain,
    },
    reasons: verdict.reasons ?? [],
    ...(verdict.code ? { rejection: verdict.code } : {}),
    duplicateOf: row.duplicateOf,
    protectedUntil: row.protectedUntil,
    programId: row.programId,
    programVersion: row.programVersion,
    submittedBy: { kind: row.submittedByKind, id: row.submittedById },
    // Submitted from a referral ask's page: the ask it came from.
    ...(row.askId ? { askId: row.askId } : {}),
    // Captured by a CRM form from a referral link: `{ via: 'link', code, visitedAt }`.
    ...(row.linkEvidence ? { evidence: row.linkEvidence } : {}),
    notes: row.notes,
    crm: row.crmPersonId ? { person: { objectType: row.crmPersonType, id: row.crmPersonId }, companyId: row.crmCompanyId } : null,
    submittedAt: row.submittedAt,
    updatedAt: row.updatedAt,
  };
}

export async function referralView(store: Store, row: ReferralRow) {
  const referrer = (await store.referrals.referrer(row.referrerId))!;
  return {
    ...referralSummary(row),
    referrer: referrerView(referrer),
    timeline: (await store.referrals.timeline(row.id)).map((e) => ({
      from: e.fromStatus,
      to: e.toStatus,
      reasons: e.reasons,
      source: e.source,
      at: e.occurredAt,
    })),
    attributions: (await store.referrals.attributionsForReferral(row.id)).map((a) => ({
      id: a.id,
      dealId: a.dealId,
      model: a.model,
      share: a.sharePpm / 1_000_000,
      sharePpm: a.sharePpm,
      role: a.role,
      evidence: a.evidence,
      reasons: a.reasons,
      status: a.status,
      reversalReason: a.reversalReason,
      createdAt: a.createdAt,
    })),
    rewards: (await store.rewards.forReferral(row.id)).map(rewardView),
    links: await store.referrals.links(row.id),
    claim: await claimView(store, row.id),
    program: {
      id: row.programId,
      name: (await store.programs.version(row.programId, row.programVersion))?.program.name ?? null,
      version: row.programVersion,
      reason: `locked when the referral was submitted on ${row.submittedAt.slice(0, 10)}: its attribution, dedupe, expiry and rewards follow version ${row.programVersion}, whatever was saved since`,
    },
    decisions: await decisionsView(store, row),
  };
}

async function claimView(store: Store, referralId: string) {
  const claim = await store.dealClaims.get(referralId);
  if (!claim) return null;
  return {
    dealId: claim.dealId,
    claimedBy: claim.claimedBy,
    claimedAt: claim.claimedAt,
    expiresAt: claim.expiresAt,
    decision: claim.decision,
    decidedBy: claim.decidedBy,
    decidedAt: claim.decidedAt,
    reason: claim.reason,
  };
}

interface AttributionOutcome {
  dealId: string;
  attributed: boolean;
  role?: string;
  sharePpm?: number;
  evidence?: unknown[];
  reasons: string[];
  dealReasons: string[];
}
interface RewardPlanOutcome {
  milestone: string;
  dealId: string | null;
  rewards: { kind: string; amountCents: number; currency: string; reasons: string[] }[];
  notes: string[];
}

/**
 * Why the referral was (not) credited for each deal it was a candidate of (the latest decision per
 * deal), and every reward plan: what it earned, or "no reward because …".
 */
async function decisionsView(store: Store, row: ReferralRow) {
  const all = await store.audit.decisionsFor(row.installationId, 'referral', row.id);
  const latestPerDeal = new Map<string, { outcome: AttributionOutcome; at: string }>();
  for (const d of all.filter((d) => d.kind === 'attribution')) {
    const outcome = d.outcome as AttributionOutcome;
    if (!latestPerDeal.has(outcome.dealId)) latestPerDeal.set(outcome.dealId, { outcome, at: d.createdAt });
  }
  return {
    attribution: [...latestPerDeal.values()].map(({ outcome: o, at }) => ({
      dealId: o.dealId,
      attributed: o.attributed,
      ...(o.attributed ? { role: o.role, sharePpm: o.sharePpm, evidence: o.evidence } : {}),
      summary: o.attributed
        ? `Attributed to deal ${o.dealId} (${o.role}): ${o.reasons.join('; ')}.`
        : `Not attributed to deal ${o.dealId} because ${o.reasons.join('; ')}.`,
      reasons: o.reasons,
      dealReasons: o.dealReasons,
      at,
    })),
    rewards: all
      .filter((d) => d.kind === 'reward_plan')
      .reverse()
      .map((d) => {
        const o = d.outcome as RewardPlanOutcome;
        const step = o.milestone.replace('_', ' ');
        return {
          milestone: o.milestone,
          dealId: o.dealId,
          summary: o.rewards.length
            ? `At ${step}: ${o.rewards.map((r) => `${r.kind} reward of ${toMajorUnits(r.amountCents, r.currency)} ${r.currency} (${r.reasons.join('; ')})`).join(', ')}.`
            : `No reward at ${step} because ${o.notes.join('; ')}.`,
          rewards: o.rewards,
          notes: o.notes,
          at: d.createdAt,
        };
      }),
  };
}

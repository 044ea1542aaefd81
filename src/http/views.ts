import { toMajorUnits } from '../domain/money.ts';
import type { Store } from '../store/index.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ReferralRow, ReferrerRow } from '../store/referrals.repo.ts';
import type { RewardWithNet } from '../store/rewards.repo.ts';

/** JSON shapes of the API. Amounts go out in the currency's major unit; the store keeps minor units. */

export function installationView(row: InstallationRow) {
  const settings = row.settings as { stageMapping?: unknown; provisioning?: unknown };
  return {
    id: row.id,
    crm: row.crm,
    accountId: row.accountId,
    accountName: row.accountName,
    status: row.status,
    statusReason: row.statusReason,
    scopes: row.scopes,
    stageMapping: settings.stageMapping ?? {},
    provisioning: settings.provisioning ?? null,
    createdAt: row.createdAt,
  };
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
    amount: toMajorUnits(row.amountCents, row.currency),
    amountCents: row.amountCents,
    net: toMajorUnits(row.netCents, row.currency),
    netCents: row.netCents,
    currency: row.currency,
    status: row.status,
    dueDate: row.dueDate,
    requiresApproval: row.requiresApproval,
    programVersion: row.programVersion,
    payoutReference: row.payoutReference,
    reasons: row.reasons,
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
    programVersion: row.programVersion,
    submittedBy: { kind: row.submittedByKind, id: row.submittedById },
    notes: row.notes,
    crm: row.crmPersonId ? { person: { objectType: row.crmPersonType, id: row.crmPersonId }, companyId: row.crmCompanyId } : null,
    submittedAt: row.submittedAt,
    updatedAt: row.updatedAt,
  };
}

export function referralView(store: Store, row: ReferralRow) {
  const referrer = store.referrals.referrer(row.referrerId)!;
  return {
    ...referralSummary(row),
    referrer: referrerView(referrer),
    timeline: store.referrals.timeline(row.id).map((e) => ({
      from: e.fromStatus,
      to: e.toStatus,
      reasons: e.reasons,
      source: e.source,
      at: e.occurredAt,
    })),
    attributions: store.referrals.attributionsForReferral(row.id).map((a) => ({
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
    rewards: store.rewards.forReferral(row.id).map(rewardView),
    links: store.referrals.links(row.id),
  };
}

import { toDateOnly } from '../domain/dates.ts';
import { financeDigest } from '../domain/payouts.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import { RECONCILE_CURSOR } from './reconcile-installation.ts';

/** Net minor units per currency: amounts in different currencies are never added together. */
function totalsByCurrency(rewards: readonly { amountCents: number; currency: string }[]): { currency: string; cents: number }[] {
  const totals = new Map<string, number>();
  for (const r of rewards) totals.set(r.currency, (totals.get(r.currency) ?? 0) + r.amountCents);
  return [...totals].map(([currency, cents]) => ({ currency, cents }));
}

/**
 * What the console's Home shows of one installation, read from the store alone (no CRM call, so it
 * answers while the CRM is down): whether it is connected and syncing, and what waits for someone.
 * Waiting and overdue rewards are the finance digest's own (the same rule decides both).
 */
export async function installationHealth(ctx: UseCaseContext, installation: InstallationRow) {
  const { store } = ctx;
  const today = toDateOnly(ctx.now().toISOString());
  const digest = financeDigest(await store.rewards.forInstallation(installation.id), today);
  const awaitingApproval = digest?.awaitingApproval ?? [];
  const overdue = digest?.overdue ?? [];
  const byStatus = Object.fromEntries((await store.referrals.countsByStatus([installation.id])).map((r) => [r.status, r.count]));
  const deadEvents = await store.inbox.dead(installation.id);
  return {
    installationId: installation.id,
    crm: {
      kind: installation.crm,
      accountId: installation.accountId,
      accountName: installation.accountName,
      status: installation.status,
      statusReason: installation.statusReason,
    },
    lastWebhookAt: await store.inbox.lastReceivedAt(installation.id),
    lastReconciledAt: await store.deals.cursorMovedAt(installation.id, RECONCILE_CURSOR),
    inbox: { pending: await store.inbox.pendingCount(installation.id), dead: deadEvents.length },
    deadEvents: deadEvents.map((e) => ({
      id: e.id,
      objectType: e.objectType,
      objectId: e.objectId,
      change: e.change,
      attempts: e.attempts,
      error: e.lastError,
      receivedAt: e.receivedAt,
    })),
    attention: {
      rewardsAwaitingApproval: { count: awaitingApproval.length, totals: totalsByCurrency(awaitingApproval) },
      claimsAwaitingDecision: byStatus.claim_pending ?? 0,
      overduePayouts: { count: overdue.length, totals: totalsByCurrency(overdue) },
      missingCrmFields: (await store.installations.settings(installation)).provisioning?.missing ?? [],
      dealsWaitingForRate: await store.rewards.dealsNeedingRate(installation.id),
    },
  };
}

export type InstallationHealth = Awaited<ReturnType<typeof installationHealth>>;

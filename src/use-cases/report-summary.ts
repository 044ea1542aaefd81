import type { Store } from '../store/index.ts';

/** Statuses of referrals the program did not take on: the rest count as accepted. */
const NOT_ACCEPTED = ['submitted', 'rejected'];

/**
 * The headline numbers of `GET /api/v1/reports/summary` over these installations: referrals by
 * status, the win rate of accepted ones, reward totals per currency and status (net minor units;
 * never added across currencies), referral asks sent and the referrals they brought, and the webhook inbox's backlog.
 */
export async function reportSummary(store: Store, installationIds: string[]) {
  const referrals = Object.fromEntries((await store.referrals.countsByStatus(installationIds)).map((r) => [r.status, r.count]));
  const accepted = Object.entries(referrals)
    .filter(([status]) => !NOT_ACCEPTED.includes(status))
    .reduce((sum, [, n]) => sum + n, 0);
  const rewards = await store.rewards.totals(installationIds);
  return {
    referrals: {
      byStatus: referrals,
      accepted,
      won: referrals.closed_won ?? 0,
      winRate: accepted ? (referrals.closed_won ?? 0) / accepted : 0,
    },
    rewards: Object.values(
      rewards.reduce<Record<string, { currency: string; byStatusCents: Record<string, number>; count: number }>>((acc, r) => {
        const entry = (acc[r.currency] ??= { currency: r.currency, byStatusCents: {}, count: 0 });
        entry.byStatusCents[r.status] = (entry.byStatusCents[r.status] ?? 0) + r.netCents;
        entry.count += r.count;
        return acc;
      }, {}),
    ),
    asks: await store.referralAsks.counts(installationIds),
    // The CRM events of the installations covered, as the rest of the summary.
    inbox: {
      pending: (await Promise.all(installationIds.map(async (id) => await store.inbox.pendingCount(id)))).reduce((sum, n) => sum + n, 0),
      dead: (await store.inbox.dead()).filter((e) => e.installationId !== null && installationIds.includes(e.installationId)).length,
    },
  };
}

export type ReportSummary = Awaited<ReturnType<typeof reportSummary>>;

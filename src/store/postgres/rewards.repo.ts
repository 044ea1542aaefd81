import { and, asc, desc, eq, getTableColumns, inArray, lte, lt, sql } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import { newId } from '../referrals.repo.ts';
import type { Query } from './query.ts';
import { rewardEvents, rewards } from './schema.ts';

type Repo = Store['rewards'];

/** The rewards and their ledger on PostgreSQL: the SQLite repository's answers, statement by statement. */
export function rewardsRepo(q: Query, _cipher?: Cipher): Repo {
  // Spelled out, as on SQLite: a column of a single-table query is rendered unqualified, which
  // inside this subquery would bind to reward_events' own id. sum(bigint) is numeric: db.ts reads it as a number.
  const netOf = sql<number>`coalesce((SELECT sum(e.amount_cents) FROM reward_events e WHERE e.reward_id = "rewards"."id"), 0)`;
  const withNet = () =>
    q()
      .select({ ...getTableColumns(rewards), netCents: netOf })
      .from(rewards);

  const addEntry: Repo['addEntry'] = async (entry) => {
    const added = await q()
      .insert(rewardEvents)
      .values({ ...entry, fromStatus: entry.fromStatus ?? null, toStatus: entry.toStatus ?? null })
      .onConflictDoNothing()
      .returning({ id: rewardEvents.id });
    return added.length > 0;
  };

  return {
    get: async (id) => (await withNet().where(eq(rewards.id, id)))[0],

    forReferral: (referralId) => withNet().where(eq(rewards.referralId, referralId)).orderBy(asc(rewards.createdAt), asc(rewards.id)),

    // No order, as on SQLite (callers sum or filter).
    forReferrer: (referrerId) => withNet().where(eq(rewards.referrerId, referrerId)),

    forInstallation: (installationId) =>
      withNet().where(eq(rewards.installationId, installationId)).orderBy(asc(rewards.createdAt), asc(rewards.id)),

    setPaidCents: async (id, paidCents) => {
      await q().update(rewards).set({ paidCents }).where(eq(rewards.id, id));
    },

    list: async (filter) => {
      const rows = await withNet()
        .where(
          and(
            inArray(rewards.installationId, filter.installationIds),
            filter.status ? eq(rewards.status, filter.status) : undefined,
            filter.cursor ? lt(rewards.id, filter.cursor) : undefined,
          ),
        )
        .orderBy(desc(rewards.id))
        .limit(filter.limit + 1);
      const items = rows.slice(0, filter.limit);
      return { items, nextCursor: rows.length > filter.limit ? (items.at(-1)?.id ?? null) : null };
    },

    accrue: async (values, actor) => {
      const [row] = await q()
        .insert(rewards)
        .values({
          ...values,
          id: newId('rwd'),
          dealId: values.dealId ?? null,
          conversion: values.conversion ?? null,
          grant: values.grant ?? null,
          referrerTier: values.referrerTier ?? null,
        })
        .onConflictDoNothing()
        .returning();
      if (!row) return undefined;
      await addEntry({
        rewardId: row.id,
        kind: 'accrued',
        amountCents: values.amountCents,
        toStatus: values.status,
        actor,
        reason: values.reasons.join(' '),
        idempotencyKey: `${values.installationId}:${values.idempotencyKey}:accrued`,
      });
      return row;
    },

    addEntry,

    ledger: (rewardId) => q().select().from(rewardEvents).where(eq(rewardEvents.rewardId, rewardId)).orderBy(asc(rewardEvents.id)),

    setStatus: async (id, status, now, payoutReference) => {
      await q()
        .update(rewards)
        .set({ status, updatedAt: now.toISOString(), ...(payoutReference ? { payoutReference } : {}) })
        .where(eq(rewards.id, id));
    },

    dealsNeedingRate: async (installationId) => {
      const rows = await q()
        .selectDistinct({ dealId: rewards.dealId })
        .from(rewards)
        .where(and(eq(rewards.installationId, installationId), eq(rewards.status, 'needs_rate')));
      return rows.flatMap((r) => (r.dealId ? [r.dealId] : []));
    },

    dueForPayout: (installationId, today) =>
      q()
        .select()
        .from(rewards)
        .where(and(eq(rewards.installationId, installationId), eq(rewards.status, 'approved'), lte(rewards.dueDate, today))),

    totals: (installationIds) =>
      q()
        .select({
          referrerId: rewards.referrerId,
          status: rewards.status,
          currency: rewards.currency,
          netCents: sql<number>`coalesce(sum(${netOf}), 0)`,
          count: sql<number>`count(*)::int`,
        })
        .from(rewards)
        .where(inArray(rewards.installationId, installationIds))
        .groupBy(rewards.referrerId, rewards.status, rewards.currency),
  };
}

import { and, asc, desc, eq, getTableColumns, inArray, lt, or, sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { newId } from './referrals.repo.ts';
import { rewardEvents, rewards } from './schema.ts';

export type RewardRow = typeof rewards.$inferSelect;
export type RewardEventRow = typeof rewardEvents.$inferSelect;
export type RewardWithNet = RewardRow & { netCents: number };

export function rewardsRepo(db: Db) {
  // Spelled out: drizzle renders a column of a single-table query unqualified, which inside this
  // subquery would bind to reward_events' own id.
  const netOf = sql<number>`coalesce((SELECT sum(e.amount_cents) FROM reward_events e WHERE e.reward_id = "rewards"."id"), 0)`;

  // Prepared once: settling a milestone reads a referral's and a referrer's rewards every time.
  const withNetById = db
    .select({ ...getTableColumns(rewards), netCents: netOf })
    .from(rewards)
    .where(eq(rewards.id, sql.placeholder('id')))
    .prepare();
  const withNetForReferral = db
    .select({ ...getTableColumns(rewards), netCents: netOf })
    .from(rewards)
    .where(eq(rewards.referralId, sql.placeholder('referralId')))
    .orderBy(asc(rewards.createdAt), asc(rewards.id))
    .prepare();
  const withNetForReferrer = db
    .select({ ...getTableColumns(rewards), netCents: netOf })
    .from(rewards)
    .where(eq(rewards.referrerId, sql.placeholder('referrerId')))
    .prepare();
  const rewardInsert = db
    .insert(rewards)
    .values({
      id: sql.placeholder('id'),
      installationId: sql.placeholder('installationId'),
      referralId: sql.placeholder('referralId'),
      referrerId: sql.placeholder('referrerId'),
      dealId: sql.placeholder('dealId'),
      kind: sql.placeholder('kind'),
      beneficiary: sql.placeholder('beneficiary'),
      milestone: sql.placeholder('milestone'),
      referrerTier: sql.placeholder('referrerTier'),
      amountCents: sql.placeholder('amountCents'),
      currency: sql.placeholder('currency'),
      status: sql.placeholder('status'),
      dueDate: sql.placeholder('dueDate'),
      requiresApproval: sql.placeholder('requiresApproval'),
      programId: sql.placeholder('programId'),
      programVersion: sql.placeholder('programVersion'),
      reasons: sql.placeholder('reasons'),
      conversion: sql.placeholder('conversion'),
      grant: sql.placeholder('grant'),
      idempotencyKey: sql.placeholder('idempotencyKey'),
      updatedAt: sql.placeholder('updatedAt'),
    })
    .onConflictDoNothing()
    .returning()
    .prepare();
  const entryInsert = db
    .insert(rewardEvents)
    .values({
      rewardId: sql.placeholder('rewardId'),
      kind: sql.placeholder('kind'),
      amountCents: sql.placeholder('amountCents'),
      fromStatus: sql.placeholder('fromStatus'),
      toStatus: sql.placeholder('toStatus'),
      actor: sql.placeholder('actor'),
      reason: sql.placeholder('reason'),
      idempotencyKey: sql.placeholder('idempotencyKey'),
    })
    .onConflictDoNothing()
    .prepare();

  return {
    get(id: string): RewardWithNet | undefined {
      return withNetById.get({ id });
    },

    forReferral(referralId: string): RewardWithNet[] {
      return withNetForReferral.all({ referralId });
    },

    forReferrer(referrerId: string): RewardWithNet[] {
      return withNetForReferrer.all({ referrerId });
    },

    /** Every reward of an installation with its net, for payout runs and payee balances. */
    forInstallation(installationId: string): RewardWithNet[] {
      return db
        .select({ ...getTableColumns(rewards), netCents: netOf })
        .from(rewards)
        .where(eq(rewards.installationId, installationId))
        .orderBy(asc(rewards.createdAt), asc(rewards.id))
        .all();
    },

    /** Records the money handed over for a reward (it stays when the reward is later clawed back). */
    setPaidCents(id: string, paidCents: number): void {
      db.update(rewards).set({ paidCents }).where(eq(rewards.id, id)).run();
    },

    list(filter: { installationIds: string[]; status?: RewardRow['status']; cursor?: string; limit: number }): {
      items: RewardWithNet[];
      nextCursor: string | null;
    } {
      const rows = db
        .select({ ...getTableColumns(rewards), netCents: netOf })
        .from(rewards)
        .where(
          and(
            inArray(rewards.installationId, filter.installationIds),
            filter.status ? eq(rewards.status, filter.status) : undefined,
            filter.cursor ? lt(rewards.id, filter.cursor) : undefined,
          ),
        )
        .orderBy(desc(rewards.id))
        .limit(filter.limit + 1)
        .all();
      const items = rows.slice(0, filter.limit);
      return { items, nextCursor: rows.length > filter.limit ? (items.at(-1)?.id ?? null) : null };
    },

    /** Inserts the reward and its accrual entry; nothing when the idempotency key exists. */
    accrue(
      values: Omit<typeof rewards.$inferInsert, 'id' | 'createdAt' | 'payoutReference' | 'paidCents'>,
      actor: string,
    ): RewardRow | undefined {
      const row = rewardInsert.get({
        ...values,
        id: newId('rwd'),
        dealId: values.dealId ?? null,
        conversion: values.conversion ?? null,
        grant: values.grant ?? null,
        referrerTier: values.referrerTier ?? null,
      });
      if (!row) return undefined;
      this.addEntry({
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

    /** Ledger entries are only ever added; false when the key was already recorded. */
    addEntry(entry: Omit<typeof rewardEvents.$inferInsert, 'id' | 'createdAt'>): boolean {
      return entryInsert.run({ ...entry, fromStatus: entry.fromStatus ?? null, toStatus: entry.toStatus ?? null }).changes > 0;
    },

    ledger(rewardId: string): RewardEventRow[] {
      return db.select().from(rewardEvents).where(eq(rewardEvents.rewardId, rewardId)).orderBy(asc(rewardEvents.id)).all();
    },

    setStatus(id: string, status: RewardRow['status'], now: Date, payoutReference?: string): void {
      db.update(rewards)
        .set({ status, updatedAt: now.toISOString(), ...(payoutReference ? { payoutReference } : {}) })
        .where(eq(rewards.id, id))
        .run();
    },

    /** Deals with rewards waiting in needs_rate for an exchange rate, to settle when the CRM has one. */
    dealsNeedingRate(installationId: string): string[] {
      return db
        .selectDistinct({ dealId: rewards.dealId })
        .from(rewards)
        .where(and(eq(rewards.installationId, installationId), eq(rewards.status, 'needs_rate')))
        .all()
        .flatMap((r) => (r.dealId ? [r.dealId] : []));
    },

    /** Approved rewards whose due date has come: they become payable. */
    dueForPayout(installationId: string, today: string): RewardRow[] {
      return db
        .select()
        .from(rewards)
        .where(
          and(
            eq(rewards.installationId, installationId),
            eq(rewards.status, 'approved'),
            or(lt(rewards.dueDate, today), eq(rewards.dueDate, today)),
          ),
        )
        .all();
    },

    /** Net amounts by referrer and status, for reports and referrer totals. */
    totals(installationIds: string[]): { referrerId: string; status: string; currency: string; netCents: number; count: number }[] {
      return db
        .select({
          referrerId: rewards.referrerId,
          status: rewards.status,
          currency: rewards.currency,
          netCents: sql<number>`coalesce(sum(${netOf}), 0)`,
          count: sql<number>`count(*)`,
        })
        .from(rewards)
        .where(inArray(rewards.installationId, installationIds))
        .groupBy(rewards.referrerId, rewards.status, rewards.currency)
        .all();
    },
  };
}

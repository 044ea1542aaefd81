import { and, asc, desc, eq, inArray, isNotNull, isNull, lt, ne, or } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import { RewardsInOpenRunError } from '../payouts.repo.ts';
import { newId } from '../referrals.repo.ts';
import type { Query } from './query.ts';
import { payoutItems, payoutLines, payoutProviderEvents, payoutRuns } from './schema.ts';

type Repo = Store['payouts'];

/** Payout runs, their lines and items, and provider events on PostgreSQL: the SQLite repository's answers. */
export function payoutsRepo(q: Query, _cipher?: Cipher): Repo {
  const items: Repo['items'] = (runId) =>
    q().select().from(payoutItems).where(eq(payoutItems.runId, runId)).orderBy(asc(payoutItems.rewardId));

  const get: Repo['get'] = async (id) => {
    const [run] = await q().select().from(payoutRuns).where(eq(payoutRuns.id, id));
    if (!run) return undefined;
    const lines = await q()
      .select()
      .from(payoutLines)
      .where(eq(payoutLines.runId, id))
      // Ids are random: a stable order (by payee, currency, then grant) keeps the CSV and API the same on every read.
      .orderBy(asc(payoutLines.payeeType), asc(payoutLines.payeeKey), asc(payoutLines.currency), asc(payoutLines.grantKey));
    const runItems = await items(id);
    return { ...run, lines: lines.map((l) => ({ ...l, rewardIds: runItems.filter((i) => i.lineId === l.id).map((i) => i.rewardId) })) };
  };

  /** The line's rewards leave the open-run key (delivered or failed). */
  const closeLine = async (lineId: number, set: { sendStatus: 'delivered' | 'failed'; failureReason: string | null }) => {
    await q().update(payoutLines).set(set).where(eq(payoutLines.id, lineId));
    await q().update(payoutItems).set({ openRewardId: null }).where(eq(payoutItems.lineId, lineId));
  };

  return {
    /**
     * As on SQLite: an item whose reward is already in an open run (the open-reward unique key,
     * which also holds against a concurrent transaction: PostgreSQL waits for it, then skips the
     * row) is not added, and the run is refused with RewardsInOpenRunError. Call inside a transaction.
     */
    create: async (run) => {
      const id = newId('pay');
      await q()
        .insert(payoutRuns)
        .values({ id, installationId: run.installationId, programId: run.programId, status: 'draft', dueOn: run.dueOn });
      const taken: string[] = [];
      for (const { items: lineItems, ...line } of run.lines) {
        const [inserted] = await q()
          .insert(payoutLines)
          .values({ ...line, runId: id })
          .returning({ id: payoutLines.id });
        const lineId = inserted!.id;
        for (const item of lineItems) {
          const added = await q()
            .insert(payoutItems)
            .values({ runId: id, lineId, rewardId: item.rewardId, amountCents: item.amountCents, openRewardId: item.rewardId })
            .onConflictDoNothing()
            .returning({ rewardId: payoutItems.rewardId });
          if (added.length === 0) taken.push(item.rewardId);
        }
      }
      if (taken.length > 0) throw new RewardsInOpenRunError(taken);
      return (await get(id))!;
    },

    get,

    items,

    list: async (filter) => {
      // Newest first; the cursor is the last run's creation instant and id, so a page never skips or repeats one.
      const [createdAt, id] = filter.cursor?.split('|') ?? [];
      const after = createdAt && id ? { createdAt, id } : null;
      const rows = await q()
        .select()
        .from(payoutRuns)
        .where(
          and(
            inArray(payoutRuns.installationId, filter.installationIds),
            filter.programId ? eq(payoutRuns.programId, filter.programId) : undefined,
            filter.status ? eq(payoutRuns.status, filter.status) : undefined,
            after
              ? or(lt(payoutRuns.createdAt, after.createdAt), and(eq(payoutRuns.createdAt, after.createdAt), lt(payoutRuns.id, after.id)))
              : undefined,
          ),
        )
        .orderBy(desc(payoutRuns.createdAt), desc(payoutRuns.id))
        .limit(filter.limit + 1);
      const page = rows.slice(0, filter.limit);
      const last = page.at(-1);
      return { items: page, nextCursor: rows.length > filter.limit && last ? `${last.createdAt}|${last.id}` : null };
    },

    inOpenRuns: async (rewardIds) => {
      if (rewardIds.length === 0) return [];
      return q()
        .select({ rewardId: payoutItems.rewardId, runId: payoutItems.runId })
        .from(payoutItems)
        .where(and(isNotNull(payoutItems.openRewardId), inArray(payoutItems.openRewardId, rewardIds)));
    },

    runsOfRewards: async (rewardIds) => {
      if (rewardIds.length === 0) return [];
      return (
        q()
          .select({
            rewardId: payoutItems.rewardId,
            id: payoutRuns.id,
            status: payoutRuns.status,
            reference: payoutRuns.reference,
            paidAt: payoutRuns.paidAt,
          })
          .from(payoutItems)
          .innerJoin(payoutRuns, eq(payoutRuns.id, payoutItems.runId))
          .innerJoin(payoutLines, eq(payoutLines.id, payoutItems.lineId))
          // A line the provider failed paid nothing: its rewards are payable again, in no run.
          .where(and(inArray(payoutItems.rewardId, rewardIds), or(isNull(payoutLines.sendStatus), ne(payoutLines.sendStatus, 'failed'))))
      );
    },

    lines: async (installationId) => {
      const rows = await q()
        .select({ line: payoutLines, runStatus: payoutRuns.status, runProgramId: payoutRuns.programId })
        .from(payoutLines)
        .innerJoin(payoutRuns, eq(payoutRuns.id, payoutLines.runId))
        .where(eq(payoutRuns.installationId, installationId));
      return rows
        .filter((r) => r.line.sendStatus !== 'failed')
        .map((r) => ({
          ...r.line,
          runProgramId: r.runProgramId,
          runStatus: r.line.sendStatus === 'delivered' ? ('paid' as const) : r.runStatus,
        }));
    },

    runsAwaitingOrders: () =>
      q()
        .selectDistinct({ id: payoutRuns.id, installationId: payoutRuns.installationId })
        .from(payoutRuns)
        .innerJoin(payoutLines, eq(payoutLines.runId, payoutRuns.id))
        .where(and(eq(payoutRuns.status, 'sent'), isNull(payoutLines.sendStatus))),

    markSent: async (id, now) => {
      await q().update(payoutRuns).set({ status: 'sent', sentAt: now.toISOString() }).where(eq(payoutRuns.id, id));
    },

    recordOrder: async (lineId, order) => {
      await q()
        .update(payoutLines)
        .set({ sendStatus: 'sent', ...order })
        .where(eq(payoutLines.id, lineId));
    },

    lineByProviderReward: async (providerRewardId) =>
      (await q().select().from(payoutLines).where(eq(payoutLines.providerRewardId, providerRewardId)))[0],

    markLineDelivered: (lineId) => closeLine(lineId, { sendStatus: 'delivered', failureReason: null }),

    markLineFailed: (lineId, reason) => closeLine(lineId, { sendStatus: 'failed', failureReason: reason }),

    firstSeenEvent: async (eventId) =>
      (
        await q()
          .insert(payoutProviderEvents)
          .values({ eventId })
          .onConflictDoNothing()
          .returning({ eventId: payoutProviderEvents.eventId })
      ).length > 0,

    markExported: async (id, now) => {
      await q().update(payoutRuns).set({ status: 'exported', exportedAt: now.toISOString() }).where(eq(payoutRuns.id, id));
    },

    markPaid: async (id, reference, now) => {
      await q().update(payoutRuns).set({ status: 'paid', reference, paidAt: now.toISOString() }).where(eq(payoutRuns.id, id));
      await q().update(payoutItems).set({ openRewardId: null }).where(eq(payoutItems.runId, id));
    },
  };
}

import { and, desc, eq, inArray, isNotNull, isNull, lt, ne, or } from 'drizzle-orm';
import type { PayoutRunStatus } from '../domain/payouts.ts';
import type { Db } from './db.ts';
import { newId } from './referrals.repo.ts';
import { payoutItems, payoutLines, payoutProviderEvents, payoutRuns } from './schema.ts';

export type PayoutRunRow = typeof payoutRuns.$inferSelect;
export type PayoutLineRow = typeof payoutLines.$inferSelect;
export type PayoutItemRow = typeof payoutItems.$inferSelect;
export type PayoutRunWithLines = PayoutRunRow & { lines: (PayoutLineRow & { rewardIds: string[] })[] };

/** Thrown inside a transaction (which it rolls back) when rewards already sit in another open run. */
export class RewardsInOpenRunError extends Error {
  override readonly name = 'RewardsInOpenRunError';
  constructor(readonly rewardIds: string[]) {
    super(`rewards already in an open payout run: ${rewardIds.join(', ')}`);
  }
}

export function payoutsRepo(db: Db) {
  return {
    /**
     * A draft run with its lines and items. The open-reward unique key refuses a reward already in
     * another open run, even one written by a concurrent request: call inside a transaction.
     */
    create(run: {
      installationId: string;
      programId: string;
      dueOn: string;
      lines: (Omit<typeof payoutLines.$inferInsert, 'id' | 'runId'> & { items: { rewardId: string; amountCents: number }[] })[];
    }): PayoutRunWithLines {
      const id = newId('pay');
      db.insert(payoutRuns)
        .values({ id, installationId: run.installationId, programId: run.programId, status: 'draft', dueOn: run.dueOn })
        .run();
      const taken: string[] = [];
      for (const { items, ...line } of run.lines) {
        const { id: lineId } = db
          .insert(payoutLines)
          .values({ ...line, runId: id })
          .returning({ id: payoutLines.id })
          .get();
        for (const item of items) {
          const added = db
            .insert(payoutItems)
            .values({ runId: id, lineId, rewardId: item.rewardId, amountCents: item.amountCents, openRewardId: item.rewardId })
            .onConflictDoNothing()
            .run();
          if (added.changes === 0) taken.push(item.rewardId);
        }
      }
      if (taken.length > 0) throw new RewardsInOpenRunError(taken);
      return this.get(id)!;
    },

    get(id: string): PayoutRunWithLines | undefined {
      const run = db.select().from(payoutRuns).where(eq(payoutRuns.id, id)).get();
      if (!run) return undefined;
      const lines = db
        .select()
        .from(payoutLines)
        .where(eq(payoutLines.runId, id))
        // Ids are random: a stable order (by payee, currency, then grant) keeps the CSV and API the same on every read.
        .orderBy(payoutLines.payeeType, payoutLines.payeeKey, payoutLines.currency, payoutLines.grantKey)
        .all();
      const items = this.items(id);
      return { ...run, lines: lines.map((l) => ({ ...l, rewardIds: items.filter((i) => i.lineId === l.id).map((i) => i.rewardId) })) };
    },

    items(runId: string): PayoutItemRow[] {
      return db.select().from(payoutItems).where(eq(payoutItems.runId, runId)).orderBy(payoutItems.rewardId).all();
    },

    list(filter: { installationIds: string[]; programId?: string; status?: PayoutRunStatus; cursor?: string; limit: number }): {
      items: PayoutRunRow[];
      nextCursor: string | null;
    } {
      // Newest first; the cursor is the last run's creation instant and id, so a page never skips or repeats one.
      const [createdAt, id] = filter.cursor?.split('|') ?? [];
      const after = createdAt && id ? { createdAt, id } : null;
      const rows = db
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
        .limit(filter.limit + 1)
        .all();
      const items = rows.slice(0, filter.limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > filter.limit && last ? `${last.createdAt}|${last.id}` : null };
    },

    /** Reward ids sitting in open (draft or exported) runs, of the given ones. */
    inOpenRuns(rewardIds: string[]): { rewardId: string; runId: string }[] {
      if (rewardIds.length === 0) return [];
      return db
        .select({ rewardId: payoutItems.rewardId, runId: payoutItems.runId })
        .from(payoutItems)
        .where(and(isNotNull(payoutItems.openRewardId), inArray(payoutItems.openRewardId, rewardIds)))
        .all();
    },

    /** The run each of these rewards went into (runs are never deleted; a reward of a failed line is in the next one). */
    runsOfRewards(
      rewardIds: string[],
    ): { rewardId: string; id: string; status: PayoutRunStatus; reference: string | null; paidAt: string | null }[] {
      if (rewardIds.length === 0) return [];
      return (
        db
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
          .all()
      );
    },

    /**
     * Every line of the installation's runs, for recoveries already made or reserved. A line the
     * provider delivered counts as paid though its run is still `sent`; a failed line recovered
     * nothing (its rewards are payable again) and is left out.
     */
    lines(installationId: string): (PayoutLineRow & { runStatus: PayoutRunStatus; runProgramId: string })[] {
      return db
        .select({ line: payoutLines, runStatus: payoutRuns.status, runProgramId: payoutRuns.programId })
        .from(payoutLines)
        .innerJoin(payoutRuns, eq(payoutRuns.id, payoutLines.runId))
        .where(eq(payoutRuns.installationId, installationId))
        .all()
        .filter((r) => r.line.sendStatus !== 'failed')
        .map((r) => ({ ...r.line, runProgramId: r.runProgramId, runStatus: r.line.sendStatus === 'delivered' ? 'paid' : r.runStatus }));
    },

    /** Sent runs with a line whose order is not recorded yet: their send job has work left (or was lost). */
    runsAwaitingOrders(): { id: string; installationId: string }[] {
      return db
        .selectDistinct({ id: payoutRuns.id, installationId: payoutRuns.installationId })
        .from(payoutRuns)
        .innerJoin(payoutLines, eq(payoutLines.runId, payoutRuns.id))
        .where(and(eq(payoutRuns.status, 'sent'), isNull(payoutLines.sendStatus)))
        .all();
    },

    markSent(id: string, now: Date): void {
      db.update(payoutRuns).set({ status: 'sent', sentAt: now.toISOString() }).where(eq(payoutRuns.id, id)).run();
    },

    /** The provider accepted the line's order: delivery (or failure) comes by webhook. */
    recordOrder(lineId: number, order: { providerOrderId: string; providerRewardId: string }): void {
      db.update(payoutLines)
        .set({ sendStatus: 'sent', ...order })
        .where(eq(payoutLines.id, lineId))
        .run();
    },

    lineByProviderReward(providerRewardId: string): PayoutLineRow | undefined {
      return db.select().from(payoutLines).where(eq(payoutLines.providerRewardId, providerRewardId)).get();
    },

    /** Delivered: the line's rewards are paid, so they leave the open-run key. */
    markLineDelivered(lineId: number): void {
      db.update(payoutLines).set({ sendStatus: 'delivered', failureReason: null }).where(eq(payoutLines.id, lineId)).run();
      db.update(payoutItems).set({ openRewardId: null }).where(eq(payoutItems.lineId, lineId)).run();
    },

    /** Failed or refused: the line's rewards leave the run's open key, free for the next run. */
    markLineFailed(lineId: number, reason: string): void {
      db.update(payoutLines).set({ sendStatus: 'failed', failureReason: reason }).where(eq(payoutLines.id, lineId)).run();
      db.update(payoutItems).set({ openRewardId: null }).where(eq(payoutItems.lineId, lineId)).run();
    },

    /** Stores a provider webhook's event id; false when it was stored before (a replay). */
    firstSeenEvent(eventId: string): boolean {
      return db.insert(payoutProviderEvents).values({ eventId }).onConflictDoNothing().run().changes > 0;
    },

    markExported(id: string, now: Date): void {
      db.update(payoutRuns).set({ status: 'exported', exportedAt: now.toISOString() }).where(eq(payoutRuns.id, id)).run();
    },

    /** Paid: the run's rewards leave the open-run key, free for nothing else (they are paid). */
    markPaid(id: string, reference: string, now: Date): void {
      db.update(payoutRuns).set({ status: 'paid', reference, paidAt: now.toISOString() }).where(eq(payoutRuns.id, id)).run();
      db.update(payoutItems).set({ openRewardId: null }).where(eq(payoutItems.runId, id)).run();
    },
  };
}

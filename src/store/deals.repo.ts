import { and, eq, gte } from 'drizzle-orm';
import type { CrmDeal } from '../../connectors/connector.ts';
import type { Db } from './db.ts';
import { deals, syncCursors } from './schema.ts';

export type DealRow = typeof deals.$inferSelect;

export function dealsRepo(db: Db) {
  return {
    get(installationId: string, dealId: string): DealRow | undefined {
      return db.select().from(deals).where(and(eq(deals.installationId, installationId), eq(deals.dealId, dealId))).get();
    },

    /** Mirror the CRM's current state of a deal. */
    save(installationId: string, deal: CrmDeal, now: Date): void {
      const values = {
        name: deal.name,
        pipelineId: deal.pipelineId,
        stageId: deal.stageId,
        isClosed: deal.isClosed,
        isWon: deal.isWon,
        amountCents: deal.amountCents,
        firstYearValueCents: deal.firstYearValueCents,
        currency: deal.currency,
        closeDate: deal.closeDate,
        crmCreatedAt: deal.createdAt,
        ownerId: deal.ownerId,
        sourcedBy: deal.sourcedBy,
        contactIds: deal.contactIds,
        companyIds: deal.companyIds,
        deleted: false,
        crmModifiedAt: deal.modifiedAt,
        fetchedAt: now.toISOString(),
      };
      db.insert(deals)
        .values({ installationId, dealId: deal.id, ...values })
        .onConflictDoUpdate({ target: [deals.installationId, deals.dealId], set: values })
        .run();
    },

    setFingerprint(installationId: string, dealId: string, fingerprint: string): void {
      db.update(deals)
        .set({ appliedFingerprint: fingerprint })
        .where(and(eq(deals.installationId, installationId), eq(deals.dealId, dealId)))
        .run();
    },

    /** Close dates of the deals credited to a referrer's closed-won referrals (milestone bonuses). */
    closedWonCloseDates(referrerId: string): { referralId: string; closeDate: string }[] {
      return db.$client
        .prepare(
          `SELECT DISTINCT r.id AS referralId, d.close_date AS closeDate FROM referrals r
             JOIN attributions a ON a.referral_id = r.id AND a.status = 'active'
             JOIN deals d ON d.installation_id = a.installation_id AND d.deal_id = a.deal_id
            WHERE r.referrer_id = ? AND r.status = 'closed_won' AND d.close_date IS NOT NULL`,
        )
        .all(referrerId) as { referralId: string; closeDate: string }[];
    },

    markDeleted(installationId: string, dealId: string, now: Date): void {
      db.update(deals)
        .set({ deleted: true, fetchedAt: now.toISOString() })
        .where(and(eq(deals.installationId, installationId), eq(deals.dealId, dealId)))
        .run();
    },

    /** Won deals closed on or after `since` (YYYY-MM-DD), for program simulation. */
    wonSince(installationId: string, since: string): DealRow[] {
      return db
        .select()
        .from(deals)
        .where(and(eq(deals.installationId, installationId), eq(deals.isWon, true), eq(deals.deleted, false), gte(deals.closeDate, since)))
        .all();
    },

    cursor(installationId: string, name: string): string | null {
      return (
        db
          .select({ cursor: syncCursors.cursor })
          .from(syncCursors)
          .where(and(eq(syncCursors.installationId, installationId), eq(syncCursors.name, name)))
          .get()?.cursor ?? null
      );
    },

    setCursor(installationId: string, name: string, cursor: string, now: Date): void {
      db.insert(syncCursors)
        .values({ installationId, name, cursor, updatedAt: now.toISOString() })
        .onConflictDoUpdate({ target: [syncCursors.installationId, syncCursors.name], set: { cursor, updatedAt: now.toISOString() } })
        .run();
    },
  };
}

export type DealsRepo = ReturnType<typeof dealsRepo>;

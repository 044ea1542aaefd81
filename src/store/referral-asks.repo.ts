import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { newId } from './referrals.repo.ts';
import { referralAsks, referrals } from './schema.ts';

export type ReferralAskRow = typeof referralAsks.$inferSelect;

export function referralAsksRepo(db: Db) {
  return {
    insert(values: Omit<typeof referralAsks.$inferInsert, 'id'>): ReferralAskRow {
      return db
        .insert(referralAsks)
        .values({ ...values, id: newId('ask') })
        .returning()
        .get();
    },

    get(id: string): ReferralAskRow | undefined {
      return db.select().from(referralAsks).where(eq(referralAsks.id, id)).get();
    },

    byKey(installationId: string, idempotencyKey: string): ReferralAskRow | undefined {
      return db
        .select()
        .from(referralAsks)
        .where(and(eq(referralAsks.installationId, installationId), eq(referralAsks.idempotencyKey, idempotencyKey)))
        .get();
    },

    /** The account's latest ask the program sent by itself (automatic or milestone), for the program's period between them. */
    lastAutomaticSent(installationId: string, companyId: string): ReferralAskRow | undefined {
      return db
        .select()
        .from(referralAsks)
        .where(
          and(
            eq(referralAsks.installationId, installationId),
            eq(referralAsks.companyId, companyId),
            inArray(referralAsks.trigger, ['automatic', 'milestone']),
            eq(referralAsks.status, 'sent'),
          ),
        )
        .orderBy(desc(referralAsks.createdAt))
        .get();
    },

    /** Asks sent, and referrals submitted from an ask's landing page, over these installations. */
    counts(installationIds: string[]): { sent: number; refused: number; referralsFromAsks: number } {
      if (installationIds.length === 0) return { sent: 0, refused: 0, referralsFromAsks: 0 };
      const byStatus = db
        .select({ status: referralAsks.status, count: sql<number>`count(*)` })
        .from(referralAsks)
        .where(inArray(referralAsks.installationId, installationIds))
        .groupBy(referralAsks.status)
        .all();
      const fromAsks = db
        .select({ count: sql<number>`count(*)` })
        .from(referrals)
        .where(and(inArray(referrals.installationId, installationIds), isNotNull(referrals.askId)))
        .get();
      return {
        sent: byStatus.find((r) => r.status === 'sent')?.count ?? 0,
        refused: byStatus.find((r) => r.status === 'refused')?.count ?? 0,
        referralsFromAsks: fromAsks?.count ?? 0,
      };
    },
  };
}

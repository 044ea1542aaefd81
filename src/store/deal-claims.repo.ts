import { and, eq, inArray, isNull, lte } from 'drizzle-orm';
import type { Db } from './db.ts';
import { dealClaims } from './schema.ts';

export type DealClaimRow = typeof dealClaims.$inferSelect;

export function dealClaimsRepo(db: Db) {
  return {
    insert(row: Omit<typeof dealClaims.$inferInsert, 'decision' | 'decidedBy' | 'decidedAt' | 'reason'>): DealClaimRow {
      return db.insert(dealClaims).values(row).returning().get();
    },

    get(referralId: string): DealClaimRow | undefined {
      return db.select().from(dealClaims).where(eq(dealClaims.referralId, referralId)).get();
    },

    forDeals(installationId: string, dealIds: string[]): DealClaimRow[] {
      if (dealIds.length === 0) return [];
      return db
        .select()
        .from(dealClaims)
        .where(and(eq(dealClaims.installationId, installationId), inArray(dealClaims.dealId, dealIds)))
        .all();
    },

    /** Records the decision once: a claim already decided is left as it is (false). */
    decide(referralId: string, decision: 'approved' | 'rejected' | 'expired', by: string, at: string, reason: string | null): boolean {
      const result = db
        .update(dealClaims)
        .set({ decision, decidedBy: by, decidedAt: at, reason })
        .where(and(eq(dealClaims.referralId, referralId), isNull(dealClaims.decision)))
        .run();
      return result.changes === 1;
    },

    /** Undecided claims whose window ended (for the expiry pass). */
    undecidedExpiredBy(installationId: string, at: string): DealClaimRow[] {
      return db
        .select()
        .from(dealClaims)
        .where(and(eq(dealClaims.installationId, installationId), isNull(dealClaims.decision), lte(dealClaims.expiresAt, at)))
        .all();
    },
  };
}

import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import { newId } from '../referrals.repo.ts';
import type { Query } from './query.ts';
import { referralAsks, referrals } from './schema.ts';

/** Referral asks on PostgreSQL: the SQLite repository's behaviour method by method. */
export function referralAsksRepo(q: Query, _cipher?: Cipher): Store['referralAsks'] {
  return {
    async insert(values) {
      const [row] = await q()
        .insert(referralAsks)
        .values({ ...values, id: newId('ask') })
        .returning();
      return row!;
    },

    async get(id) {
      return (await q().select().from(referralAsks).where(eq(referralAsks.id, id)).limit(1))[0];
    },

    async byKey(installationId, idempotencyKey) {
      const rows = await q()
        .select()
        .from(referralAsks)
        .where(and(eq(referralAsks.installationId, installationId), eq(referralAsks.idempotencyKey, idempotencyKey)))
        .limit(1);
      return rows[0];
    },

    async lastAutomaticSent(installationId, companyId) {
      const rows = await q()
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
        .orderBy(desc(referralAsks.createdAt), desc(referralAsks.id))
        .limit(1);
      return rows[0];
    },

    async counts(installationIds) {
      if (installationIds.length === 0) return { sent: 0, refused: 0, referralsFromAsks: 0 };
      const byStatus = await q()
        .select({ status: referralAsks.status, count: sql<number>`count(*)::int` })
        .from(referralAsks)
        .where(inArray(referralAsks.installationId, installationIds))
        .groupBy(referralAsks.status);
      const [fromAsks] = await q()
        .select({ count: sql<number>`count(*)::int` })
        .from(referrals)
        .where(and(inArray(referrals.installationId, installationIds), isNotNull(referrals.askId)));
      return {
        sent: byStatus.find((r) => r.status === 'sent')?.count ?? 0,
        refused: byStatus.find((r) => r.status === 'refused')?.count ?? 0,
        referralsFromAsks: fromAsks?.count ?? 0,
      };
    },
  };
}

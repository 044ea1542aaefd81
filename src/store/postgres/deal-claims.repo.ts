import { and, eq, inArray, isNull, lte } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import type { Query } from './query.ts';
import { dealClaims } from './schema.ts';

type Repo = Store['dealClaims'];

/** Claims of existing deals by referrers, awaiting a decision, on PostgreSQL: the SQLite repository's answers. */
export function dealClaimsRepo(q: Query, _cipher?: Cipher): Repo {
  return {
    // A second claim of the same referral fails on the primary key, as on SQLite.
    insert: async (row) => (await q().insert(dealClaims).values(row).returning())[0]!,

    get: async (referralId) => (await q().select().from(dealClaims).where(eq(dealClaims.referralId, referralId)))[0],

    forDeals: async (installationId, dealIds) => {
      if (dealIds.length === 0) return [];
      return q()
        .select()
        .from(dealClaims)
        .where(and(eq(dealClaims.installationId, installationId), inArray(dealClaims.dealId, dealIds)));
    },

    /** One statement: of two deciders at once, the row lock lets one set it and the other find it decided. */
    decide: async (referralId, decision, by, at, reason) => {
      const decided = await q()
        .update(dealClaims)
        .set({ decision, decidedBy: by, decidedAt: at, reason })
        .where(and(eq(dealClaims.referralId, referralId), isNull(dealClaims.decision)))
        .returning({ referralId: dealClaims.referralId });
      return decided.length === 1;
    },

    undecidedExpiredBy: (installationId, at) =>
      q()
        .select()
        .from(dealClaims)
        .where(and(eq(dealClaims.installationId, installationId), isNull(dealClaims.decision), lte(dealClaims.expiresAt, at))),
  };
}

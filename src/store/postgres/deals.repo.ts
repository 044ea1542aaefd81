import { and, asc, eq, gte, sql } from 'drizzle-orm';
import type { DealKind } from '../../domain/deal-kind.ts';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import type { Query } from './query.ts';
import { attributions, deals, referrals, syncCursors } from './schema.ts';

type Repo = Store['deals'];

/** The CRM deals' mirror and the sync cursors on PostgreSQL: the SQLite repository's answers. */
export function dealsRepo(q: Query, _cipher?: Cipher): Repo {
  const one = (installationId: string, dealId: string) => and(eq(deals.installationId, installationId), eq(deals.dealId, dealId));
  const cursorRow = async (installationId: string, name: string) =>
    (
      await q()
        .select({ cursor: syncCursors.cursor, updatedAt: syncCursors.updatedAt })
        .from(syncCursors)
        .where(and(eq(syncCursors.installationId, installationId), eq(syncCursors.name, name)))
    )[0];

  return {
    get: async (installationId, dealId) => (await q().select().from(deals).where(one(installationId, dealId)))[0],

    getMany: async (installationId, dealIds) =>
      await q()
        .select()
        .from(deals)
        .where(and(eq(deals.installationId, installationId), sql`${deals.dealId} = ANY(${sql.param(dealIds)}::text[])`))
        .orderBy(asc(deals.dealId)),

    save: async (installationId, deal, sourcedBy, dealKind, now) => {
      const mirrored = {
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
        sourcedBy,
        dealType: deal.dealType,
        dealKind,
        contactIds: deal.contactIds,
        companyIds: deal.companyIds,
        deleted: false,
        crmModifiedAt: deal.modifiedAt,
        fetchedAt: now.toISOString(),
      };
      // Every mirrored column is overwritten; the applied fingerprint stays, as on SQLite.
      await q()
        .insert(deals)
        .values({ installationId, dealId: deal.id, ...mirrored })
        .onConflictDoUpdate({ target: [deals.installationId, deals.dealId], set: mirrored });
    },

    setFingerprint: async (installationId, dealId, fingerprint) => {
      await q().update(deals).set({ appliedFingerprint: fingerprint }).where(one(installationId, dealId));
    },

    // No order, as on SQLite (callers take the earliest per referral).
    closedWonCloseDates: async (referrerId) => {
      const rows = await q()
        .selectDistinct({ referralId: referrals.id, closeDate: deals.closeDate })
        .from(referrals)
        .innerJoin(attributions, and(eq(attributions.referralId, referrals.id), eq(attributions.status, 'active')))
        .innerJoin(deals, and(eq(deals.installationId, attributions.installationId), eq(deals.dealId, attributions.dealId)))
        .where(
          and(
            eq(referrals.referrerId, referrerId),
            eq(referrals.status, 'closed_won'),
            sql`${deals.closeDate} IS NOT NULL`,
            eq(deals.dealKind, 'new_business'),
          ),
        );
      return rows as { referralId: string; closeDate: string }[];
    },

    wonForReferral: async (referralId) => {
      const rows = await q()
        .selectDistinct({ dealId: deals.dealId, dealKind: deals.dealKind, closeDate: deals.closeDate })
        .from(attributions)
        .innerJoin(deals, and(eq(deals.installationId, attributions.installationId), eq(deals.dealId, attributions.dealId)))
        .where(
          and(
            eq(attributions.referralId, referralId),
            eq(attributions.status, 'active'),
            eq(deals.isWon, true),
            eq(deals.deleted, false),
            sql`${deals.closeDate} IS NOT NULL`,
          ),
        )
        .orderBy(asc(deals.closeDate), asc(deals.dealId));
      return rows as { dealId: string; dealKind: DealKind; closeDate: string }[];
    },

    markDeleted: async (installationId, dealId, now) => {
      await q().update(deals).set({ deleted: true, fetchedAt: now.toISOString() }).where(one(installationId, dealId));
    },

    wonSince: (installationId, since) =>
      q()
        .select()
        .from(deals)
        .where(and(eq(deals.installationId, installationId), eq(deals.isWon, true), eq(deals.deleted, false), gte(deals.closeDate, since))),

    cursor: async (installationId, name) => (await cursorRow(installationId, name))?.cursor ?? null,

    cursorMovedAt: async (installationId, name) => (await cursorRow(installationId, name))?.updatedAt ?? null,

    setCursor: async (installationId, name, cursor, now) => {
      await q()
        .insert(syncCursors)
        .values({ installationId, name, cursor, updatedAt: now.toISOString() })
        .onConflictDoUpdate({ target: [syncCursors.installationId, syncCursors.name], set: { cursor, updatedAt: now.toISOString() } });
    },
  };
}

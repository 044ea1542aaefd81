import { and, eq, gte, sql } from 'drizzle-orm';
import type { CrmDeal } from '../../connectors/connector.ts';
import type { DealKind } from '../domain/deal-kind.ts';
import type { DealSource } from '../domain/deal-source.ts';
import type { Db } from './db.ts';
import { placeholder } from './placeholder.ts';
import { deals, syncCursors } from './schema.ts';

export type DealRow = typeof deals.$inferSelect;

export function dealsRepo(db: Db) {
  // Prepared once: every CRM deal applied reads and writes its mirror.
  const byId = db
    .select()
    .from(deals)
    .where(and(eq(deals.installationId, sql.placeholder('installationId')), eq(deals.dealId, sql.placeholder('dealId'))))
    .prepare();
  const mirrored = {
    name: sql.placeholder('name'),
    pipelineId: sql.placeholder('pipelineId'),
    stageId: sql.placeholder('stageId'),
    isClosed: sql.placeholder('isClosed'),
    isWon: sql.placeholder('isWon'),
    amountCents: sql.placeholder('amountCents'),
    firstYearValueCents: sql.placeholder('firstYearValueCents'),
    currency: sql.placeholder('currency'),
    closeDate: sql.placeholder('closeDate'),
    crmCreatedAt: sql.placeholder('crmCreatedAt'),
    ownerId: sql.placeholder('ownerId'),
    sourcedBy: sql.placeholder('sourcedBy'),
    dealType: sql.placeholder('dealType'),
    dealKind: sql.placeholder('dealKind'),
    contactIds: sql.placeholder('contactIds'),
    companyIds: sql.placeholder('companyIds'),
    deleted: sql.placeholder('deleted'),
    crmModifiedAt: sql.placeholder('crmModifiedAt'),
    fetchedAt: sql.placeholder('fetchedAt'),
  };
  const upsert = db
    .insert(deals)
    .values({ installationId: sql.placeholder('installationId'), dealId: sql.placeholder('dealId'), ...mirrored })
    .onConflictDoUpdate({
      target: [deals.installationId, deals.dealId],
      // SQLite's `excluded` row holds the inserted values, already encoded.
      set: Object.fromEntries(Object.keys(mirrored).map((key) => [key, sql.raw(`excluded."${deals[key as keyof typeof mirrored].name}"`)])),
    })
    .prepare();
  const fingerprintUpdate = db
    .update(deals)
    .set({ appliedFingerprint: placeholder('fingerprint') })
    .where(and(eq(deals.installationId, sql.placeholder('installationId')), eq(deals.dealId, sql.placeholder('dealId'))))
    .prepare();
  const closedWonDates = db.$client.prepare<[string], { referralId: string; closeDate: string }>(
    `SELECT DISTINCT r.id AS referralId, d.close_date AS closeDate FROM referrals r
       JOIN attributions a ON a.referral_id = r.id AND a.status = 'active'
       JOIN deals d ON d.installation_id = a.installation_id AND d.deal_id = a.deal_id
      WHERE r.referrer_id = ? AND r.status = 'closed_won' AND d.close_date IS NOT NULL AND d.deal_kind = 'new_business'`,
  );
  const wonForReferral = db.$client.prepare<[string], { dealId: string; dealKind: DealKind; closeDate: string }>(
    `SELECT DISTINCT d.deal_id AS dealId, d.deal_kind AS dealKind, d.close_date AS closeDate FROM attributions a
       JOIN deals d ON d.installation_id = a.installation_id AND d.deal_id = a.deal_id
      WHERE a.referral_id = ? AND a.status = 'active' AND d.is_won = 1 AND d.deleted = 0 AND d.close_date IS NOT NULL
      ORDER BY d.close_date, d.deal_id`,
  );

  // Any number of deals in one prepared statement: their ids travel as a JSON array.
  const byIds = db
    .select()
    .from(deals)
    .where(
      and(
        eq(deals.installationId, sql.placeholder('installationId')),
        sql`${deals.dealId} IN (SELECT value FROM json_each(${sql.placeholder('dealIds')}))`,
      ),
    )
    .orderBy(deals.dealId)
    .prepare();

  return {
    get(installationId: string, dealId: string): DealRow | undefined {
      return byId.get({ installationId, dealId });
    },

    /** The mirrors of these deals that exist, by deal id (a sync reads a batch of deals' in one query). */
    getMany(installationId: string, dealIds: string[]): DealRow[] {
      return byIds.all({ installationId, dealIds: JSON.stringify(dealIds) });
    },

    /**
     * Mirror the CRM's current state of a deal, with who sourced it and its kind (new business,
     * renewal, expansion) as the installation's mappings read its fields.
     */
    save(installationId: string, deal: CrmDeal, sourcedBy: DealSource, dealKind: DealKind, now: Date): void {
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
        sourcedBy,
        dealType: deal.dealType,
        dealKind,
        contactIds: deal.contactIds,
        companyIds: deal.companyIds,
        deleted: false,
        crmModifiedAt: deal.modifiedAt,
        fetchedAt: now.toISOString(),
      };
      upsert.run({ installationId, dealId: deal.id, ...values });
    },

    setFingerprint(installationId: string, dealId: string, fingerprint: string): void {
      fingerprintUpdate.run({ installationId, dealId, fingerprint });
    },

    /** Close dates of the deals credited to a referrer's closed-won referrals (milestone bonuses). */
    closedWonCloseDates(referrerId: string): { referralId: string; closeDate: string }[] {
      return closedWonDates.all(referrerId);
    },

    /** Won deals credited to a referral, by close date: its first new-business deal and its renewals (revenue share). */
    wonForReferral(referralId: string): { dealId: string; dealKind: DealKind; closeDate: string }[] {
      return wonForReferral.all(referralId);
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

    /** When a sync cursor last moved (the reconciliation's: when it last ran). */
    cursorMovedAt(installationId: string, name: string): string | null {
      return (
        db
          .select({ updatedAt: syncCursors.updatedAt })
          .from(syncCursors)
          .where(and(eq(syncCursors.installationId, installationId), eq(syncCursors.name, name)))
          .get()?.updatedAt ?? null
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

import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { CrmObjectType } from '../../connectors/connector.ts';
import type { Db } from './db.ts';
import { attributions, crmLinks, referralEvents, referrals, referrers } from './schema.ts';

export type ReferrerRow = typeof referrers.$inferSelect;
export type ReferralRow = typeof referrals.$inferSelect;
export type ReferralEventRow = typeof referralEvents.$inferSelect;
export type AttributionRow = typeof attributions.$inferSelect;

export const newId = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 20)}`;

/** Cursor pagination over (submittedAt, id) descending: newest first, stable under inserts. */
function encodeCursor(row: { submittedAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([row.submittedAt, row.id])).toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')
      ? (value as [string, string])
      : undefined;
  } catch {
    return undefined;
  }
}

export function referralsRepo(db: Db) {
  return {
    referrerByEmail(installationId: string, email: string): ReferrerRow | undefined {
      return db
        .select()
        .from(referrers)
        .where(and(eq(referrers.installationId, installationId), eq(referrers.email, email)))
        .get();
    },

    referrer(id: string): ReferrerRow | undefined {
      return db.select().from(referrers).where(eq(referrers.id, id)).get();
    },

    listReferrers(installationId: string): ReferrerRow[] {
      return db.select().from(referrers).where(eq(referrers.installationId, installationId)).orderBy(asc(referrers.createdAt)).all();
    },

    insertReferrer(values: Omit<typeof referrers.$inferInsert, 'id' | 'accessKey'>): ReferrerRow {
      const id = newId('rfr');
      db.insert(referrers)
        .values({ ...values, id, accessKey: randomBytes(24).toString('base64url') })
        .run();
      return this.referrer(id)!;
    },

    updateReferrer(id: string, patch: Partial<typeof referrers.$inferInsert>): void {
      db.update(referrers).set(patch).where(eq(referrers.id, id)).run();
    },

    get(id: string): ReferralRow | undefined {
      return db.select().from(referrals).where(eq(referrals.id, id)).get();
    },

    insert(values: typeof referrals.$inferInsert): ReferralRow {
      db.insert(referrals).values(values).run();
      return this.get(values.id)!;
    },

    /** Earlier referrals of the same referee: by normalized email or (company) domain. */
    priorFor(installationId: string, emailKey: string, domain: string | null): ReferralRow[] {
      return db
        .select()
        .from(referrals)
        .where(
          and(
            eq(referrals.installationId, installationId),
            domain ? or(eq(referrals.refereeEmailKey, emailKey), eq(referrals.refereeDomain, domain)) : eq(referrals.refereeEmailKey, emailKey),
          ),
        )
        .orderBy(asc(referrals.submittedAt))
        .all();
    },

    list(filter: {
      installationIds: string[];
      status?: string;
      referrerId?: string;
      cursor?: [string, string];
      limit: number;
    }): { items: ReferralRow[]; nextCursor: string | null } {
      const rows = db
        .select()
        .from(referrals)
        .where(
          and(
            inArray(referrals.installationId, filter.installationIds),
            filter.status ? eq(referrals.status, filter.status) : undefined,
            filter.referrerId ? eq(referrals.referrerId, filter.referrerId) : undefined,
            filter.cursor
              ? or(
                  lt(referrals.submittedAt, filter.cursor[0]),
                  and(eq(referrals.submittedAt, filter.cursor[0]), lt(referrals.id, filter.cursor[1])),
                )
              : undefined,
          ),
        )
        .orderBy(desc(referrals.submittedAt), desc(referrals.id))
        .limit(filter.limit + 1)
        .all();
      const items = rows.slice(0, filter.limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > filter.limit && last ? encodeCursor(last) : null };
    },

    countsByStatus(installationIds: string[]): { status: string; count: number }[] {
      return db
        .select({ status: referrals.status, count: sql<number>`count(*)` })
        .from(referrals)
        .where(inArray(referrals.installationId, installationIds))
        .groupBy(referrals.status)
        .all();
    },

    byReferrer(referrerId: string): ReferralRow[] {
      return db.select().from(referrals).where(eq(referrals.referrerId, referrerId)).orderBy(asc(referrals.submittedAt)).all();
    },

    setStatus(id: string, status: string, now: Date): void {
      db.update(referrals).set({ status, updatedAt: now.toISOString() }).where(eq(referrals.id, id)).run();
    },

    update(id: string, patch: Partial<typeof referrals.$inferInsert>): void {
      db.update(referrals).set(patch).where(eq(referrals.id, id)).run();
    },

    /** Appends to the timeline; false when this transition was already recorded (a replay). */
    addEvent(event: Omit<typeof referralEvents.$inferInsert, 'id'>): boolean {
      return db.insert(referralEvents).values(event).onConflictDoNothing().run().changes > 0;
    },

    timeline(referralId: string): ReferralEventRow[] {
      return db.select().from(referralEvents).where(eq(referralEvents.referralId, referralId)).orderBy(asc(referralEvents.id)).all();
    },

    /** Referrals whose referee records are not yet in the CRM, oldest first. */
    unsynced(installationId: string, limit: number): ReferralRow[] {
      return db
        .select()
        .from(referrals)
        .where(
          and(
            eq(referrals.installationId, installationId),
            isNull(referrals.crmSyncedAt),
            inArray(referrals.status, ['accepted', 'contacted', 'qualified', 'in_sales_process']),
          ),
        )
        .orderBy(asc(referrals.submittedAt))
        .limit(limit)
        .all();
    },

    link(installationId: string, referralId: string, objectType: CrmObjectType, objectId: string): void {
      db.insert(crmLinks).values({ installationId, referralId, objectType, objectId }).onConflictDoNothing().run();
    },

    links(referralId: string): { objectType: CrmObjectType; objectId: string }[] {
      return db
        .select({ objectType: crmLinks.objectType, objectId: crmLinks.objectId })
        .from(crmLinks)
        .where(eq(crmLinks.referralId, referralId))
        .all();
    },

    /** Referrals linked to any of these CRM records. */
    linkedTo(installationId: string, refs: { objectType: CrmObjectType; ids: string[] }[]): ReferralRow[] {
      const conditions = refs
        .filter((r) => r.ids.length > 0)
        .map((r) => and(eq(crmLinks.objectType, r.objectType), inArray(crmLinks.objectId, r.ids)));
      if (conditions.length === 0) return [];
      const ids = db
        .selectDistinct({ id: crmLinks.referralId })
        .from(crmLinks)
        .where(and(eq(crmLinks.installationId, installationId), or(...conditions)))
        .all()
        .map((r) => r.id);
      return ids.length ? db.select().from(referrals).where(inArray(referrals.id, ids)).all() : [];
    },

    /** Open referrals with no deal link, submitted before `before`: expiry candidates. */
    openWithoutDeal(installationId: string, before: string): ReferralRow[] {
      return db
        .select()
        .from(referrals)
        .where(
          and(
            eq(referrals.installationId, installationId),
            inArray(referrals.status, ['accepted', 'contacted', 'qualified', 'in_sales_process']),
            lt(referrals.submittedAt, before),
            sql`NOT EXISTS (SELECT 1 FROM crm_links l WHERE l.referral_id = ${referrals.id} AND l.object_type = 'deal')`,
          ),
        )
        .all();
    },

    attributionsForReferral(referralId: string): AttributionRow[] {
      return db.select().from(attributions).where(eq(attributions.referralId, referralId)).orderBy(asc(attributions.createdAt)).all();
    },

    activeAttributionsForDeal(installationId: string, dealId: string): AttributionRow[] {
      return db
        .select()
        .from(attributions)
        .where(and(eq(attributions.installationId, installationId), eq(attributions.dealId, dealId), eq(attributions.status, 'active')))
        .all();
    },

    insertAttribution(values: Omit<typeof attributions.$inferInsert, 'id'>): AttributionRow {
      const id = newId('att');
      db.insert(attributions).values({ ...values, id }).run();
      return db.select().from(attributions).where(eq(attributions.id, id)).get()!;
    },

    reverseAttribution(id: string, reason: string, now: Date): void {
      db.update(attributions)
        .set({ status: 'reversed', reversedAt: now.toISOString(), reversalReason: reason })
        .where(eq(attributions.id, id))
        .run();
    },
  };
}

export type ReferralsRepo = ReturnType<typeof referralsRepo>;

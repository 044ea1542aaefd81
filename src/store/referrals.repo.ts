import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, type Column, desc, eq, getTableColumns, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { CrmObjectType } from '../../connectors/connector.ts';
import type { Db } from './db.ts';
import { placeholder } from './placeholder.ts';
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
  // Prepared once: applying a CRM deal runs these many times, and building the SQL cost more
  // than running it.
  const referrerById = db
    .select()
    .from(referrers)
    .where(eq(referrers.id, sql.placeholder('id')))
    .prepare();
  const referralById = db
    .select()
    .from(referrals)
    .where(eq(referrals.id, sql.placeholder('id')))
    .prepare();
  // Unary + on the sort key: without it SQLite walks the whole installation in submitted order
  // rather than sorting the few rows the email index finds. Ties go by id, as in that walk.
  const priorByEmail = db
    .select()
    .from(referrals)
    .where(and(eq(referrals.installationId, sql.placeholder('installationId')), eq(referrals.refereeEmailKey, sql.placeholder('emailKey'))))
    .orderBy(sql`+${referrals.submittedAt}`, asc(referrals.id))
    .prepare();
  // Two index lookups, not `email = ? OR domain = ?`: for that, SQLite walks the installation's
  // referrals in submitted order, so each submission cost as much as the installation was large.
  const priorByEmailOrDomain = db
    .select()
    .from(referrals)
    .where(
      sql`${referrals.id} IN (
        SELECT ${referrals.id} FROM ${referrals} WHERE ${referrals.installationId} = ${sql.placeholder('installationId')} AND ${referrals.refereeEmailKey} = ${sql.placeholder('emailKey')}
        UNION ALL
        SELECT ${referrals.id} FROM ${referrals} WHERE ${referrals.installationId} = ${sql.placeholder('installationId')} AND ${referrals.refereeDomain} = ${sql.placeholder('domain')})`,
    )
    .orderBy(asc(referrals.submittedAt), asc(referrals.id))
    .prepare();
  const statusUpdate = db
    .update(referrals)
    .set({ status: placeholder('status'), updatedAt: placeholder('updatedAt') })
    .where(eq(referrals.id, sql.placeholder('id')))
    .prepare();
  const eventInsert = db
    .insert(referralEvents)
    .values({
      referralId: sql.placeholder('referralId'),
      fromStatus: sql.placeholder('fromStatus'),
      toStatus: sql.placeholder('toStatus'),
      reasons: sql.placeholder('reasons'),
      source: sql.placeholder('source'),
      idempotencyKey: sql.placeholder('idempotencyKey'),
      occurredAt: sql.placeholder('occurredAt'),
    })
    .onConflictDoNothing()
    .prepare();
  const linkInsert = db
    .insert(crmLinks)
    .values({
      installationId: sql.placeholder('installationId'),
      referralId: sql.placeholder('referralId'),
      objectType: sql.placeholder('objectType'),
      objectId: sql.placeholder('objectId'),
    })
    .onConflictDoNothing()
    .prepare();
  const linksOf = db
    .select({ objectType: crmLinks.objectType, objectId: crmLinks.objectId })
    .from(crmLinks)
    .where(eq(crmLinks.referralId, sql.placeholder('referralId')))
    .prepare();
  // Any number of records in one prepared statement: they travel as a JSON array of {t, id}.
  // Ordered by id, as the lookup by an id list always returned them.
  const linkedToRecords = db
    .select()
    .from(referrals)
    .where(
      inArray(
        referrals.id,
        db
          .select({ id: crmLinks.referralId })
          .from(crmLinks)
          .where(
            and(
              eq(crmLinks.installationId, sql.placeholder('installationId')),
              sql`(${crmLinks.objectType}, ${crmLinks.objectId}) IN (SELECT value ->> 't', value ->> 'id' FROM json_each(${sql.placeholder('records')}))`,
            ),
          ),
      ),
    )
    .orderBy(asc(referrals.id))
    .prepare();
  const linksToRecords = db
    .select({ objectType: crmLinks.objectType, objectId: crmLinks.objectId, referral: getTableColumns(referrals) })
    .from(crmLinks)
    .innerJoin(referrals, eq(referrals.id, crmLinks.referralId))
    .where(
      and(
        eq(crmLinks.installationId, sql.placeholder('installationId')),
        sql`(${crmLinks.objectType}, ${crmLinks.objectId}) IN (SELECT value ->> 't', value ->> 'id' FROM json_each(${sql.placeholder('records')}))`,
      ),
    )
    .orderBy(asc(referrals.id), asc(crmLinks.objectType), asc(crmLinks.objectId))
    .prepare();
  const activeAttributionsOfDeal = db
    .select()
    .from(attributions)
    .where(
      and(
        eq(attributions.installationId, sql.placeholder('installationId')),
        eq(attributions.dealId, sql.placeholder('dealId')),
        eq(attributions.status, 'active'),
      ),
    )
    .prepare();
  const attributionInsert = db
    .insert(attributions)
    .values({
      id: sql.placeholder('id'),
      installationId: sql.placeholder('installationId'),
      dealId: sql.placeholder('dealId'),
      referralId: sql.placeholder('referralId'),
      referrerId: sql.placeholder('referrerId'),
      model: sql.placeholder('model'),
      sharePpm: sql.placeholder('sharePpm'),
      role: sql.placeholder('role'),
      evidence: sql.placeholder('evidence'),
      reasons: sql.placeholder('reasons'),
      status: sql.placeholder('status'),
    })
    .returning()
    .prepare();

  return {
    referrerByEmail(installationId: string, email: string): ReferrerRow | undefined {
      return db
        .select()
        .from(referrers)
        .where(and(eq(referrers.installationId, installationId), eq(referrers.email, email)))
        .get();
    },

    referrer(id: string): ReferrerRow | undefined {
      return referrerById.get({ id });
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
      return referralById.get({ id });
    },

    insert(values: typeof referrals.$inferInsert): ReferralRow {
      db.insert(referrals).values(values).run();
      return this.get(values.id)!;
    },

    /** Earlier referrals of the same referee: by normalized email or (company) domain. */
    /** Referrals whose referee works at this company domain (account-level attribution). */
    byDomain(installationId: string, domain: string): ReferralRow[] {
      return db
        .select()
        .from(referrals)
        .where(and(eq(referrals.installationId, installationId), eq(referrals.refereeDomain, domain)))
        .all();
    },

    priorFor(installationId: string, emailKey: string, domain: string | null): ReferralRow[] {
      return domain ? priorByEmailOrDomain.all({ installationId, emailKey, domain }) : priorByEmail.all({ installationId, emailKey });
    },

    list(filter: {
      installationIds: string[];
      status?: ReferralRow['status'];
      referrerId?: string;
      programId?: string;
      /** Text found in the referee's or the referrer's name, email or company (SQLite's lower(): ASCII letters in any case). */
      search?: string;
      referrerType?: ReferrerRow['type'];
      cursor?: [string, string];
      limit: number;
    }): { items: ReferralRow[]; nextCursor: string | null } {
      const like = filter.search ? `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
      const matches = (column: Column) => sql`lower(coalesce(${column}, '')) like ${like} escape '\\'`;
      const rows = db
        .select()
        .from(referrals)
        .where(
          and(
            inArray(referrals.installationId, filter.installationIds),
            filter.status ? eq(referrals.status, filter.status) : undefined,
            filter.referrerId ? eq(referrals.referrerId, filter.referrerId) : undefined,
            filter.programId ? eq(referrals.programId, filter.programId) : undefined,
            like
              ? or(
                  matches(referrals.refereeEmail),
                  sql`lower(coalesce(${referrals.refereeFirstName}, '') || ' ' || coalesce(${referrals.refereeLastName}, '')) like ${like} escape '\\'`,
                  matches(referrals.refereeCompany),
                  inArray(
                    referrals.referrerId,
                    db
                      .select({ id: referrers.id })
                      .from(referrers)
                      .where(
                        and(
                          inArray(referrers.installationId, filter.installationIds),
                          or(matches(referrers.name), matches(referrers.email), matches(referrers.company)),
                        ),
                      ),
                  ),
                )
              : undefined,
            filter.referrerType
              ? inArray(
                  referrals.referrerId,
                  db
                    .select({ id: referrers.id })
                    .from(referrers)
                    .where(and(inArray(referrers.installationId, filter.installationIds), eq(referrers.type, filter.referrerType))),
                )
              : undefined,
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

    setStatus(id: string, status: ReferralRow['status'], now: Date): void {
      statusUpdate.run({ id, status, updatedAt: now.toISOString() });
    },

    update(id: string, patch: Partial<typeof referrals.$inferInsert>): void {
      db.update(referrals).set(patch).where(eq(referrals.id, id)).run();
    },

    /** Appends to the timeline; false when this transition was already recorded (a replay). */
    addEvent(event: Omit<typeof referralEvents.$inferInsert, 'id'>): boolean {
      return eventInsert.run({ ...event, fromStatus: event.fromStatus ?? null }).changes > 0;
    },

    /**
     * Appends several steps to the timeline, in order, in one call (one statement on PostgreSQL):
     * for each, false when it was already recorded (a replay).
     */
    addEvents(events: Omit<typeof referralEvents.$inferInsert, 'id'>[]): boolean[] {
      return events.map((event) => this.addEvent(event));
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
      linkInsert.run({ installationId, referralId, objectType, objectId });
    },

    links(referralId: string): { objectType: CrmObjectType; objectId: string }[] {
      return linksOf.all({ referralId });
    },

    /** Referrals linked to any of these CRM records, by id. */
    linkedTo(installationId: string, refs: { objectType: CrmObjectType; ids: string[] }[]): ReferralRow[] {
      const records = refs.flatMap((r) => r.ids.map((id) => ({ t: r.objectType, id })));
      return linkedToRecords.all({ installationId, records: JSON.stringify(records) });
    },

    /**
     * Each link of these CRM records to a referral, with the referral: what `linkedTo` answers for
     * each record on its own, in one query for a batch of records. By referral id, then record.
     */
    linksWithReferrals(
      installationId: string,
      refs: { objectType: CrmObjectType; ids: string[] }[],
    ): { objectType: CrmObjectType; objectId: string; referral: ReferralRow }[] {
      const records = refs.flatMap((r) => r.ids.map((id) => ({ t: r.objectType, id })));
      return linksToRecords.all({ installationId, records: JSON.stringify(records) });
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
      return activeAttributionsOfDeal.all({ installationId, dealId });
    },

    insertAttribution(
      values: Omit<typeof attributions.$inferInsert, 'id' | 'createdAt' | 'reversedAt' | 'reversalReason'>,
    ): AttributionRow {
      return attributionInsert.get({ ...values, id: newId('att') })!;
    },

    reverseAttribution(id: string, reason: string, now: Date): void {
      db.update(attributions)
        .set({ status: 'reversed', reversedAt: now.toISOString(), reversalReason: reason })
        .where(eq(attributions.id, id))
        .run();
    },
  };
}

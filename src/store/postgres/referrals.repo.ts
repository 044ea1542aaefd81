import { randomBytes } from 'node:crypto';
import { and, asc, type Column, desc, eq, getTableColumns, inArray, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import { newId } from '../referrals.repo.ts';
import type { Query } from './query.ts';
import { attributions, crmLinks, referralEvents, referrals, referrers } from './schema.ts';

const OPEN_STATUSES = ['accepted', 'contacted', 'qualified', 'in_sales_process'] as const;

/**
 * SQLite's lower(), which folds ASCII letters only: the search text is lower-cased in JS and
 * compared with LIKE, so a column must be folded as SQLite folds it for the same rows to match.
 */
const asciiLower = (value: SQL) => sql`translate(${value}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;

/** The SQLite repository's cursor: (submittedAt, id) of the page's last row, decoded by its decodeCursor. */
function encodeCursor(row: { submittedAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([row.submittedAt, row.id])).toString('base64url');
}

/**
 * Referrers, referrals, their timeline, CRM links and attributions on PostgreSQL: the SQLite
 * repository's behaviour method by method. Where SQLite's order was its index's or insertion
 * order (no ORDER BY), rows come in a stated order here (submitted or created, then id).
 */
export function referralsRepo(q: Query, _cipher?: Cipher): Store['referrals'] {
  const referrer = async (id: string) => (await q().select().from(referrers).where(eq(referrers.id, id)).limit(1))[0];
  const get = async (id: string) => (await q().select().from(referrals).where(eq(referrals.id, id)).limit(1))[0];

  return {
    async referrerByEmail(installationId, email) {
      const rows = await q()
        .select()
        .from(referrers)
        .where(and(eq(referrers.installationId, installationId), eq(referrers.email, email)))
        .limit(1);
      return rows[0];
    },

    referrer,

    async listReferrers(installationId) {
      return await q()
        .select()
        .from(referrers)
        .where(eq(referrers.installationId, installationId))
        .orderBy(asc(referrers.createdAt), asc(referrers.id));
    },

    async insertReferrer(values) {
      const [row] = await q()
        .insert(referrers)
        .values({ ...values, id: newId('rfr'), accessKey: randomBytes(24).toString('base64url') })
        .returning();
      return row!;
    },

    async updateReferrer(id, patch) {
      await q().update(referrers).set(patch).where(eq(referrers.id, id));
    },

    get,

    async insert(values) {
      const [row] = await q().insert(referrals).values(values).returning();
      return row!;
    },

    async byDomain(installationId, domain) {
      return await q()
        .select()
        .from(referrals)
        .where(and(eq(referrals.installationId, installationId), eq(referrals.refereeDomain, domain)))
        .orderBy(asc(referrals.submittedAt), asc(referrals.id));
    },

    async priorFor(installationId, emailKey, domain) {
      const sameReferee = eq(referrals.refereeEmailKey, emailKey);
      return await q()
        .select()
        .from(referrals)
        .where(
          and(eq(referrals.installationId, installationId), domain ? or(sameReferee, eq(referrals.refereeDomain, domain)) : sameReferee),
        )
        .orderBy(asc(referrals.submittedAt), asc(referrals.id));
    },

    async list(filter) {
      const like = filter.search ? `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
      const folds = (value: SQL) => sql`${asciiLower(value)} like ${like} escape '\\'`;
      const matches = (column: Column) => folds(sql`coalesce(${column}, '')`);
      const referrersWhere = (condition: SQL | undefined) =>
        q()
          .select({ id: referrers.id })
          .from(referrers)
          .where(and(inArray(referrers.installationId, filter.installationIds), condition));
      const rows = await q()
        .select()
        .from(referrals)
        .where(
          and(
            inArray(referrals.installationId, filter.installationIds),
            filter.status ? eq(referrals.status, filter.status) : undefined,
            filter.programId ? eq(referrals.programId, filter.programId) : undefined,
            filter.referrerId ? eq(referrals.referrerId, filter.referrerId) : undefined,
            like
              ? or(
                  matches(referrals.refereeEmail),
                  folds(sql`coalesce(${referrals.refereeFirstName}, '') || ' ' || coalesce(${referrals.refereeLastName}, '')`),
                  matches(referrals.refereeCompany),
                  inArray(
                    referrals.referrerId,
                    referrersWhere(or(matches(referrers.name), matches(referrers.email), matches(referrers.company))),
                  ),
                )
              : undefined,
            filter.referrerType ? inArray(referrals.referrerId, referrersWhere(eq(referrers.type, filter.referrerType))) : undefined,
            filter.cursor
              ? or(
                  lt(referrals.submittedAt, filter.cursor[0]),
                  and(eq(referrals.submittedAt, filter.cursor[0]), lt(referrals.id, filter.cursor[1])),
                )
              : undefined,
          ),
        )
        .orderBy(desc(referrals.submittedAt), desc(referrals.id))
        .limit(filter.limit + 1);
      const items = rows.slice(0, filter.limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > filter.limit && last ? encodeCursor(last) : null };
    },

    async countsByStatus(installationIds) {
      return await q()
        .select({ status: referrals.status, count: sql<number>`count(*)::int` })
        .from(referrals)
        .where(inArray(referrals.installationId, installationIds))
        .groupBy(referrals.status)
        .orderBy(asc(referrals.status));
    },

    async byReferrer(referrerId) {
      return await q()
        .select()
        .from(referrals)
        .where(eq(referrals.referrerId, referrerId))
        .orderBy(asc(referrals.submittedAt), asc(referrals.id));
    },

    async setStatus(id, status, now) {
      await q().update(referrals).set({ status, updatedAt: now.toISOString() }).where(eq(referrals.id, id));
    },

    async update(id, patch) {
      await q().update(referrals).set(patch).where(eq(referrals.id, id));
    },

    async addEvent(event) {
      const inserted = await q()
        .insert(referralEvents)
        .values({ ...event, fromStatus: event.fromStatus ?? null })
        .onConflictDoNothing()
        .returning({ id: referralEvents.id });
      return inserted.length > 0;
    },

    async addEvents(events) {
      if (events.length === 0) return [];
      // VALUES rows are inserted in order, so the timeline's ids keep the steps' order.
      const inserted = await q()
        .insert(referralEvents)
        .values(events.map((event) => ({ ...event, fromStatus: event.fromStatus ?? null })))
        .onConflictDoNothing()
        .returning({ idempotencyKey: referralEvents.idempotencyKey });
      const added = new Set(inserted.map((row) => row.idempotencyKey));
      return events.map((event) => added.has(event.idempotencyKey));
    },

    async timeline(referralId) {
      return await q().select().from(referralEvents).where(eq(referralEvents.referralId, referralId)).orderBy(asc(referralEvents.id));
    },

    async unsynced(installationId, limit) {
      return await q()
        .select()
        .from(referrals)
        .where(
          and(eq(referrals.installationId, installationId), isNull(referrals.crmSyncedAt), inArray(referrals.status, [...OPEN_STATUSES])),
        )
        .orderBy(asc(referrals.submittedAt), asc(referrals.id))
        .limit(limit);
    },

    async link(installationId, referralId, objectType, objectId) {
      await q().insert(crmLinks).values({ installationId, referralId, objectType, objectId }).onConflictDoNothing();
    },

    async links(referralId) {
      return await q()
        .select({ objectType: crmLinks.objectType, objectId: crmLinks.objectId })
        .from(crmLinks)
        .where(eq(crmLinks.referralId, referralId))
        .orderBy(asc(crmLinks.createdAt), asc(crmLinks.objectType), asc(crmLinks.objectId));
    },

    // Any number of records in one statement: they travel as one jsonb array of {t, id}.
    async linkedTo(installationId, refs) {
      const records = refs.flatMap((r) => r.ids.map((id) => ({ t: r.objectType, id })));
      if (records.length === 0) return [];
      return await q()
        .select()
        .from(referrals)
        .where(
          inArray(
            referrals.id,
            q()
              .select({ id: crmLinks.referralId })
              .from(crmLinks)
              .where(
                and(
                  eq(crmLinks.installationId, installationId),
                  sql`(${crmLinks.objectType}, ${crmLinks.objectId}) IN (SELECT r.t, r.id FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS r(t text, id text))`,
                ),
              ),
          ),
        )
        .orderBy(asc(referrals.id));
    },

    async linksWithReferrals(installationId, refs) {
      const records = refs.flatMap((r) => r.ids.map((id) => ({ t: r.objectType, id })));
      if (records.length === 0) return [];
      return await q()
        .select({ objectType: crmLinks.objectType, objectId: crmLinks.objectId, referral: getTableColumns(referrals) })
        .from(crmLinks)
        .innerJoin(referrals, eq(referrals.id, crmLinks.referralId))
        .where(
          and(
            eq(crmLinks.installationId, installationId),
            sql`(${crmLinks.objectType}, ${crmLinks.objectId}) IN (SELECT r.t, r.id FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS r(t text, id text))`,
          ),
        )
        .orderBy(asc(referrals.id), asc(crmLinks.objectType), asc(crmLinks.objectId));
    },

    async openWithoutDeal(installationId, before) {
      return await q()
        .select()
        .from(referrals)
        .where(
          and(
            eq(referrals.installationId, installationId),
            inArray(referrals.status, [...OPEN_STATUSES]),
            lt(referrals.submittedAt, before),
            sql`NOT EXISTS (SELECT 1 FROM crm_links l WHERE l.referral_id = ${referrals.id} AND l.object_type = 'deal')`,
          ),
        )
        .orderBy(asc(referrals.submittedAt), asc(referrals.id));
    },

    async attributionsForReferral(referralId) {
      return await q()
        .select()
        .from(attributions)
        .where(eq(attributions.referralId, referralId))
        .orderBy(asc(attributions.createdAt), asc(attributions.id));
    },

    async activeAttributionsForDeal(installationId, dealId) {
      return await q()
        .select()
        .from(attributions)
        .where(and(eq(attributions.installationId, installationId), eq(attributions.dealId, dealId), eq(attributions.status, 'active')))
        .orderBy(asc(attributions.createdAt), asc(attributions.id));
    },

    async insertAttribution(values) {
      const [row] = await q()
        .insert(attributions)
        .values({ ...values, id: newId('att') })
        .returning();
      return row!;
    },

    async reverseAttribution(id, reason, now) {
      await q()
        .update(attributions)
        .set({ status: 'reversed', reversedAt: now.toISOString(), reversalReason: reason })
        .where(eq(attributions.id, id));
    },
  };
}

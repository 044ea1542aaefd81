import { and, desc, eq, isNull, lte, ne, sql } from 'drizzle-orm';
import { LINK_TAG_LENGTH } from '../../domain/referral-links.ts';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import type { Query } from './query.ts';
import { crmLinks, referralLinks, referralLinkVisits, referrals } from './schema.ts';

/** Referral links and their counted visits on PostgreSQL: the SQLite repository's behaviour method by method. */
export function referralLinksRepo(q: Query, _cipher?: Cipher): Store['referralLinks'] {
  const tagPrefix = (tag: string) => sql`left(${referralLinks.code}, ${sql.raw(String(LINK_TAG_LENGTH))}) = ${tag}`;
  const visitCount = async (code: string) => {
    const [row] = await q().select({ n: sql<number>`count(*)::int` }).from(referralLinkVisits).where(eq(referralLinkVisits.code, code));
    return row!.n;
  };
  return {
    async byCode(code) {
      return (await q().select().from(referralLinks).where(eq(referralLinks.code, code)).limit(1))[0];
    },

    async activeFor(referrerId, programId) {
      const rows = await q()
        .select()
        .from(referralLinks)
        .where(and(eq(referralLinks.referrerId, referrerId), eq(referralLinks.programId, programId), isNull(referralLinks.revokedAt)))
        .orderBy(desc(referralLinks.createdAt), desc(referralLinks.code))
        .limit(1);
      return rows[0];
    },

    async allFor(referrerId) {
      return await q()
        .select()
        .from(referralLinks)
        .where(eq(referralLinks.referrerId, referrerId))
        .orderBy(desc(referralLinks.createdAt), desc(referralLinks.code));
    },

    // Every code of an installation starts with its tag: any one of them tells it.
    async tagOf(installationId) {
      const [row] = await q()
        .select({ code: referralLinks.code })
        .from(referralLinks)
        .where(eq(referralLinks.installationId, installationId))
        .limit(1);
      return row?.code.slice(0, LINK_TAG_LENGTH);
    },

    async tagTaken(tag, installationId) {
      const rows = await q()
        .select({ code: referralLinks.code })
        .from(referralLinks)
        .where(and(tagPrefix(tag), ne(referralLinks.installationId, installationId)))
        .limit(1);
      return rows.length > 0;
    },

    async installationOfTag(tag) {
      const [row] = await q().select({ installationId: referralLinks.installationId }).from(referralLinks).where(tagPrefix(tag)).limit(1);
      return row?.installationId;
    },

    async insert(values) {
      const [row] = await q().insert(referralLinks).values(values).returning();
      return row!;
    },

    async revoke(code, at) {
      await q().update(referralLinks).set({ revokedAt: at }).where(eq(referralLinks.code, code));
    },

    async recordVisit(values) {
      await q().insert(referralLinkVisits).values(values);
    },

    async latestVisit(code, at) {
      const [row] = await q()
        .select({ visitedAt: referralLinkVisits.visitedAt })
        .from(referralLinkVisits)
        .where(and(eq(referralLinkVisits.code, code), lte(referralLinkVisits.visitedAt, at)))
        .orderBy(desc(referralLinkVisits.visitedAt))
        .limit(1);
      return row?.visitedAt;
    },

    visitCount,

    async stats(code) {
      const byCode = sql`${referrals.linkEvidence} ->> 'code' = ${code}`;
      const [signUps] = await q().select({ n: sql<number>`count(*)::int` }).from(referrals).where(byCode);
      const [deals] = await q()
        .select({ n: sql<number>`count(distinct ${referrals.id})::int` })
        .from(referrals)
        .innerJoin(crmLinks, and(eq(crmLinks.referralId, referrals.id), eq(crmLinks.objectType, 'deal')))
        .where(byCode);
      return { clicks: await visitCount(code), signUps: signUps!.n, deals: deals!.n };
    },
  };
}

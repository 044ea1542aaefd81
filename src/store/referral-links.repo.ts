import { and, desc, eq, isNull, lte, ne, sql } from 'drizzle-orm';
import { LINK_TAG_LENGTH } from '../domain/referral-links.ts';
import type { Db } from './db.ts';
import { crmLinks, referralLinks, referralLinkVisits, referrals } from './schema.ts';

export type ReferralLinkRow = typeof referralLinks.$inferSelect;

/** Per link: counted visits, referrals its code brought (sign-ups), and those that reached a deal. */
export interface LinkStats {
  clicks: number;
  signUps: number;
  deals: number;
}

export function referralLinksRepo(db: Db) {
  const tagPrefix = (tag: string) => sql`substr(${referralLinks.code}, 1, ${LINK_TAG_LENGTH}) = ${tag}`;
  return {
    byCode(code: string): ReferralLinkRow | undefined {
      return db.select().from(referralLinks).where(eq(referralLinks.code, code)).get();
    },

    /** The referrer's link in use (not revoked) for a program, if they have one. */
    activeFor(referrerId: string, programId: string): ReferralLinkRow | undefined {
      return db
        .select()
        .from(referralLinks)
        .where(and(eq(referralLinks.referrerId, referrerId), eq(referralLinks.programId, programId), isNull(referralLinks.revokedAt)))
        .orderBy(desc(referralLinks.createdAt))
        .get();
    },

    allFor(referrerId: string): ReferralLinkRow[] {
      return db.select().from(referralLinks).where(eq(referralLinks.referrerId, referrerId)).orderBy(desc(referralLinks.createdAt)).all();
    },

    /** The tag the installation's codes start with, once it has one. */
    tagOf(installationId: string): string | undefined {
      const row = db.select({ code: referralLinks.code }).from(referralLinks).where(eq(referralLinks.installationId, installationId)).get();
      return row?.code.slice(0, LINK_TAG_LENGTH);
    },

    /** Another installation's codes start with this tag. */
    tagTaken(tag: string, installationId: string): boolean {
      return !!db
        .select({ code: referralLinks.code })
        .from(referralLinks)
        .where(and(tagPrefix(tag), ne(referralLinks.installationId, installationId)))
        .get();
    },

    /** The installation a code's tag names, if any code of it was ever made. */
    installationOfTag(tag: string): string | undefined {
      return db.select({ installationId: referralLinks.installationId }).from(referralLinks).where(tagPrefix(tag)).get()?.installationId;
    },

    insert(values: typeof referralLinks.$inferInsert): ReferralLinkRow {
      return db.insert(referralLinks).values(values).returning().get();
    },

    revoke(code: string, at: string): void {
      db.update(referralLinks).set({ revokedAt: at }).where(eq(referralLinks.code, code)).run();
    },

    recordVisit(values: typeof referralLinkVisits.$inferInsert): void {
      db.insert(referralLinkVisits).values(values).run();
    },

    /** The latest counted visit of the code at or before `at`: when a form carrying it was reached. */
    latestVisit(code: string, at: string): string | undefined {
      return db
        .select({ visitedAt: referralLinkVisits.visitedAt })
        .from(referralLinkVisits)
        .where(and(eq(referralLinkVisits.code, code), lte(referralLinkVisits.visitedAt, at)))
        .orderBy(desc(referralLinkVisits.visitedAt))
        .get()?.visitedAt;
    },

    visitCount(code: string): number {
      return db.select({ n: sql<number>`count(*)` }).from(referralLinkVisits).where(eq(referralLinkVisits.code, code)).get()!.n;
    },

    stats(code: string): LinkStats {
      const byCode = sql`${referrals.linkEvidence} ->> 'code' = ${code}`;
      const signUps = db.select({ n: sql<number>`count(*)` }).from(referrals).where(byCode).get()!.n;
      const deals = db
        .select({ n: sql<number>`count(distinct ${referrals.id})` })
        .from(referrals)
        .innerJoin(crmLinks, and(eq(crmLinks.referralId, referrals.id), eq(crmLinks.objectType, 'deal')))
        .where(byCode)
        .get()!.n;
      return { clicks: this.visitCount(code), signUps, deals };
    },
  };
}

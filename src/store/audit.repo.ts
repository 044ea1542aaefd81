import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { auditLog, decisions } from './schema.ts';

export type AuditRow = typeof auditLog.$inferSelect;
export type DecisionRow = typeof decisions.$inferSelect;

export function auditRepo(db: Db) {
  // Prepared once: every CRM deal applied records its attribution decision.
  const decisionInsert = db
    .insert(decisions)
    .values({
      installationId: sql.placeholder('installationId'),
      subjectType: sql.placeholder('subjectType'),
      subjectId: sql.placeholder('subjectId'),
      kind: sql.placeholder('kind'),
      outcome: sql.placeholder('outcome'),
    })
    .prepare();

  return {
    record(entry: Omit<typeof auditLog.$inferInsert, 'id'>): void {
      db.insert(auditLog).values(entry).run();
    },

    forSubject(subjectType: string, subjectId: string): AuditRow[] {
      return db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.subjectType, subjectType), eq(auditLog.subjectId, subjectId)))
        .orderBy(desc(auditLog.id))
        .all();
    },

    /** Every domain decision (attribution runs, eligibility checks) with its reasons. */
    decide(entry: Omit<typeof decisions.$inferInsert, 'id' | 'createdAt'>): void {
      decisionInsert.run(entry);
    },

    /** Several decisions at once, in order (one statement on PostgreSQL): a deal's and each of its candidates'. */
    decideAll(entries: Omit<typeof decisions.$inferInsert, 'id' | 'createdAt'>[]): void {
      for (const entry of entries) decisionInsert.run(entry);
    },

    decisionsFor(installationId: string, subjectType: DecisionRow['subjectType'], subjectId: string) {
      return db
        .select()
        .from(decisions)
        .where(
          and(eq(decisions.installationId, installationId), eq(decisions.subjectType, subjectType), eq(decisions.subjectId, subjectId)),
        )
        .orderBy(desc(decisions.id))
        .all();
    },

    /** The latest decision of one kind for every subject of a type: e.g. each known account's eligibility. */
    latestDecisions(installationId: string, subjectType: DecisionRow['subjectType'], kind: DecisionRow['kind']): DecisionRow[] {
      const latest = db
        .select({ id: sql<number>`max(${decisions.id})` })
        .from(decisions)
        .where(and(eq(decisions.installationId, installationId), eq(decisions.subjectType, subjectType), eq(decisions.kind, kind)))
        .groupBy(decisions.subjectId);
      return db.select().from(decisions).where(inArray(decisions.id, latest)).orderBy(decisions.id).all();
    },
  };
}

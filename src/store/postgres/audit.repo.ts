import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Query } from './query.ts';
import { auditLog, decisions } from './schema.ts';

type DecisionRow = typeof decisions.$inferSelect;

export function auditRepo(q: Query): Store['audit'] {
  return {
    async record(entry: Omit<typeof auditLog.$inferInsert, 'id'>) {
      await q().insert(auditLog).values(entry);
    },

    forSubject: (subjectType: string, subjectId: string) =>
      q()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.subjectType, subjectType), eq(auditLog.subjectId, subjectId)))
        .orderBy(desc(auditLog.id)),

    /** Every domain decision (attribution runs, eligibility checks) with its reasons. */
    async decide(entry: Omit<typeof decisions.$inferInsert, 'id' | 'createdAt'>) {
      await q().insert(decisions).values(entry);
    },

    async decideAll(entries: Omit<typeof decisions.$inferInsert, 'id' | 'createdAt'>[]) {
      // VALUES rows are inserted in order, so the ids keep the entries' order.
      if (entries.length > 0) await q().insert(decisions).values(entries);
    },

    decisionsFor: (installationId: string, subjectType: DecisionRow['subjectType'], subjectId: string) =>
      q()
        .select()
        .from(decisions)
        .where(
          and(eq(decisions.installationId, installationId), eq(decisions.subjectType, subjectType), eq(decisions.subjectId, subjectId)),
        )
        .orderBy(desc(decisions.id)),

    /** The latest decision of one kind for every subject of a type: e.g. each known account's eligibility. */
    latestDecisions(installationId: string, subjectType: DecisionRow['subjectType'], kind: DecisionRow['kind']) {
      const latest = q()
        .select({ id: sql<number>`max(${decisions.id})` })
        .from(decisions)
        .where(and(eq(decisions.installationId, installationId), eq(decisions.subjectType, subjectType), eq(decisions.kind, kind)))
        .groupBy(decisions.subjectId);
      return q().select().from(decisions).where(inArray(decisions.id, latest)).orderBy(decisions.id);
    },
  };
}

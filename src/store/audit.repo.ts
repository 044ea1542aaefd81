import { and, desc, eq } from 'drizzle-orm';
import type { Db } from './db.ts';
import { auditLog, decisions } from './schema.ts';

export type AuditRow = typeof auditLog.$inferSelect;

export function auditRepo(db: Db) {
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
    decide(entry: Omit<typeof decisions.$inferInsert, 'id'>): void {
      db.insert(decisions).values(entry).run();
    },

    decisionsFor(installationId: string, subjectType: string, subjectId: string) {
      return db
        .select()
        .from(decisions)
        .where(and(eq(decisions.installationId, installationId), eq(decisions.subjectType, subjectType), eq(decisions.subjectId, subjectId)))
        .orderBy(desc(decisions.id))
        .all();
    },
  };
}

export type AuditRepo = ReturnType<typeof auditRepo>;

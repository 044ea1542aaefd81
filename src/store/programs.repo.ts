import { and, desc, eq, sql } from 'drizzle-orm';
import type { Program } from '../domain/program.ts';
import type { Db } from './db.ts';
import { programs } from './schema.ts';

export interface ProgramVersion {
  version: number;
  program: Program;
  createdBy: string;
  createdAt: string;
}

export function programsRepo(db: Db) {
  const toVersion = (row: typeof programs.$inferSelect): ProgramVersion => ({
    version: row.version,
    program: row.settings as Program,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
  });

  // Prepared once: every CRM deal applied reads the current program and the referrals' versions.
  const latest = db
    .select()
    .from(programs)
    .where(eq(programs.installationId, sql.placeholder('installationId')))
    .orderBy(desc(programs.version))
    .limit(1)
    .prepare();
  const byVersion = db
    .select()
    .from(programs)
    .where(and(eq(programs.installationId, sql.placeholder('installationId')), eq(programs.version, sql.placeholder('version'))))
    .prepare();

  return {
    current(installationId: string): ProgramVersion | undefined {
      const row = latest.get({ installationId });
      return row && toVersion(row);
    },

    version(installationId: string, version: number): ProgramVersion | undefined {
      const row = byVersion.get({ installationId, version });
      return row && toVersion(row);
    },

    history(installationId: string): ProgramVersion[] {
      return db.select().from(programs).where(eq(programs.installationId, installationId)).orderBy(desc(programs.version)).all().map(toVersion);
    },

    /** A change never edits a version: it adds the next one. */
    addVersion(installationId: string, program: Program, createdBy: string): ProgramVersion {
      const next = (this.current(installationId)?.version ?? 0) + 1;
      db.insert(programs).values({ installationId, version: next, settings: program, createdBy }).run();
      return this.version(installationId, next)!;
    },
  };
}

export type ProgramsRepo = ReturnType<typeof programsRepo>;

import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { defaultClaimsPolicy, type Program } from '../domain/program.ts';
import type { Db } from './db.ts';
import { newId, type ReferrerRow } from './referrals.repo.ts';
import { programs, programVersions, referrerPrograms, referrers } from './schema.ts';

export type ProgramRow = typeof programs.$inferSelect;

export interface ProgramVersion {
  programId: string;
  version: number;
  program: Program;
  createdBy: string;
  createdAt: string;
}

export function programsRepo(db: Db) {
  const toVersion = (row: typeof programVersions.$inferSelect): ProgramVersion => ({
    programId: row.programId,
    version: row.version,
    // A version saved before deal claims existed reads with the safe claim defaults.
    program: { claims: defaultClaimsPolicy(), ...(row.settings as Omit<Program, 'claims'>) },
    createdBy: row.createdBy,
    createdAt: row.createdAt,
  });

  // Prepared once: every CRM deal applied reads the current program and the referrals' versions.
  const latest = db
    .select()
    .from(programVersions)
    .where(eq(programVersions.programId, sql.placeholder('programId')))
    .orderBy(desc(programVersions.version))
    .limit(1)
    .prepare();
  const byVersion = db
    .select()
    .from(programVersions)
    .where(and(eq(programVersions.programId, sql.placeholder('programId')), eq(programVersions.version, sql.placeholder('version'))))
    .prepare();
  const defaultOf = db
    .select()
    .from(programs)
    .where(and(eq(programs.installationId, sql.placeholder('installationId')), eq(programs.isDefault, true)))
    .prepare();

  return {
    get(programId: string): ProgramRow | undefined {
      return db.select().from(programs).where(eq(programs.id, programId)).get();
    },

    /** The program `/program`, the cards and the API's submissions use when none is named. */
    defaultProgram(installationId: string): ProgramRow | undefined {
      return defaultOf.get({ installationId });
    },

    list(installationId: string): ProgramRow[] {
      return db
        .select()
        .from(programs)
        .where(eq(programs.installationId, installationId))
        .orderBy(asc(programs.createdAt), asc(programs.id))
        .all();
    },

    create(installationId: string, isDefault: boolean): ProgramRow {
      const id = newId('prg');
      db.insert(programs).values({ id, installationId, isDefault }).run();
      return this.get(id)!;
    },

    /** The referrer belongs to the program from now on (again: nothing changes); answers whether they joined now. */
    join(program: ProgramRow, referrerId: string): boolean {
      const joined = db
        .insert(referrerPrograms)
        .values({ programId: program.id, referrerId, installationId: program.installationId })
        .onConflictDoNothing()
        .run();
      return joined.changes > 0;
    },

    /** The referrer no longer belongs to the program; answers whether they did. */
    leave(program: ProgramRow, referrerId: string): boolean {
      const left = db
        .delete(referrerPrograms)
        .where(and(eq(referrerPrograms.programId, program.id), eq(referrerPrograms.referrerId, referrerId)))
        .run();
      return left.changes > 0;
    },

    /** The program's referrers with when each joined it, in the order they joined. */
    members(programId: string): { referrer: ReferrerRow; joinedAt: string }[] {
      return db
        .select({ referrer: referrers, joinedAt: referrerPrograms.createdAt })
        .from(referrerPrograms)
        .innerJoin(referrers, eq(referrers.id, referrerPrograms.referrerId))
        .where(eq(referrerPrograms.programId, programId))
        .orderBy(asc(referrerPrograms.createdAt), asc(referrers.id))
        .all();
    },

    /** The programs a referrer belongs to, in the order they joined them. */
    programsOf(referrerId: string): ProgramRow[] {
      return db
        .select({ program: programs })
        .from(referrerPrograms)
        .innerJoin(programs, eq(programs.id, referrerPrograms.programId))
        .where(eq(referrerPrograms.referrerId, referrerId))
        .orderBy(asc(referrerPrograms.createdAt), asc(programs.createdAt), asc(programs.id))
        .all()
        .map((row) => row.program);
    },

    current(programId: string): ProgramVersion | undefined {
      const row = latest.get({ programId });
      return row && toVersion(row);
    },

    /** The current version of the installation's default program. */
    currentDefault(installationId: string): ProgramVersion | undefined {
      const program = defaultOf.get({ installationId });
      return program && this.current(program.id);
    },

    version(programId: string, version: number): ProgramVersion | undefined {
      const row = byVersion.get({ programId, version });
      return row && toVersion(row);
    },

    history(programId: string): ProgramVersion[] {
      return db
        .select()
        .from(programVersions)
        .where(eq(programVersions.programId, programId))
        .orderBy(desc(programVersions.version))
        .all()
        .map(toVersion);
    },

    /** A change never edits a version: it adds the next one. */
    addVersion(program: ProgramRow, settings: Program, createdBy: string): ProgramVersion {
      const next = (this.current(program.id)?.version ?? 0) + 1;
      db.insert(programVersions)
        .values({ programId: program.id, installationId: program.installationId, version: next, settings, createdBy })
        .run();
      return this.version(program.id, next)!;
    },
  };
}

import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { defaultClaimsPolicy, type Program } from '../../domain/program.ts';
import type { Store } from '../contract.ts';
import type { ProgramRow, ProgramVersion } from '../programs.repo.ts';
import { newId } from '../referrals.repo.ts';
import type { Query } from './query.ts';
import { programs, programVersions, referrerPrograms, referrers } from './schema.ts';

const toVersion = (row: typeof programVersions.$inferSelect): ProgramVersion => ({
  programId: row.programId,
  version: row.version,
  // A version saved before deal claims existed reads with the safe claim defaults.
  program: { claims: defaultClaimsPolicy(), ...(row.settings as Omit<Program, 'claims'>) },
  createdBy: row.createdBy,
  createdAt: row.createdAt,
});

export function programsRepo(q: Query): Store['programs'] {
  const get = async (programId: string): Promise<ProgramRow | undefined> =>
    (await q().select().from(programs).where(eq(programs.id, programId)))[0];
  const defaultProgram = async (installationId: string): Promise<ProgramRow | undefined> =>
    (
      await q()
        .select()
        .from(programs)
        .where(and(eq(programs.installationId, installationId), eq(programs.isDefault, true)))
    )[0];
  const current = async (programId: string): Promise<ProgramVersion | undefined> => {
    const [row] = await q()
      .select()
      .from(programVersions)
      .where(eq(programVersions.programId, programId))
      .orderBy(desc(programVersions.version))
      .limit(1);
    return row && toVersion(row);
  };
  const version = async (programId: string, version: number): Promise<ProgramVersion | undefined> => {
    const [row] = await q()
      .select()
      .from(programVersions)
      .where(and(eq(programVersions.programId, programId), eq(programVersions.version, version)));
    return row && toVersion(row);
  };

  return {
    get,

    defaultProgram,

    list: (installationId: string) =>
      q().select().from(programs).where(eq(programs.installationId, installationId)).orderBy(asc(programs.createdAt), asc(programs.id)),

    async create(installationId: string, isDefault: boolean) {
      const [row] = await q()
        .insert(programs)
        .values({ id: newId('prg'), installationId, isDefault })
        .returning();
      return row!;
    },

    async join(program: ProgramRow, referrerId: string) {
      const joined = await q()
        .insert(referrerPrograms)
        .values({ programId: program.id, referrerId, installationId: program.installationId })
        .onConflictDoNothing()
        .returning({ programId: referrerPrograms.programId });
      return joined.length > 0;
    },

    async leave(program: ProgramRow, referrerId: string) {
      const left = await q()
        .delete(referrerPrograms)
        .where(and(eq(referrerPrograms.programId, program.id), eq(referrerPrograms.referrerId, referrerId)))
        .returning({ programId: referrerPrograms.programId });
      return left.length > 0;
    },

    async members(programId: string) {
      return await q()
        .select({ referrer: referrers, joinedAt: referrerPrograms.createdAt })
        .from(referrerPrograms)
        .innerJoin(referrers, eq(referrers.id, referrerPrograms.referrerId))
        .where(eq(referrerPrograms.programId, programId))
        .orderBy(asc(referrerPrograms.createdAt), asc(referrers.id));
    },

    async programsOf(referrerId: string) {
      const rows = await q()
        .select({ program: programs })
        .from(referrerPrograms)
        .innerJoin(programs, eq(programs.id, referrerPrograms.programId))
        .where(eq(referrerPrograms.referrerId, referrerId))
        .orderBy(asc(referrerPrograms.createdAt), asc(programs.createdAt), asc(programs.id));
      return rows.map((row) => row.program);
    },

    current,

    async currentDefault(installationId: string) {
      const program = await defaultProgram(installationId);
      return program && current(program.id);
    },

    version,

    async history(programId: string) {
      const rows = await q()
        .select()
        .from(programVersions)
        .where(eq(programVersions.programId, programId))
        .orderBy(desc(programVersions.version));
      return rows.map(toVersion);
    },

    /**
     * A change never edits a version: it adds the next one. The next number is read and written in
     * one statement; when another process took it meanwhile (the primary key says so), it takes the
     * one after.
     */
    async addVersion(program: ProgramRow, settings: Program, createdBy: string) {
      for (;;) {
        const [row] = await q()
          .insert(programVersions)
          .values({
            programId: program.id,
            installationId: program.installationId,
            version: sql`(select coalesce(max(${programVersions.version}), 0) + 1 from ${programVersions} where ${programVersions.programId} = ${program.id})`,
            settings,
            createdBy,
          })
          .onConflictDoNothing({ target: [programVersions.programId, programVersions.version] })
          .returning();
        if (row) return toVersion(row);
      }
    },
  };
}

import { randomUUID } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { ConsoleRole } from '../../domain/console-roles.ts';
import type { ConsoleUserRow } from '../console-users.repo.ts';
import type { Store } from '../contract.ts';
import type { Query } from './query.ts';
import { consoleUsers, sessions } from './schema.ts';

/** The console's users per installation, one row per (installation, email). */
export function consoleUsersRepo(q: Query): Store['consoleUsers'] {
  return {
    async get(id: string) {
      return (await q().select().from(consoleUsers).where(eq(consoleUsers.id, id)))[0];
    },

    /** The installation's users, revoked ones included (they say who did what before). Ties on created_at fall back on the id. */
    list: (installationId: string) =>
      q()
        .select()
        .from(consoleUsers)
        .where(eq(consoleUsers.installationId, installationId))
        .orderBy(asc(consoleUsers.createdAt), asc(consoleUsers.id)),

    /**
     * Adds the user, or gives an existing one (revoked or not) this role, name and CRM id: one row
     * per email, so inviting twice or signing in again changes the row, not the count. The unique
     * (installation, email) decides who inserts when two come at once; the other updates the row,
     * locked while `before` is read so `before` is what the update replaced.
     */
    async upsert(values: {
      installationId: string;
      email: string;
      name?: string | null;
      role: ConsoleRole;
      crmUserId?: string | null;
      invitedBy: string;
      now: Date;
    }): Promise<{ row: ConsoleUserRow; before: ConsoleUserRow | undefined }> {
      const email = values.email.toLowerCase();
      const [inserted] = await q()
        .insert(consoleUsers)
        .values({
          id: `usr_${randomUUID()}`,
          installationId: values.installationId,
          email,
          name: values.name ?? null,
          role: values.role,
          crmUserId: values.crmUserId ?? null,
          invitedBy: values.invitedBy,
          createdAt: values.now.toISOString(),
        })
        .onConflictDoNothing({ target: [consoleUsers.installationId, consoleUsers.email] })
        .returning();
      if (inserted) return { row: inserted, before: undefined };
      return q().transaction(async (tx) => {
        const [before] = await tx
          .select()
          .from(consoleUsers)
          .where(and(eq(consoleUsers.installationId, values.installationId), eq(consoleUsers.email, email)))
          .for('update');
        const [row] = await tx
          .update(consoleUsers)
          .set({
            role: values.role,
            revokedAt: null,
            ...(values.name ? { name: values.name } : {}),
            ...(values.crmUserId ? { crmUserId: values.crmUserId } : {}),
          })
          .where(eq(consoleUsers.id, before!.id))
          .returning();
        return { row: row!, before };
      });
    },

    /** Revokes the user and every session they have open, together. */
    async revoke(id: string, now: Date) {
      const at = now.toISOString();
      await q().transaction(async (tx) => {
        await tx
          .update(consoleUsers)
          .set({ revokedAt: at })
          .where(and(eq(consoleUsers.id, id), isNull(consoleUsers.revokedAt)));
        await tx
          .update(sessions)
          .set({ revokedAt: at })
          .where(and(eq(sessions.subjectKind, 'user'), eq(sessions.subjectId, id), isNull(sessions.revokedAt)));
      });
    },
  };
}

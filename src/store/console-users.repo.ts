import { randomUUID } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Db } from './db.ts';
import type { ConsoleRole } from '../domain/console-roles.ts';
import { consoleUsers, sessions } from './schema.ts';

export type ConsoleUserRow = typeof consoleUsers.$inferSelect;

/** The console's users per installation, one row per (installation, email). */
export function consoleUsersRepo(db: Db) {
  const byEmail = (installationId: string, email: string) =>
    db
      .select()
      .from(consoleUsers)
      .where(and(eq(consoleUsers.installationId, installationId), eq(consoleUsers.email, email.toLowerCase())))
      .get();

  return {
    get(id: string): ConsoleUserRow | undefined {
      return db.select().from(consoleUsers).where(eq(consoleUsers.id, id)).get();
    },

    /** The installation's users, revoked ones included (they say who did what before). */
    list(installationId: string): ConsoleUserRow[] {
      return db
        .select()
        .from(consoleUsers)
        .where(eq(consoleUsers.installationId, installationId))
        .orderBy(asc(consoleUsers.createdAt))
        .all();
    },

    /**
     * Adds the user, or gives an existing one (revoked or not) this role, name and CRM id: one row
     * per email, so inviting twice or signing in again changes the row, not the count.
     */
    upsert(values: {
      installationId: string;
      email: string;
      name?: string | null;
      role: ConsoleRole;
      crmUserId?: string | null;
      invitedBy: string;
      now: Date;
    }): { row: ConsoleUserRow; before: ConsoleUserRow | undefined } {
      const email = values.email.toLowerCase();
      const before = byEmail(values.installationId, email);
      if (!before) {
        const row = db
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
          .returning()
          .get();
        return { row, before };
      }
      const row = db
        .update(consoleUsers)
        .set({
          role: values.role,
          revokedAt: null,
          ...(values.name ? { name: values.name } : {}),
          ...(values.crmUserId ? { crmUserId: values.crmUserId } : {}),
        })
        .where(eq(consoleUsers.id, before.id))
        .returning()
        .get();
      return { row, before };
    },

    /** Revokes the user and every session they have open. */
    revoke(id: string, now: Date): void {
      const at = now.toISOString();
      db.update(consoleUsers)
        .set({ revokedAt: at })
        .where(and(eq(consoleUsers.id, id), isNull(consoleUsers.revokedAt)))
        .run();
      db.update(sessions)
        .set({ revokedAt: at })
        .where(and(eq(sessions.subjectKind, 'user'), eq(sessions.subjectId, id), isNull(sessions.revokedAt)))
        .run();
    },
  };
}

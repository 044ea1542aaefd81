import { createHash, randomBytes } from 'node:crypto';
import { and, count, eq, gte, isNull } from 'drizzle-orm';
import type { Db } from './db.ts';
import { magicLinks, sessions } from './schema.ts';

export type SessionRow = typeof sessions.$inferSelect;
export type MagicLinkRow = typeof magicLinks.$inferSelect;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

/** Sessions and the sign-in links that open them. Only hashes of the tokens are stored. */
export function sessionsRepo(db: Db) {
  /** Marks a link of this installation for this kind of subject used, or says why not. */
  const consumeLink = (
    token: string,
    installationId: string,
    now: Date,
    subject: 'referrerId' | 'consoleUserId',
  ): { ok: true; subjectId: string } | { ok: false; reason: 'unknown' | 'used' | 'expired' } => {
    const row = db
      .select()
      .from(magicLinks)
      .where(eq(magicLinks.tokenHash, hashToken(token)))
      .get();
    const subjectId = row?.[subject];
    if (!row || row.installationId !== installationId || !subjectId) return { ok: false, reason: 'unknown' };
    if (row.usedAt) return { ok: false, reason: 'used' };
    if (row.expiresAt <= now.toISOString()) return { ok: false, reason: 'expired' };
    db.update(magicLinks).set({ usedAt: now.toISOString() }).where(eq(magicLinks.tokenHash, row.tokenHash)).run();
    return { ok: true, subjectId };
  };

  return {
    /** Opens a session; returns the raw token (for the cookie) and the stored row. */
    open(values: Pick<SessionRow, 'subjectKind' | 'subjectId' | 'installationId' | 'role' | 'expiresAt'>): {
      token: string;
      row: SessionRow;
    } {
      const token = newToken();
      const row = db
        .insert(sessions)
        .values({ ...values, tokenHash: hashToken(token), csrfToken: newToken() })
        .returning()
        .get();
      return { token, row };
    },

    /** The live session a cookie token names: not revoked, not expired. */
    live(token: string, now: Date): SessionRow | undefined {
      const row = db
        .select()
        .from(sessions)
        .where(eq(sessions.tokenHash, hashToken(token)))
        .get();
      return row && !row.revokedAt && row.expiresAt > now.toISOString() ? row : undefined;
    },

    revoke(token: string, now: Date): void {
      db.update(sessions)
        .set({ revokedAt: now.toISOString() })
        .where(and(eq(sessions.tokenHash, hashToken(token)), isNull(sessions.revokedAt)))
        .run();
    },

    /** Records a link request (known email or not); returns the raw token to send. */
    addLink(
      values: Omit<MagicLinkRow, 'tokenHash' | 'usedAt' | 'emailHash' | 'origin' | 'consoleUserId'> & {
        email: string;
        origin?: MagicLinkRow['origin'];
        consoleUserId?: string;
      },
    ): string {
      const token = newToken();
      const { email, ...rest } = values;
      db.insert(magicLinks)
        .values({ ...rest, emailHash: hashToken(email.toLowerCase()), tokenHash: hashToken(token) })
        .run();
      return token;
    },

    /**
     * Link requests since `since` for this email and from this address (the rate limits' counts);
     * links minted for the referrer's emails are not requests and do not count.
     */
    recentLinkRequests(email: string, ip: string, since: Date): { email: number; ip: number } {
      const at = since.toISOString();
      const byEmail = db
        .select({ n: count() })
        .from(magicLinks)
        .where(
          and(eq(magicLinks.emailHash, hashToken(email.toLowerCase())), eq(magicLinks.origin, 'request'), gte(magicLinks.createdAt, at)),
        )
        .get();
      const byIp = db
        .select({ n: count() })
        .from(magicLinks)
        .where(and(eq(magicLinks.ip, ip), eq(magicLinks.origin, 'request'), gte(magicLinks.createdAt, at)))
        .get();
      return { email: byEmail?.n ?? 0, ip: byIp?.n ?? 0 };
    },

    /**
     * Marks the link used if it is one of this installation's, unused, unexpired and for a known
     * referrer; says why not otherwise. Run it in an immediate transaction: a link works once.
     */
    useLink(
      token: string,
      installationId: string,
      now: Date,
    ): { ok: true; referrerId: string } | { ok: false; reason: 'unknown' | 'used' | 'expired' } {
      const used = consumeLink(token, installationId, now, 'referrerId');
      return used.ok ? { ok: true, referrerId: used.subjectId } : used;
    },

    /** As useLink, for a console user's invite link. */
    useConsoleLink(
      token: string,
      installationId: string,
      now: Date,
    ): { ok: true; consoleUserId: string } | { ok: false; reason: 'unknown' | 'used' | 'expired' } {
      const used = consumeLink(token, installationId, now, 'consoleUserId');
      return used.ok ? { ok: true, consoleUserId: used.subjectId } : used;
    },
  };
}

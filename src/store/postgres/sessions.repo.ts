import { randomBytes } from 'node:crypto';
import { and, count, eq, gt, gte, isNotNull, isNull } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import { hashToken, type MagicLinkRow, type SessionRow } from '../sessions.repo.ts';
import type { Query } from './query.ts';
import { magicLinks, sessions } from './schema.ts';

const newToken = () => randomBytes(32).toString('base64url');

type Consumed = { ok: true; subjectId: string } | { ok: false; reason: 'unknown' | 'used' | 'expired' };

/** Sessions and the sign-in links that open them. Only hashes of the tokens are stored. */
export function sessionsRepo(q: Query): Store['sessions'] {
  /**
   * Marks a link of this installation for this kind of subject used, or says why not. The checks
   * and the mark are one statement, so a link opened twice at once works once; when it does not
   * work, the row says why, in SQLite's order (unknown, used, expired).
   */
  const consumeLink = async (
    token: string,
    installationId: string,
    now: Date,
    subject: 'referrerId' | 'consoleUserId',
  ): Promise<Consumed> => {
    const tokenHash = hashToken(token);
    const at = now.toISOString();
    const [used] = await q()
      .update(magicLinks)
      .set({ usedAt: at })
      .where(
        and(
          eq(magicLinks.tokenHash, tokenHash),
          eq(magicLinks.installationId, installationId),
          isNotNull(magicLinks[subject]),
          isNull(magicLinks.usedAt),
          gt(magicLinks.expiresAt, at),
        ),
      )
      .returning();
    const subjectId = used?.[subject];
    if (subjectId) return { ok: true, subjectId };
    const [row] = await q().select().from(magicLinks).where(eq(magicLinks.tokenHash, tokenHash));
    if (!row || row.installationId !== installationId || !row[subject]) return { ok: false, reason: 'unknown' };
    if (row.expiresAt <= at && !row.usedAt) return { ok: false, reason: 'expired' };
    return { ok: false, reason: 'used' };
  };

  return {
    /** Opens a session; returns the raw token (for the cookie) and the stored row. */
    async open(values: Pick<SessionRow, 'subjectKind' | 'subjectId' | 'installationId' | 'role' | 'expiresAt'>) {
      const token = newToken();
      const [row] = await q()
        .insert(sessions)
        .values({ ...values, tokenHash: hashToken(token), csrfToken: newToken() })
        .returning();
      return { token, row: row! };
    },

    /** The live session a cookie token names: not revoked, not expired. */
    async live(token: string, now: Date) {
      const [row] = await q()
        .select()
        .from(sessions)
        .where(eq(sessions.tokenHash, hashToken(token)));
      return row && !row.revokedAt && row.expiresAt > now.toISOString() ? row : undefined;
    },

    async revoke(token: string, now: Date) {
      await q()
        .update(sessions)
        .set({ revokedAt: now.toISOString() })
        .where(and(eq(sessions.tokenHash, hashToken(token)), isNull(sessions.revokedAt)));
    },

    /** Records a link request (known email or not); returns the raw token to send. */
    async addLink(
      values: Omit<MagicLinkRow, 'tokenHash' | 'usedAt' | 'emailHash' | 'origin' | 'consoleUserId'> & {
        email: string;
        origin?: MagicLinkRow['origin'];
        consoleUserId?: string;
      },
    ) {
      const token = newToken();
      const { email, ...rest } = values;
      await q()
        .insert(magicLinks)
        .values({ ...rest, emailHash: hashToken(email.toLowerCase()), tokenHash: hashToken(token) });
      return token;
    },

    /**
     * Link requests since `since` for this email and from this address (the rate limits' counts);
     * links minted for the referrer's emails are not requests and do not count.
     */
    async recentLinkRequests(email: string, ip: string, since: Date) {
      const at = since.toISOString();
      const [byEmail] = await q()
        .select({ n: count() })
        .from(magicLinks)
        .where(
          and(eq(magicLinks.emailHash, hashToken(email.toLowerCase())), eq(magicLinks.origin, 'request'), gte(magicLinks.createdAt, at)),
        );
      const [byIp] = await q()
        .select({ n: count() })
        .from(magicLinks)
        .where(and(eq(magicLinks.ip, ip), eq(magicLinks.origin, 'request'), gte(magicLinks.createdAt, at)));
      return { email: byEmail?.n ?? 0, ip: byIp?.n ?? 0 };
    },

    /** Marks the link used if it is one of this installation's, unused, unexpired and for a known referrer; says why not otherwise. */
    async useLink(token: string, installationId: string, now: Date) {
      const used = await consumeLink(token, installationId, now, 'referrerId');
      return used.ok ? { ok: true as const, referrerId: used.subjectId } : used;
    },

    /** As useLink, for a console user's invite link. */
    async useConsoleLink(token: string, installationId: string, now: Date) {
      const used = await consumeLink(token, installationId, now, 'consoleUserId');
      return used.ok ? { ok: true as const, consoleUserId: used.subjectId } : used;
    },
  };
}

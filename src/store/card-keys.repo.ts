import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Cipher } from './crypto.ts';
import type { Db } from './db.ts';
import { cardKeys } from './schema.ts';
import { hashToken } from './sessions.repo.ts';

export type CardKeyRow = typeof cardKeys.$inferSelect;

/** What tells a card key from the admin token at a glance (and in a secret scanner). */
export const CARD_KEY_PREFIX = 'rlk_';

/** Installations' card keys; only hashes are stored, the key itself is returned once by `issue`. */
export function cardKeysRepo(db: Db, cipher: Cipher) {
  return {
    /**
     * Issues a new key for the installation. Keys still active get `expiresAt = overlapUntil`
     * (rotation: the old key keeps working until then), unless they already expire sooner.
     */
    issue(values: { installationId: string; createdBy: string; now: Date; overlapUntil: Date; revealOnce?: boolean }): {
      key: string;
      row: CardKeyRow;
    } {
      const key = `${CARD_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const overlapUntil = values.overlapUntil.toISOString();
      for (const active of this.active(values.installationId, values.now)) {
        // A replaced key not yet shown is never shown: the new one is what the admin pastes.
        const expiresAt = !active.expiresAt || active.expiresAt > overlapUntil ? overlapUntil : active.expiresAt;
        db.update(cardKeys).set({ expiresAt, revealOnceEnc: null }).where(eq(cardKeys.id, active.id)).run();
      }
      const row = db
        .insert(cardKeys)
        .values({
          id: `ckey_${randomUUID()}`,
          installationId: values.installationId,
          keyHash: hashToken(key),
          hint: key.slice(0, CARD_KEY_PREFIX.length + 6),
          createdBy: values.createdBy,
          createdAt: values.now.toISOString(),
          revealOnceEnc: values.revealOnce ? cipher.encrypt(key) : null,
        })
        .returning()
        .get();
      return { key, row };
    },

    /** The installation's keys, revoked and expired ones included, oldest first. */
    list(installationId: string): CardKeyRow[] {
      return db.select().from(cardKeys).where(eq(cardKeys.installationId, installationId)).orderBy(asc(cardKeys.createdAt)).all();
    },

    /** Keys neither revoked nor expired. */
    active(installationId: string, now: Date): CardKeyRow[] {
      return this.list(installationId).filter((row) => !row.revokedAt && (!row.expiresAt || row.expiresAt > now.toISOString()));
    },

    get(id: string): CardKeyRow | undefined {
      return db.select().from(cardKeys).where(eq(cardKeys.id, id)).get();
    },

    /** The active key this secret is, if any. */
    authenticate(key: string, now: Date): CardKeyRow | undefined {
      const row = db
        .select()
        .from(cardKeys)
        .where(and(eq(cardKeys.keyHash, hashToken(key)), isNull(cardKeys.revokedAt)))
        .get();
      if (!row || (row.expiresAt && row.expiresAt <= now.toISOString())) return undefined;
      return row;
    },

    /** The key issued at install, the first time it is asked for; never again. */
    takeRevealOnce(installationId: string): { key: string; row: CardKeyRow } | undefined {
      const row = this.list(installationId).find((k) => k.revealOnceEnc && !k.revokedAt);
      if (!row?.revealOnceEnc) return undefined;
      db.update(cardKeys).set({ revealOnceEnc: null }).where(eq(cardKeys.id, row.id)).run();
      return { key: cipher.decrypt(row.revealOnceEnc), row: { ...row, revealOnceEnc: null } };
    },

    revoke(id: string, now: Date): CardKeyRow {
      return db.update(cardKeys).set({ revokedAt: now.toISOString(), revealOnceEnc: null }).where(eq(cardKeys.id, id)).returning().get()!;
    },
  };
}

import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, isNotNull, isNull } from 'drizzle-orm';
import { CARD_KEY_PREFIX, type CardKeyRow } from '../card-keys.repo.ts';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import { hashToken } from '../sessions.repo.ts';
import type { Query } from './query.ts';
import { cardKeys, installations } from './schema.ts';

const isActive = (row: CardKeyRow, now: Date) => !row.revokedAt && (!row.expiresAt || row.expiresAt > now.toISOString());

/** Installations' card keys; only hashes are stored, the key itself is returned once by `issue`. */
export function cardKeysRepo(q: Query, cipher: Cipher): Store['cardKeys'] {
  // Oldest first; keys made in the same millisecond in id order.
  const list = (installationId: string) =>
    q().select().from(cardKeys).where(eq(cardKeys.installationId, installationId)).orderBy(asc(cardKeys.createdAt), asc(cardKeys.id));

  return {
    /**
     * Issues a new key for the installation. Keys still active get `expiresAt = overlapUntil`
     * (rotation: the old key keeps working until then), unless they already expire sooner. One
     * transaction, holding the installation's row, so two rotations at once each see the other's key.
     */
    issue(values: { installationId: string; createdBy: string; now: Date; overlapUntil: Date; revealOnce?: boolean }) {
      const key = `${CARD_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      const overlapUntil = values.overlapUntil.toISOString();
      return q().transaction(async (tx) => {
        await tx.select({ id: installations.id }).from(installations).where(eq(installations.id, values.installationId)).for('update');
        const keys = await tx.select().from(cardKeys).where(eq(cardKeys.installationId, values.installationId));
        for (const active of keys.filter((row) => isActive(row, values.now))) {
          // A replaced key not yet shown is never shown: the new one is what the admin pastes.
          const expiresAt = !active.expiresAt || active.expiresAt > overlapUntil ? overlapUntil : active.expiresAt;
          await tx.update(cardKeys).set({ expiresAt, revealOnceEnc: null }).where(eq(cardKeys.id, active.id));
        }
        const [row] = await tx
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
          .returning();
        return { key, row: row! };
      });
    },

    /** The installation's keys, revoked and expired ones included, oldest first. */
    list,

    /** Keys neither revoked nor expired. */
    async active(installationId: string, now: Date) {
      return (await list(installationId)).filter((row) => isActive(row, now));
    },

    async get(id: string) {
      return (await q().select().from(cardKeys).where(eq(cardKeys.id, id)))[0];
    },

    /** The active key this secret is, if any. */
    async authenticate(key: string, now: Date) {
      const [row] = await q()
        .select()
        .from(cardKeys)
        .where(and(eq(cardKeys.keyHash, hashToken(key)), isNull(cardKeys.revokedAt)));
      if (!row || (row.expiresAt && row.expiresAt <= now.toISOString())) return undefined;
      return row;
    },

    /**
     * The key issued at install, the first time it is asked for; never again. The oldest
     * unrevoked key still holding its secret is locked, read and cleared in one statement: of two
     * requests at once, one gets it (the other, waiting on the lock, finds it cleared).
     */
    async takeRevealOnce(installationId: string) {
      const picked = q()
        .$with('picked')
        .as(
          q()
            .select({ id: cardKeys.id, secret: cardKeys.revealOnceEnc })
            .from(cardKeys)
            .where(and(eq(cardKeys.installationId, installationId), isNotNull(cardKeys.revealOnceEnc), isNull(cardKeys.revokedAt)))
            .orderBy(asc(cardKeys.createdAt), asc(cardKeys.id))
            .limit(1)
            .for('update'),
        );
      const [taken] = await q()
        .with(picked)
        .update(cardKeys)
        .set({ revealOnceEnc: null })
        .from(picked)
        .where(eq(cardKeys.id, picked.id))
        .returning();
      if (!taken) return undefined;
      const { picked: was, ...row } = taken;
      return was.secret ? { key: cipher.decrypt(was.secret), row } : undefined;
    },

    async revoke(id: string, now: Date) {
      const [row] = await q()
        .update(cardKeys)
        .set({ revokedAt: now.toISOString(), revealOnceEnc: null })
        .where(eq(cardKeys.id, id))
        .returning();
      return row!;
    },
  };
}

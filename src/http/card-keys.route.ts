import { Router } from 'express';
import type { UseCaseContext } from '../ports/context.ts';
import type { CardKeyRow } from '../store/card-keys.repo.ts';
import { actorOf, type Principal, principalOf } from './auth.ts';
import { ApiError } from './errors.ts';
import { resolveInstallation } from './installation-scope.ts';

/**
 * How long a rotated-out key keeps working: long enough to paste the new key into the org's
 * External Credential without the cards failing meanwhile. Revoke the old key to end it at once.
 */
export const CARD_KEY_OVERLAP_MS = 24 * 3_600_000;

/** Keys act for the installation's cards, so only its admins (or the operator) manage them. */
function requireKeyAdmin(principal: Principal): void {
  if (principal.kind === 'admin' || (principal.kind === 'user' && principal.role === 'admin')) return;
  throw new ApiError('forbidden', "Card keys are managed with the admin token or by the installation's admins.");
}

/** An installation's card keys (Salesforce package): issue or rotate (the key is shown once), list, revoke. */
export function cardKeysRouter(ctx: UseCaseContext): Router {
  const router = Router();
  const { store } = ctx;

  router.get('/installations/:id/card-keys', async (req, res) => {
    const principal = principalOf(res);
    requireKeyAdmin(principal);
    const installation = await resolveInstallation(store, req.params.id, principal);
    res.json((await store.cardKeys.list(installation.id)).map((row) => cardKeyView(row, ctx.now())));
  });

  router.post('/installations/:id/card-keys', async (req, res) => {
    const principal = principalOf(res);
    requireKeyAdmin(principal);
    const installation = await resolveInstallation(store, req.params.id, principal);
    const now = ctx.now();
    const { key, row } = await store.transaction(async () => {
      const issued = await store.cardKeys.issue({
        installationId: installation.id,
        createdBy: actorOf(principal),
        now,
        overlapUntil: new Date(now.getTime() + CARD_KEY_OVERLAP_MS),
      });
      await store.audit.record({
        installationId: installation.id,
        actor: actorOf(principal),
        action: 'card_key.issued',
        subjectType: 'card_key',
        subjectId: issued.row.id,
        after: { hint: issued.row.hint },
        at: now.toISOString(),
      });
      return issued;
    });
    // The only time the key is shown: only its hash is kept.
    res.status(201).json({ ...cardKeyView(row, now), key });
  });

  router.delete('/installations/:id/card-keys/:keyId', async (req, res) => {
    const principal = principalOf(res);
    requireKeyAdmin(principal);
    const installation = await resolveInstallation(store, req.params.id, principal);
    const existing = await store.cardKeys.get(req.params.keyId);
    if (!existing || existing.installationId !== installation.id) throw new ApiError('not_found', `No card key ${req.params.keyId}.`);
    if (existing.revokedAt) return void res.json(cardKeyView(existing, ctx.now()));
    const now = ctx.now();
    const revoked = await store.transaction(async () => {
      await store.audit.record({
        installationId: installation.id,
        actor: actorOf(principal),
        action: 'card_key.revoked',
        subjectType: 'card_key',
        subjectId: existing.id,
        after: { hint: existing.hint },
        at: now.toISOString(),
      });
      return await store.cardKeys.revoke(existing.id, now);
    });
    res.json(cardKeyView(revoked, now));
  });

  return router;
}

function cardKeyView(row: CardKeyRow, now: Date) {
  const state = row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt <= now.toISOString() ? 'expired' : 'active';
  return {
    id: row.id,
    installationId: row.installationId,
    hint: row.hint,
    state,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
  };
}

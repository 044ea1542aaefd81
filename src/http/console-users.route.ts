import { Router } from 'express';
import { z } from 'zod';
import type { UseCaseContext } from '../ports/context.ts';
import type { ConsoleUserRow } from '../store/console-users.repo.ts';
import { CONSOLE_ROLES } from '../domain/console-roles.ts';
import { inviteConsoleUser, revokeConsoleUser } from '../use-cases/console-users.ts';
import { actorOf, principalOf } from './auth.ts';
import type { ConsoleSettings } from './console.route.ts';
import { ApiError, parseInput } from './errors.ts';
import { resolveInstallation } from './installation-scope.ts';

const inviteSchema = z
  .object({
    email: z.string().trim().toLowerCase().email('expected an email address').max(254),
    name: z.string().trim().min(1).max(200).optional(),
    role: z.enum(CONSOLE_ROLES, { message: `expected one of ${CONSOLE_ROLES.join(', ')}` }),
  })
  .strict();

const userView = (row: ConsoleUserRow) => ({
  id: row.id,
  installationId: row.installationId,
  email: row.email,
  name: row.name,
  role: row.role,
  crmUserId: row.crmUserId,
  invitedBy: row.invitedBy,
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
});

/** The console's users of an installation: invited by its admins (or the operator), listed, revoked. */
export function consoleUsersRouter(ctx: UseCaseContext, publicBaseUrl: string, settings: ConsoleSettings): Router {
  const router = Router();
  const { store } = ctx;

  router.get('/installations/:id/users', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    res.json({ items: (await store.consoleUsers.list(installation.id)).map(userView) });
  });

  // Inviting an email again (revoked or not) gives it the new role and a fresh link: the same row.
  router.post('/installations/:id/users', async (req, res) => {
    const principal = principalOf(res);
    const installation = await resolveInstallation(store, req.params.id, principal);
    const invite = parseInput(inviteSchema, req.body);
    const user = await inviteConsoleUser(ctx, {
      installation,
      invite,
      invitedBy: actorOf(principal),
      publicBaseUrl,
      linkTtlMs: settings.inviteTtlMs,
      ip: req.ip ?? 'unknown',
    });
    res.status(201).json(userView(user));
  });

  router.delete('/installations/:id/users/:userId', async (req, res) => {
    const principal = principalOf(res);
    const installation = await resolveInstallation(store, req.params.id, principal);
    if (!(await revokeConsoleUser(ctx, installation, req.params.userId, actorOf(principal)))) {
      throw new ApiError('not_found', `No user ${req.params.userId} in installation ${installation.id}.`);
    }
    res.status(204).end();
  });

  return router;
}

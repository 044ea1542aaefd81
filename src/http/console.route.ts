import express, { Router } from 'express';
import { z } from 'zod';
import type { UseCaseContext } from '../ports/context.ts';
import { requestConsoleSignInLink } from '../use-cases/console-users.ts';
import { ApiError, parseInput } from './errors.ts';
import { page } from './pages.ts';
import { webDir } from './portal.route.ts';
import { openUserSession } from './sessions.ts';

export interface ConsoleSettings {
  sessionTtlMs: number;
  /** How long an invite's sign-in link works (once). */
  inviteTtlMs: number;
  /** How long a sign-in link asked for by email works (once): the portal's MAGIC_LINK_TTL_MINUTES. */
  magicLinkTtlMs: number;
}

const linkSignIn = z.object({ installationId: z.string().min(1).max(100), token: z.string().min(20).max(100) });
const linkRequest = z.object({
  installationId: z.string().min(1).max(100),
  email: z.string().trim().toLowerCase().email('expected an email address').max(254),
});

/** Same answer whether the email is a user of this console or not: no one learns who is. */
const LINK_SENT = { message: 'If this email belongs to a user of this console, a sign-in link is on its way.' };

const LINK_REFUSED = {
  used: 'This sign-in link was already used: each link works once. Ask an admin to invite you again.',
  expired: 'This sign-in link has expired. Ask an admin to invite you again.',
  unknown: 'This sign-in link is not valid here.',
} as const;

/**
 * The console's sign-in by invite link, the way to the CRM's sign-in, and its pages (the built
 * front end, under /console/<installationId>).
 */
export function consoleRouter(ctx: UseCaseContext, publicBaseUrl: string, settings: ConsoleSettings): Router {
  const { store } = ctx;
  const router = Router();

  router.post('/console/sign-in/link', express.json({ limit: 2_000 }), async (req, res) => {
    const { installationId, token } = parseInput(linkSignIn, req.body);
    const now = ctx.now();
    const user = await store.transaction(async () => {
      const used = await store.sessions.useConsoleLink(token, installationId, now);
      if (!used.ok) throw new ApiError('unauthorized', LINK_REFUSED[used.reason]);
      const row = await store.consoleUsers.get(used.consoleUserId);
      if (!row || row.revokedAt || row.installationId !== installationId) throw new ApiError('unauthorized', LINK_REFUSED.unknown);
      return row;
    });
    await openUserSession(store, res, user, { sessionTtlMs: settings.sessionTtlMs, publicBaseUrl }, now);
    res.json({ user: { id: user.id, email: user.email, name: user.name }, role: user.role, installationId: user.installationId });
  });

  router.post('/console/sign-in/email', express.json({ limit: 2_000 }), async (req, res) => {
    const { installationId, email } = parseInput(linkRequest, req.body);
    const installation = await store.installations.get(installationId);
    if (!installation) throw new ApiError('not_found', `No console ${installationId}.`);
    const outcome = await requestConsoleSignInLink(ctx, {
      installation,
      email,
      ip: req.ip ?? 'unknown',
      publicBaseUrl,
      linkTtlMs: settings.magicLinkTtlMs,
    });
    if (outcome === 'rate_limited')
      throw new ApiError('rate_limited', 'Too many sign-in links were asked for: wait an hour and try again.');
    res.status(202).json(LINK_SENT);
  });

  // The page's "Sign in with your CRM account": the installation's own CRM, whose consent names the user.
  router.get('/console/:installationId/sign-in', async (req, res) => {
    const installation = await store.installations.get(req.params.installationId);
    if (!installation) {
      res.status(404).type('html').send(page('No console here', '<p>There is no Referloop installation at this address.</p>'));
      return;
    }
    res.redirect(302, `/console/sign-in/${installation.crm}`);
  });

  // The pages are the built front end's (as the portal's), talking to the JSON API.
  const web = webDir();
  if (web) {
    router.get(['/console/:installationId', '/console/:installationId/*rest'], (_req, res) => {
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(`${web}/index.html`);
    });
  }

  return router;
}

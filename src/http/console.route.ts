import express, { Router } from 'express';
import { z } from 'zod';
import { escapeHtml } from '../notify/templates.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { ApiError, parseInput } from './errors.ts';
import { page } from './pages.ts';
import { openUserSession, sessionOf } from './sessions.ts';

export interface ConsoleSettings {
  sessionTtlMs: number;
  /** How long an invite's sign-in link works (once). */
  inviteTtlMs: number;
}

const linkSignIn = z.object({ installationId: z.string().min(1).max(100), token: z.string().min(20).max(100) });

const LINK_REFUSED = {
  used: 'This sign-in link was already used: each link works once. Ask an admin to invite you again.',
  expired: 'This sign-in link has expired. Ask an admin to invite you again.',
  unknown: 'This sign-in link is not valid here.',
} as const;

// The page's only script: it posts an invite link's token (kept in the URL's fragment, which never
// reaches servers or logs) and signs out. Served from here because the page's CSP allows 'self' scripts only.
const CONSOLE_SCRIPT = `const main = document.getElementById('console');
const status = document.getElementById('status');
const token = location.hash.slice(1);
if (token) {
  history.replaceState(null, '', location.pathname);
  fetch('/console/sign-in/link', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ installationId: main.dataset.installationId, token }),
  }).then(async (res) => {
    if (res.ok) return location.reload();
    status.textContent = (await res.json()).error.message;
  });
}
document.getElementById('sign-out')?.addEventListener('click', async () => {
  const session = await (await fetch('/api/v1/session')).json();
  await fetch('/api/v1/session', { method: 'DELETE', headers: { 'x-csrf-token': session.csrfToken } });
  location.reload();
});
`;

/**
 * The console's sign-in by invite link, and its page: who is signed in, or how to sign in (with
 * the CRM for its admins, the emailed link for those invited).
 */
export function consoleRouter(ctx: UseCaseContext, publicBaseUrl: string, settings: ConsoleSettings): Router {
  const { store } = ctx;
  const router = Router();

  router.post('/console/sign-in/link', express.json({ limit: 2_000 }), (req, res) => {
    const { installationId, token } = parseInput(linkSignIn, req.body);
    const now = ctx.now();
    const user = store.transaction(
      () => {
        const used = store.sessions.useConsoleLink(token, installationId, now);
        if (!used.ok) throw new ApiError('unauthorized', LINK_REFUSED[used.reason]);
        const row = store.consoleUsers.get(used.consoleUserId);
        if (!row || row.revokedAt || row.installationId !== installationId) throw new ApiError('unauthorized', LINK_REFUSED.unknown);
        return row;
      },
      { immediate: true },
    );
    openUserSession(store, res, user, { sessionTtlMs: settings.sessionTtlMs, publicBaseUrl }, now);
    res.json({ user: { id: user.id, email: user.email, name: user.name }, role: user.role, installationId: user.installationId });
  });

  router.get('/console/assets/console.js', (_req, res) => {
    res.type('text/javascript').setHeader('cache-control', 'no-cache').send(CONSOLE_SCRIPT);
  });

  router.get('/console/:installationId', (req, res) => {
    const installation = store.installations.get(req.params.installationId);
    res.setHeader('cache-control', 'no-store');
    if (!installation) {
      res.status(404).type('html').send(page('No console here', '<p>There is no Referloop installation at this address.</p>'));
      return;
    }
    const session = sessionOf(req, res, store, ctx.now());
    const user =
      session?.subjectKind === 'user' && session.installationId === installation.id ? store.consoleUsers.get(session.subjectId) : undefined;
    const where = escapeHtml(`${installation.accountName ?? installation.accountId} (${installation.crm})`);
    const body =
      user && !user.revokedAt
        ? `<p>Signed in to ${where} as <strong>${escapeHtml(user.email)}</strong>, ${escapeHtml(user.role)}.</p><p><button type="button" id="sign-out">Sign out</button></p>`
        : `<p>Sign in to the referral program console of ${where}.</p>` +
          `<p><a href="/console/sign-in/${escapeHtml(installation.crm)}">Sign in with your CRM account</a> (its admins), or open the link of the invite you were emailed.</p>`;
    res
      .type('html')
      .send(
        page(
          'Referloop console',
          `<main id="console" data-installation-id="${escapeHtml(installation.id)}">${body}<p id="status" role="status"></p></main><script src="/console/assets/console.js"></script>`,
        ),
      );
  });

  return router;
}

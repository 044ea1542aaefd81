import { Router } from 'express';
import { z } from 'zod';
import { isCrmKind, type CrmKind } from '../../connectors/registry.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { completeInstall, InstallError, startInstall } from '../use-cases/install-crm.ts';
import { escapeHtml } from '../notify/templates.ts';
import { page } from './pages.ts';
import { requestContext } from './request-context.ts';
import type { SettingsLinks } from './settings-link.ts';

const callbackQuery = z.object({
  code: z.string().min(1).optional(),
  state: z.string().min(1).optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/** The marketplace install: consent at the CRM, then the callback stores and provisions. */
export function oauthRouter(ctx: UseCaseContext, publicBaseUrl: string, settingsLinks: SettingsLinks): Router {
  const router = Router();
  const redirectUri = (crm: CrmKind) => `${publicBaseUrl}/oauth/${crm}/callback`;
  const crmOf = (value: string): CrmKind | undefined => (isCrmKind(value) ? value : undefined);

  router.get('/oauth/:crm/install', (req, res) => {
    const crm = crmOf(req.params.crm);
    if (!crm || !ctx.crm.connector(crm)) {
      res
        .status(404)
        .type('html')
        .send(page('Not available', `<p>${escapeHtml(req.params.crm)} is not configured on this Referloop.</p>`));
      return;
    }
    res.redirect(302, startInstall(requestContext(ctx, res), crm, redirectUri(crm)));
  });

  router.get('/oauth/:crm/callback', async (req, res) => {
    const crm = crmOf(req.params.crm);
    const query = callbackQuery.safeParse(req.query);
    if (!crm || !ctx.crm.connector(crm) || !query.success) {
      res.status(404).type('html').send(page('Not available', '<p>Unknown install callback.</p>'));
      return;
    }
    const { code, state, error, error_description: description } = query.data;
    if (error || !code || !state) {
      res
        .status(400)
        .type('html')
        .send(
          page('Install cancelled', `<p>The CRM did not grant access: ${escapeHtml(description ?? error ?? 'no code was returned')}.</p>`),
        );
      return;
    }
    try {
      const { installation } = await completeInstall(requestContext(ctx, res), crm, { code, state, redirectUri: redirectUri(crm) });
      res.redirect(302, `${publicBaseUrl}${settingsLinks.issue(installation.id, ctx.now())}`);
    } catch (err) {
      if (!(err instanceof InstallError)) throw err;
      res
        .status(400)
        .type('html')
        .send(page('Install failed', `<p>${escapeHtml(err.message)}</p>`));
    }
  });

  return router;
}

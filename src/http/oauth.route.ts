import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { isCrmKind, type CrmKind } from '../../connectors/registry.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { OAuthGrant } from '../../connectors/connector.ts';
import { signInWithCrm } from '../use-cases/console-users.ts';
import { completeInstall, InstallError, startInstall } from '../use-cases/install-crm.ts';
import { consoleLink } from '../notify/portal-link.ts';
import { escapeHtml } from '../notify/templates.ts';
import { page } from './pages.ts';
import { requestContext } from './request-context.ts';
import { openUserSession } from './sessions.ts';
import type { SettingsLinks } from './settings-link.ts';

const callbackQuery = z.object({
  code: z.string().min(1).optional(),
  state: z.string().min(1).optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

const CRM_NAMES: Record<CrmKind, { vendor: string; account: string }> = {
  hubspot: { vendor: 'HubSpot', account: 'portal' },
  salesforce: { vendor: 'Salesforce', account: 'org' },
  fake: { vendor: 'the fake CRM', account: 'account' },
};

/**
 * The marketplace install and the console's sign-in with the CRM: consent at the CRM, then one
 * callback, which the stored state tells what to complete. An install stores and provisions (and
 * signs the installer in to the console); a sign-in opens the console of the user's portal or org.
 */
export function oauthRouter(
  ctx: UseCaseContext,
  publicBaseUrl: string,
  settingsLinks: SettingsLinks,
  console: { sessionTtlMs: number },
): Router {
  const router = Router();
  const redirectUri = (crm: CrmKind) => `${publicBaseUrl}/oauth/${crm}/callback`;
  const crmOf = (value: string): CrmKind | undefined => (isCrmKind(value) ? value : undefined);
  const sessionSettings = { sessionTtlMs: console.sessionTtlMs, publicBaseUrl };

  const begin = (purpose: 'install' | 'sign_in') => async (req: Request, res: Response) => {
    const crm = crmOf(req.params.crm as string);
    if (!crm || !ctx.crm.connector(crm)) {
      res
        .status(404)
        .type('html')
        .send(page('Not available', `<p>${escapeHtml(req.params.crm as string)} is not configured on this Referloop.</p>`));
      return;
    }
    res.redirect(302, await startInstall(requestContext(ctx, res), crm, redirectUri(crm), purpose));
  };
  router.get('/oauth/:crm/install', begin('install'));
  router.get('/console/sign-in/:crm', begin('sign_in'));

  /** Opens the console session of the CRM user a grant names and returns its installation; undefined (the page sent) when it cannot. */
  const signIn = async (res: Response, crm: CrmKind, grant: OAuthGrant): Promise<string | undefined> => {
    const result = await signInWithCrm(requestContext(ctx, res), crm, grant);
    const names = CRM_NAMES[crm];
    if (result.outcome === 'not_installed') {
      res
        .status(404)
        .type('html')
        .send(
          page(
            'Referloop is not installed there',
            `<p>Referloop is not installed in ${names.vendor} ${names.account} ${escapeHtml(result.accountId)}, so there is no console to sign in to.</p>` +
              `<p>An admin of that ${names.account} can <a href="/oauth/${crm}/install">install Referloop</a> first.</p>`,
          ),
        );
      return undefined;
    }
    if (result.outcome === 'unknown_user') {
      res
        .status(400)
        .type('html')
        .send(page('Sign-in failed', `<p>${names.vendor} did not say who you are, so no session was opened. Try again.</p>`));
      return undefined;
    }
    await openUserSession(ctx.store, res, result.user, sessionSettings, ctx.now());
    return result.installation.id;
  };

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
        .send(page('Cancelled', `<p>The CRM did not grant access: ${escapeHtml(description ?? error ?? 'no code was returned')}.</p>`));
      return;
    }
    try {
      const done = await completeInstall(requestContext(ctx, res), crm, { code, state, redirectUri: redirectUri(crm) });
      if (done.purpose === 'sign_in') {
        const installationId = await signIn(res, crm, done.grant);
        if (installationId) res.redirect(303, consoleLink(publicBaseUrl, installationId));
        return;
      }
      // The installer is signed in to the console too, then lands on what was set up.
      if (done.grant.user) await signIn(res, crm, done.grant);
      res.redirect(302, `${publicBaseUrl}${settingsLinks.issue(done.installation.id, ctx.now())}`);
    } catch (err) {
      if (!(err instanceof InstallError)) throw err;
      res
        .status(400)
        .type('html')
        .send(page('Not completed', `<p>${escapeHtml(err.message)}</p>`));
    }
  });

  return router;
}

import { createHmac } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { CODE_FORM_FIELD } from '../domain/referral-links.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { ReferralLinkRow } from '../store/referral-links.repo.ts';
import { ensureReferralLink, visitReferralLink } from '../use-cases/referral-links.ts';
import { actorOf, principalOf } from './auth.ts';
import { captureScript } from './capture-script.ts';
import { ApiError, parseInput } from './errors.ts';
import { resolveProgram, visibleOr404 } from './installation-scope.ts';
import { page } from './pages.ts';
import { requireReferrerSession, sessionOf } from './sessions.ts';

const linkRequest = z.strictObject({
  /** The referrer's program the link is for; the installation's default program when absent. */
  programId: z.string().trim().min(1).max(100).optional(),
  /** A page of the link's own, on one of the program's allowed domains. */
  landingUrl: z.string().trim().max(2_000, { error: 'must be at most 2000 characters' }).optional(),
});

/** Where visits land and what the vendor's site loads: `/r/<code>` and `/r/capture.js`, public. */
export function referralLinkPublicRouter(ctx: UseCaseContext, publicBaseUrl: string, secret: Buffer): Router {
  const router = Router();
  const { store } = ctx;
  // Visitors are counted by a keyed hash of their address, never the address itself.
  const visitorHashKey = createHmac('sha256', secret).update('referral-link-visitors').digest();

  router.get('/r/capture.js', async (req, res) => {
    const installation = typeof req.query.installation === 'string' ? await store.installations.get(req.query.installation) : undefined;
    // The cookie lives as long as the longest attribution window of the installation's programs.
    const windows = [];
    for (const row of installation ? await store.programs.list(installation.id) : [])
      windows.push((await store.programs.current(row.id))!.program.attribution.windowDays);
    const webToLeadField = installation ? (await store.installations.settings(installation)).webToLeadCodeField : undefined;
    const fields = [CODE_FORM_FIELD, ...(webToLeadField ? [webToLeadField] : [])];
    res
      .type('application/javascript')
      // The vendor's site loads it from another origin.
      .set('cross-origin-resource-policy', 'cross-origin')
      .set('cache-control', 'public, max-age=3600')
      .send(captureScript({ days: windows.length > 0 ? Math.max(...windows) : 365, fields }));
  });

  router.get('/r/:code', async (req, res) => {
    const session = await sessionOf(req, res, store, ctx.now());
    const { location } = await visitReferralLink(ctx, {
      code: req.params.code,
      visitorAddress: req.ip ?? '',
      visitorReferrerId: session?.subjectKind === 'referrer' ? session.subjectId : null,
      query: req.query as Record<string, unknown>,
      visitorHashKey,
    });
    res.set('cache-control', 'no-store').set('referrer-policy', 'no-referrer');
    if (location) {
      res.redirect(302, location);
      return;
    }
    res.status(404).type('html').send(page('Link not found', '<p>This referral link is not valid.</p>'));
  });

  // The referrer's own links in the portal (one per program of theirs that has links), with what each brought.
  router.get('/api/v1/portal/:installationId/links', requireReferrerSession(store, ctx.now), async (req, res) => {
    const session = (await sessionOf(req, res, store, ctx.now()))!;
    const referrer = (await store.referrals.referrer(session.subjectId))!;
    let linksOn = false;
    for (const program of await store.programs.programsOf(referrer.id))
      if ((await ensureReferralLink(ctx, referrer, program)).outcome === 'ok') linksOn = true;
    const links = linksOn ? await store.referralLinks.allFor(referrer.id) : [];
    res.json({ items: await Promise.all(links.map((l) => linkView(ctx, publicBaseUrl, l))) });
  });

  return router;
}

/** Admin API: a referrer's link (made on first need, or for another landing page) and its numbers. */
export function referralLinksApiRouter(ctx: UseCaseContext, publicBaseUrl: string): Router {
  const router = Router();
  const { store } = ctx;

  router.post('/referrers/:id/link', async (req, res) => {
    const body = parseInput(linkRequest, req.body ?? {});
    const referrer = visibleOr404(principalOf(res), await store.referrals.referrer(req.params.id), `referrer ${req.params.id}`);
    const installation = (await store.installations.get(referrer.installationId))!;
    const program = await resolveProgram(store, installation, body.programId);
    const result = await ensureReferralLink(ctx, referrer, program, body.landingUrl);
    if (result.outcome === 'not_member')
      throw new ApiError(
        'conflict',
        `${result.reason} Add them to it first (PUT /api/v1/programs/${program.id}/referrers/${referrer.id}).`,
      );
    if (result.outcome === 'links_off')
      throw new ApiError('conflict', 'The program has no referral links: set its `links` (landing URL and allowed domains) first.');
    if (result.outcome === 'landing_not_allowed')
      throw new ApiError('invalid_input', result.reason, { issues: [{ field: 'landingUrl', message: result.reason }] });
    res.status(200).json(await linkView(ctx, publicBaseUrl, result.link));
  });

  router.get('/referrers/:id/links', async (req, res) => {
    const referrer = visibleOr404(principalOf(res), await store.referrals.referrer(req.params.id), `referrer ${req.params.id}`);
    res.json({ items: await Promise.all((await store.referralLinks.allFor(referrer.id)).map((l) => linkView(ctx, publicBaseUrl, l))) });
  });

  router.delete('/referral-links/:code', async (req, res) => {
    const principal = principalOf(res);
    const link = visibleOr404(principal, await store.referralLinks.byCode(req.params.code), `referral link ${req.params.code}`);
    if (!link.revokedAt) {
      const at = ctx.now().toISOString();
      await store.transaction(async () => {
        await store.referralLinks.revoke(link.code, at);
        await store.audit.record({
          installationId: link.installationId,
          actor: actorOf(principal),
          action: 'referral_link.revoked',
          subjectType: 'referrer',
          subjectId: link.referrerId,
          after: { code: link.code },
          at,
        });
      });
    }
    res.status(204).end();
  });

  return router;
}

async function linkView(ctx: UseCaseContext, publicBaseUrl: string, link: ReferralLinkRow) {
  return {
    code: link.code,
    programId: link.programId,
    url: `${publicBaseUrl}/r/${link.code}`,
    landingUrl: link.landingUrl,
    revokedAt: link.revokedAt,
    createdAt: link.createdAt,
    ...(await ctx.store.referralLinks.stats(link.code)),
  };
}

import express, { Router } from 'express';
import { z } from 'zod';
import { type ConfiguredCrm, type CrmKind, registrationOf, SandboxDealError, type SandboxSalesTeam } from '../../connectors/registry.ts';
import { escapeHtml } from '../notify/templates.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import { reportSummary } from '../use-cases/report-summary.ts';
import {
  changeTourAccountNps,
  createTourDeal,
  moveTourDeal,
  referAFriend,
  seedTour,
  TOUR_ACCOUNT,
  tourEmails,
  tourReferral,
  tourReferrers,
} from '../use-cases/tour.ts';
import { ApiError, parseInput, requireQueue } from './errors.ts';
import { page } from './pages.ts';
import { webDir } from './portal.route.ts';
import { requestContext } from './request-context.ts';
import { referralView, referrerView } from './views.ts';

export interface FirstRunDeps {
  ctx: UseCaseContext;
  /** Every CRM as configured (mode chosen). */
  crms: readonly ConfiguredCrm<CrmKind>[];
  publicBaseUrl: string;
  /** Installs a sandbox CRM through its OAuth flow (main.ts `installThroughOAuth`); the installation id. */
  install(crm: CrmKind): Promise<string | undefined>;
}

/** Tour writes allowed per client address per minute: a visitor clicks a few dozen times at most. */
const WRITES_PER_MINUTE = 60;

const referralInput = z
  .object({
    referrer: z.enum(['partner', 'customer']),
    firstName: z.string().trim().min(1, 'name the friend').max(60),
    company: z.string().trim().min(1, "name the friend's company").max(80),
  })
  .strict();
const dealInput = z
  .object({
    referralId: z.string().min(1).max(64),
    /** Whole currency units, like a rep types them. */
    amount: z.number().int('a whole amount').min(1, 'a positive amount').max(10_000_000),
  })
  .strict();
const stageInput = z.object({ stage: z.string().min(1).max(64) }).strict();
const dealIdParam = z.string().regex(/^[A-Za-z0-9]{1,40}$/, 'a deal id is letters and digits');
const npsInput = z.object({ nps: z.number().int('a whole number').min(0).max(10) }).strict();
const stateQuery = z.object({ referralId: z.string().min(1).max(64).optional() });

/**
 * `/`: the first-run tour while every configured CRM runs on its sandbox, else a page to connect
 * the real CRMs (one button each) or saying which variables to set.
 *
 * The tour's API (`/tour/api/*`) exists only when every CRM is a sandbox: it plays a pretend sales
 * team without signing in, which is harmless on an emulator and never offered next to a real CRM.
 * Its writes are browser-driven and cookie-less, so they are refused unless the browser says they
 * come from this app's own pages (Origin), and they are bounded per client address and in size.
 */
export function firstRunRouter(deps: FirstRunDeps): Router {
  const router = Router();
  const running = deps.crms.filter((crm) => crm.mode !== 'off');
  const toured = running.every((crm) => crm.mode === 'sandbox') ? running.find((crm) => crm.sandbox?.salesTeam) : undefined;
  if (!toured) {
    router.get('/', (_req, res) => {
      res.type('html').send(connectPage(deps.crms));
    });
    return router;
  }

  const web = webDir();
  router.get('/', (_req, res) => {
    if (!web) {
      res
        .status(503)
        .type('html')
        .send(page('Referloop', '<p>The web pages are not built: run <code>npm run build:web</code> and reload.</p>'));
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(`${web}/index.html`);
  });
  router.use('/tour/api', tourApi(deps, toured));
  return router;
}

/** The real CRMs: connect the configured ones, and the variables that configure the others. */
function connectPage(crms: readonly ConfiguredCrm<CrmKind>[]): string {
  const items = crms
    .map((crm) => ({ crm, credentials: registrationOf(crm.kind).credentials }))
    .filter(({ credentials }) => credentials.length > 0)
    .map(({ crm, credentials }) =>
      crm.mode === 'live'
        ? `<li><form method="get" action="/oauth/${escapeHtml(crm.kind)}/install"><button type="submit">Connect ${escapeHtml(crm.label)}</button></form></li>`
        : `<li>${escapeHtml(crm.label)} is not configured: set ${credentials.map((name) => `<code>${escapeHtml(name)}</code>`).join(' and ')} (its app credentials) and restart.</li>`,
    )
    .join('');
  return page(
    'Connect your CRM',
    `<p>Referloop runs inside your CRM. Connect it to start the referral program; you approve the access on the CRM's own page.</p><ul class="connect">${items}</ul>
<p>Each setting is an environment variable; the README's configuration table explains them all.</p>`,
  );
}

function tourApi(deps: FirstRunDeps, toured: ConfiguredCrm<CrmKind>): Router {
  const { ctx } = deps;
  const { store } = ctx;
  const router = Router();
  const ownOrigin = new URL(deps.publicBaseUrl).origin;
  const writes = new Map<string, number[]>();
  let team: Promise<SandboxSalesTeam> | undefined;
  const salesTeam = () => (team ??= toured.sandbox!.salesTeam!());

  router.use((req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (req.get('origin') !== ownOrigin)
      return next(new ApiError('forbidden', `Tour actions are taken from the tour page at ${ownOrigin}/.`));
    const now = Date.now();
    const key = req.ip ?? 'unknown';
    const recent = (writes.get(key) ?? []).filter((at) => at > now - 60_000);
    if (recent.length >= WRITES_PER_MINUTE) return next(new ApiError('rate_limited', 'Too many tour actions in a minute: wait a moment.'));
    recent.push(now);
    writes.set(key, recent);
    // Old entries go with their client's next write; a map of at most one list per address seen.
    if (writes.size > 10_000) writes.clear();
    next();
  });
  router.use(express.json({ limit: 2_000 }));

  /** The sandbox installation the tour plays in: only an installation of the toured sandbox CRM. */
  const installation = async (): Promise<InstallationRow | undefined> =>
    (await store.installations.list()).find((i) => i.crm === toured.kind && i.status === 'active');
  const requireInstallation = async (): Promise<InstallationRow> => {
    const found = await installation();
    if (!found) throw new ApiError('conflict', `The sandbox ${toured.label} is not connected yet: start the tour first.`);
    return found;
  };
  const referralOf = async (id: string) => {
    const referral = await tourReferral(ctx, await requireInstallation(), id);
    if (!referral) throw new ApiError('not_found', `No referral ${id} in the tour.`);
    return referral;
  };
  const sandboxCall = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof SandboxDealError) throw new ApiError('conflict', err.message);
      throw err;
    }
  };

  router.get('/state', async (req, res) => {
    const { referralId } = parseInput(stateQuery, req.query, 'query');
    const current = await installation();
    res.json({
      crm: { kind: toured.kind, label: toured.label },
      installation: current ? { id: current.id, accountId: current.accountId } : null,
      referrers: current ? (await tourReferrers(ctx, current)).map(referrerView) : [],
      referral: referralId && current ? await referralView(store, await referralOf(referralId)) : null,
      emails: referralId && current ? await tourEmails(ctx, referralId) : [],
      report: current ? await reportSummary(store, [current.id]) : null,
    });
  });

  /** Connects the sandbox through its OAuth flow when it is not yet, and seeds the sample referrers and account. */
  router.post('/start', async (_req, res) => {
    let current = await installation();
    if (!current) {
      const id = await deps.install(toured.kind);
      current = id ? await store.installations.get(id) : undefined;
      if (!current) throw new ApiError('unavailable', `The sandbox ${toured.label} could not be connected: see the service's log.`);
    }
    const account = await sandboxCall(async () => seedTour(requestContext(ctx, res), current, await salesTeam()));
    res.json({
      installation: { id: current.id, accountId: current.accountId },
      referrers: (await tourReferrers(ctx, current)).map(referrerView),
      account: { ...account, name: TOUR_ACCOUNT.name },
      stages: (await salesTeam()).stages,
    });
  });

  router.post('/referrals', async (req, res) => {
    const body = parseInput(referralInput, req.body);
    const current = await requireInstallation();
    requireQueue(ctx.scheduler);
    const result = await referAFriend(requestContext(ctx, res), current, body, res.locals.requestId as string);
    if (!('referral' in result)) throw new ApiError('conflict', 'The referral was not recorded.', { outcome: result.outcome });
    res.status(201).json({ outcome: result.outcome, referral: await referralView(store, result.referral) });
  });

  router.post('/deals', async (req, res) => {
    const body = parseInput(dealInput, req.body);
    const referral = await referralOf(body.referralId);
    if (!referral.crmPersonId) {
      throw new ApiError('conflict', `The referee is not in the sandbox ${toured.label} yet: wait until the referral shows as synced.`);
    }
    res.status(201).json(await sandboxCall(async () => createTourDeal(await salesTeam(), referral, body.amount)));
  });

  router.post('/deals/:dealId/stage', async (req, res) => {
    const dealId = parseInput(dealIdParam, req.params.dealId, 'dealId');
    const { stage } = parseInput(stageInput, req.body);
    await requireInstallation();
    await sandboxCall(async () => moveTourDeal(await salesTeam(), dealId, stage));
    res.json({ dealId, stage });
  });

  router.post('/account/nps', async (req, res) => {
    const { nps } = parseInput(npsInput, req.body);
    const current = await requireInstallation();
    const result = await sandboxCall(async () => changeTourAccountNps(requestContext(ctx, res), current, await salesTeam(), nps));
    res.json({ account: { ...result.account, name: TOUR_ACCOUNT.name }, eligibility: result.eligibility });
  });

  return router;
}

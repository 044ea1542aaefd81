import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { RegisteredConnector } from '../../connectors/registry.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Metrics } from '../metrics.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { authenticate, parseJsonBody } from './auth.ts';
import { consoleRouter, type ConsoleSettings } from './console.route.ts';
import { cardKeysRouter } from './card-keys.route.ts';
import { consoleUsersRouter } from './console-users.route.ts';
import { ApiError, errorHandler } from './errors.ts';
import { asksRouter } from './asks.route.ts';
import { installationsRouter } from './installations.route.ts';
import { oauthRouter } from './oauth.route.ts';
import { settingsPage } from './pages.ts';
import { portalRouter, type PortalSettings } from './portal.route.ts';
import { settingsLinks } from './settings-link.ts';
import { payoutsRouter } from './payouts.route.ts';
import { programRouter } from './program.route.ts';
import { referralsRouter } from './referrals.route.ts';
import { referralLinkPublicRouter, referralLinksApiRouter } from './referral-links.route.ts';
import { requestLog } from './request-context.ts';
import { rewardsRouter } from './rewards.route.ts';
import { crmWebhooksRouter } from './crm-webhooks.route.ts';

export interface AppDeps {
  ctx: UseCaseContext;
  queue: JobQueue;
  metrics: Metrics;
  connectors: RegisteredConnector[];
  publicBaseUrl: string;
  adminToken: string;
  /** Signs the settings links the install hands out (derived from ENCRYPTION_KEY). */
  linkSecret: Buffer;
  /** Routers mounted at the root (unsubscribe pages) and under /api/v1 behind the admin token. */
  publicRouters?: express.Router[];
  apiRouters?: express.Router[];
  /** In-process sandbox CRMs, mounted under their path. */
  sandboxes?: { path: string; handler: (req: IncomingMessage, res: ServerResponse) => void; close?: () => Promise<void> }[];
  /** Sign-in link and session lifetimes of the referrer portal. */
  portal?: PortalSettings;
  /** Console session and invite-link lifetimes. */
  console?: ConsoleSettings;
  /** Largest JSON body the API accepts. */
  maxJsonBytes?: number;
}

export function createApp(deps: AppDeps): Express {
  const { ctx, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);

  for (const sandbox of deps.sandboxes ?? []) app.use(sandbox.path, (req, res) => sandbox.handler(req, res));

  app.use((req, res, next) => {
    const requestId = req.get('x-request-id') ?? randomUUID();
    // The request's child logger is made when something logs (requestLog): pino takes a few µs
    // to make one, and most requests log only the line below.
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      end({ route: req.route?.path ?? 'unmatched', status: String(res.statusCode) });
      if (ctx.log.isLevelEnabled('info'))
        ctx.log.info({ requestId, method: req.method, path: req.path, status: res.statusCode }, 'request');
    });
    next();
  });

  // Health, metrics and webhooks are read by machines, not browsers: they come before the
  // browser security headers.
  app.get('/healthz', async (_req, res) => {
    const migrated = await ctx.store.isMigrated();
    const queueOk = await deps.queue.healthy();
    const ok = migrated && queueOk;
    const reason = !migrated
      ? 'the store is not migrated'
      : `the job queue (${deps.queue.kind === 'bullmq' ? 'Redis' : 'SQLite'}) is unreachable`;
    res.status(ok ? 200 : 503).json(ok ? { status: 'ok' } : { status: 'unavailable', reason, store: migrated, queue: queueOk });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use(crmWebhooksRouter(ctx, deps.connectors, deps.publicBaseUrl, metrics));
  app.use(helmet({ contentSecurityPolicy: { directives: { 'form-action': ["'self'"] } } }));
  const links = settingsLinks(deps.linkSecret);
  const consoleSettings = deps.console ?? { sessionTtlMs: 12 * 3_600_000, inviteTtlMs: 72 * 3_600_000, magicLinkTtlMs: 15 * 60_000 };
  app.use(oauthRouter(ctx, deps.publicBaseUrl, links, consoleSettings));
  app.use(consoleRouter(ctx, deps.publicBaseUrl, consoleSettings));
  app.use(settingsPage(ctx.store, links, ctx.now));
  for (const router of deps.publicRouters ?? []) app.use(router);
  app.use(portalRouter(ctx, deps.publicBaseUrl, deps.portal ?? { magicLinkTtlMs: 15 * 60_000, sessionTtlMs: 12 * 3_600_000 }));
  app.use(referralLinkPublicRouter(ctx, deps.publicBaseUrl, deps.linkSecret));

  const api = express.Router();
  api.use(express.raw({ limit: deps.maxJsonBytes ?? 100_000, type: () => true }));
  api.use(
    authenticate({
      adminToken: deps.adminToken,
      publicBaseUrl: deps.publicBaseUrl,
      store: ctx.store,
      connectors: deps.connectors,
      now: ctx.now,
    }),
    parseJsonBody,
  );
  api.use(
    referralsRouter(ctx),
    programRouter(ctx),
    rewardsRouter(ctx),
    payoutsRouter(ctx),
    installationsRouter(ctx, deps.queue),
    asksRouter(ctx),
    referralLinksApiRouter(ctx, deps.publicBaseUrl),
    consoleUsersRouter(ctx, deps.publicBaseUrl, consoleSettings),
    cardKeysRouter(ctx),
  );
  for (const router of deps.apiRouters ?? []) api.use(router);
  app.use('/api/v1', api);

  app.use((req, _res, next) => next(new ApiError('not_found', `No route for ${req.method} ${req.path}.`)));
  app.use(errorHandler((err, res) => requestLog(ctx, res).error({ err }, 'unexpected error')));
  return app;
}

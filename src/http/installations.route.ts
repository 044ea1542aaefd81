import { milestoneView } from './asks.route.ts';
import { Router } from 'express';
import type { JobQueue } from '../jobs/queue.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { accountEligibility } from '../use-cases/account-eligibility.ts';
import { changeInstallationStageMapping, pipelinesWithMapping } from '../use-cases/change-stage-mapping.ts';
import { changeEligibilityFields } from '../use-cases/eligibility-fields.ts';
import { scheduleReevaluation } from '../use-cases/reevaluate-accounts.ts';
import { installationCurrencies } from '../use-cases/installation-currencies.ts';
import { installationHealth } from '../use-cases/installation-health.ts';
import { replayEvents } from '../use-cases/replay-events.ts';
import { reportSummary } from '../use-cases/report-summary.ts';
import { buildReport } from '../use-cases/reports.ts';
import { addDays, toDateOnly } from '../domain/dates.ts';
import { rangeProblem } from '../domain/reports.ts';
import { actorOf, principalOf } from './auth.ts';
import { ApiError, parseInput, requireQueue } from './errors.ts';
import { installationIds, requestedInstallationId, resolveInstallation, resolveProgram, visibleTo } from './installation-scope.ts';
import { dealKindsSchema, dealSourcesSchema, eligibilityFieldsSchema, replaySchema, reportsQuery, stageMappingSchema } from './schemas.ts';
import { eligibilityFieldsView, installationView } from './views.ts';
import { requestContext } from './request-context.ts';

/** Installations, accounts' eligibility, reports, and the operator's tools (dead letters, replay). */
export function installationsRouter(ctx: UseCaseContext, queue: JobQueue): Router {
  const router = Router();
  const { store } = ctx;

  router.get('/installations', async (req, res) => {
    const ids = await installationIds(store, requestedInstallationId(req.query), principalOf(res));
    res.json((await store.installations.list()).filter((i) => ids.includes(i.id)).map(installationView));
  });

  router.get('/installations/:id', async (req, res) => {
    res.json(installationView(await resolveInstallation(store, req.params.id, principalOf(res))));
  });

  router.put('/installations/:id/stage-mapping', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    const requested = parseInput(stageMappingSchema, req.body);
    const result = await changeInstallationStageMapping(requestContext(ctx, res), installation, requested, actorOf(principalOf(res)));
    if (result.outcome === 'crm_unavailable') {
      throw new ApiError('unavailable', `The CRM could not list its pipelines (${result.reason}), so the stage mapping was not changed.`, {
        retryAfterSeconds: Math.ceil((result.retryAfterMs ?? 5_000) / 1000),
      });
    }
    if (result.outcome === 'refused') {
      throw new ApiError('invalid_input', `The stage mapping was not changed: ${result.problems.map((p) => p.reason).join('; ')}.`, {
        issues: result.problems.map((p) => ({ field: [p.pipelineId, p.stageId].filter(Boolean).join('.'), message: p.reason })),
      });
    }
    res.json(installationView((await store.installations.get(installation.id))!));
  });

  /** The CRM's pipelines and stages with their labels, read live, and the step each stage is mapped to. */
  router.get('/installations/:id/pipelines', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    const result = await pipelinesWithMapping(requestContext(ctx, res), installation);
    if (result.outcome === 'crm_unavailable') {
      throw new ApiError('unavailable', `The CRM could not list its pipelines (${result.reason}).`, {
        retryAfterSeconds: Math.ceil((result.retryAfterMs ?? 5_000) / 1000),
      });
    }
    res.json({ installationId: installation.id, pipelines: result.pipelines });
  });

  /** Who sourced a deal: the CRM fields to read and what their values mean (channel-conflict policy). */
  router.put('/installations/:id/deal-sources', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    const dealSources = parseInput(dealSourcesSchema, req.body);
    const now = ctx.now();
    await store.transaction(async () => {
      await store.installations.updateSettings(installation.id, { dealSources }, now);
      await store.audit.record({
        installationId: installation.id,
        actor: actorOf(principalOf(res)),
        action: 'installation.deal_sources',
        subjectType: 'installation',
        subjectId: installation.id,
        before: (await store.installations.settings(installation)).dealSources ?? null,
        after: dealSources,
        at: now.toISOString(),
      });
    });
    res.json(installationView((await store.installations.get(installation.id))!));
  });

  /** Which deals are renewals or expansions of a referred customer (they earn revenue share only): pipelines and deal-type values. */
  router.put('/installations/:id/deal-kinds', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    const dealKinds = parseInput(dealKindsSchema, req.body);
    const now = ctx.now();
    await store.transaction(async () => {
      await store.installations.updateSettings(installation.id, { dealKinds }, now);
      await store.audit.record({
        installationId: installation.id,
        actor: actorOf(principalOf(res)),
        action: 'installation.deal_kinds',
        subjectType: 'installation',
        subjectId: installation.id,
        before: (await store.installations.settings(installation)).dealKinds ?? null,
        after: dealKinds,
        at: now.toISOString(),
      });
    });
    res.json(installationView((await store.installations.get(installation.id))!));
  });

  /** The account fields eligibility reads: detected at install, changed here, each checked against the CRM's schema. */
  router.get('/installations/:id/eligibility-fields', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    res.json(eligibilityFieldsView(installation.id, (await store.installations.settings(installation)).eligibilityFields ?? null));
  });

  router.put('/installations/:id/eligibility-fields', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    const requested = parseInput(eligibilityFieldsSchema, req.body);
    const result = await changeEligibilityFields(requestContext(ctx, res), installation, requested, actorOf(principalOf(res)));
    if (result.outcome === 'crm_unavailable') {
      throw new ApiError('unavailable', `The CRM could not describe its account fields (${result.reason}), so nothing was changed.`, {
        retryAfterSeconds: Math.ceil((result.retryAfterMs ?? 5_000) / 1000),
      });
    }
    if (result.outcome === 'refused') {
      throw new ApiError('invalid_input', `The eligibility fields were not changed: ${result.problems.map((p) => p.reason).join('; ')}.`, {
        issues: result.problems.map((p) => ({ field: p.field, message: p.reason })),
      });
    }
    await scheduleReevaluation(requestContext(ctx, res), installation.id);
    res.json(eligibilityFieldsView(installation.id, result.mapping));
  });

  router.post('/installations/:id/reconcile', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    requireQueue(ctx.scheduler);
    await ctx.scheduler.schedule('reconcile', installation.id);
    res.status(202).json({ scheduled: 'reconcile', installationId: installation.id });
  });

  router.get('/installations/:id/currencies', async (req, res) => {
    const installation = await resolveInstallation(store, req.params.id, principalOf(res));
    res.json({ installationId: installation.id, ...(await installationCurrencies(requestContext(ctx, res), installation)) });
  });

  /** The console's Home: connection, sync and what waits for someone, from the store (no CRM call). */
  router.get('/installations/:id/health', async (req, res) => {
    res.json(await installationHealth(ctx, await resolveInstallation(store, req.params.id, principalOf(res))));
  });

  router.get('/accounts/:companyId/eligibility', async (req, res) => {
    const installation = await resolveInstallation(store, requestedInstallationId(req.query), principalOf(res));
    const result = await accountEligibility(requestContext(ctx, res), installation, req.params.companyId);
    if (!result) throw new ApiError('not_found', `No company ${req.params.companyId} in the CRM.`);
    res.json({
      installationId: installation.id,
      companyId: req.params.companyId,
      ...result,
      // What the account did in the vendor's product, newest first.
      milestones: (await store.productMilestones.forCompany(installation.id, req.params.companyId)).map(milestoneView),
    });
  });

  router.get('/reports/summary', async (req, res) => {
    const ids = await installationIds(store, requestedInstallationId(req.query), principalOf(res));
    res.json(await reportSummary(store, ids));
  });

  /** One installation's report over a range of days; the console's Reports page and BI tools read the same numbers. */
  router.get('/reports', async (req, res) => {
    const query = parseInput(reportsQuery, req.query, 'query');
    const installation = await resolveInstallation(store, query.installationId, principalOf(res));
    // A program of another installation is as absent as one that does not exist.
    if (query.programId) await resolveProgram(store, installation, query.programId);
    const to = query.to ?? toDateOnly(ctx.now().toISOString());
    const from = query.from ?? addDays(to, -179);
    const problem = rangeProblem(from, to);
    if (problem) {
      throw new ApiError('invalid_input', `Invalid query: ${problem}.`, {
        issues: [{ field: query.from ? 'from' : 'to', message: problem }],
      });
    }
    res.json(await buildReport(requestContext(ctx, res), installation, { ...query, from, to }));
  });

  // A console user sees its installation's dead jobs and events; the operator's token sees those of
  // the installation it names, or all of them, events of no installation too.
  const jobInstallation = (data: unknown) => (data as { installationId?: string } | null)?.installationId ?? null;

  router.get('/dead-letters', async (req, res) => {
    const principal = principalOf(res);
    const named = requestedInstallationId(req.query);
    const ids = await installationIds(store, named, principal);
    const shown = (installationId: string | null) =>
      (principal.kind === 'admin' && !named) || (installationId !== null && ids.includes(installationId));
    res.json({
      jobs: (await queue.deadLetters()).filter((job) => shown(jobInstallation(job.data))),
      events: (await store.inbox.dead())
        .filter((e) => shown(e.installationId))
        .map((e) => ({
          id: e.id,
          installationId: e.installationId,
          crm: e.crm,
          objectType: e.objectType,
          objectId: e.objectId,
          change: e.change,
          attempts: e.attempts,
          error: e.lastError,
          receivedAt: e.receivedAt,
        })),
    });
  });

  router.post('/dead-letters/jobs/:id/retry', async (req, res) => {
    requireQueue(ctx.scheduler);
    if (!(await queue.retryDead(req.params.id))) throw new ApiError('not_found', `No dead job ${req.params.id}.`);
    res.json({ retried: req.params.id });
  });

  router.post('/dead-letters/events/:id/retry', async (req, res) => {
    requireQueue(ctx.scheduler);
    const id = Number(req.params.id);
    const event = (await store.inbox.dead()).find((e) => e.id === id && visibleTo(principalOf(res), e));
    if (!event || !(await store.inbox.retryDead(id))) throw new ApiError('not_found', `No dead event ${req.params.id}.`);
    if (event.installationId) await ctx.scheduler.schedule('sync', event.installationId);
    res.json({ retried: id });
  });

  router.post('/replay', async (req, res) => {
    const body = parseInput(replaySchema, req.body);
    requireQueue(ctx.scheduler);
    const installationId = requestedInstallationId(req.query, body.installationId);
    if (installationId) await resolveInstallation(store, installationId, principalOf(res));
    res.status(202).json(await replayEvents(requestContext(ctx, res), new Date(body.since), installationId));
  });

  return router;
}

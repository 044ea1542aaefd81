import { Router } from 'express';
import type { UseCaseContext } from '../ports/context.ts';
import { createPayoutRun, exportPayoutRun, markPayoutRunPaid, type PayoutRefusal } from '../use-cases/payout-runs.ts';
import { sendPayoutRun } from '../use-cases/send-payouts.ts';
import { actorOf, principalOf } from './auth.ts';
import { ApiError, parseInput } from './errors.ts';
import { installationIds, requestedInstallationId, resolveInstallation, resolveProgram, visibleTo } from './installation-scope.ts';
import { payoutRunCsv, payoutRunSummaryView, payoutRunView } from './payout-export.ts';
import { requestContext } from './request-context.ts';
import { createPayoutRunSchema, exportPayoutRunSchema, listPayoutRunsQuery, markRunPaidSchema } from './schemas.ts';

/** Payout runs: payable rewards gathered per payee and currency, exported for finance, then paid. */
export function payoutsRouter(ctx: UseCaseContext): Router {
  const router = Router();
  const { store } = ctx;
  const runOf = async (id: string, principal: ReturnType<typeof principalOf>) => {
    const run = await store.payouts.get(id);
    if (!run || !visibleTo(principal, run)) throw new ApiError('not_found', `No payout run ${id}.`);
    return run;
  };
  const refused = (result: PayoutRefusal): never => {
    throw new ApiError(result.code, result.reason, result.details ?? {});
  };

  router.post('/payouts', async (req, res) => {
    const body = parseInput(createPayoutRunSchema, req.body ?? {});
    const installation = await resolveInstallation(store, requestedInstallationId(req.query, body.installationId), principalOf(res));
    const result = await createPayoutRun(requestContext(ctx, res), {
      installation,
      program: await resolveProgram(store, installation, body.programId),
      dueOn: body.dueOn,
      ...(body.rewardIds ? { rewardIds: body.rewardIds } : {}),
      actor: actorOf(principalOf(res)),
    });
    if (!result.ok) return refused(result);
    res.status(201).json(payoutRunView(result.run));
  });

  router.get('/payouts', async (req, res) => {
    const query = parseInput(listPayoutRunsQuery, req.query, 'query');
    const page = await store.payouts.list({
      installationIds: await installationIds(store, query.installationId, principalOf(res)),
      ...(query.programId ? { programId: query.programId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      limit: query.limit,
    });
    res.json({ items: page.items.map(payoutRunSummaryView), nextCursor: page.nextCursor });
  });

  router.get('/payouts/:id', async (req, res) => {
    res.json(payoutRunView(await runOf(req.params.id, principalOf(res))));
  });

  router.post('/payouts/:id/export', async (req, res) => {
    const { format } = parseInput(exportPayoutRunSchema, req.body ?? {});
    const result = await exportPayoutRun(requestContext(ctx, res), await runOf(req.params.id, principalOf(res)), actorOf(principalOf(res)));
    if (!result.ok) return refused(result);
    if (format === 'json') return void res.json(payoutRunView(result.run));
    res.type('text/csv; charset=utf-8; header=present').attachment(`payout-${result.run.id}.csv`).send(payoutRunCsv(result.run));
  });

  router.post('/payouts/:id/mark-paid', async (req, res) => {
    const { reference } = parseInput(markRunPaidSchema, req.body ?? {});
    const result = await markPayoutRunPaid(
      requestContext(ctx, res),
      await runOf(req.params.id, principalOf(res)),
      reference,
      actorOf(principalOf(res)),
    );
    if (!result.ok) return refused(result);
    res.json(payoutRunView(result.run));
  });

  // Through the payout provider: one order per line, paid line by line as the provider delivers.
  router.post('/payouts/:id/send', async (req, res) => {
    const principal = principalOf(res);
    const result = await sendPayoutRun(requestContext(ctx, res), await runOf(req.params.id, principal), actorOf(principal));
    if (!result.ok) return refused(result);
    res.status(202).json(payoutRunView(result.run));
  });

  return router;
}

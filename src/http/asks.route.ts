import { Router } from 'express';
import type { UseCaseContext } from '../ports/context.ts';
import type { ReferralAskRow } from '../store/referral-asks.repo.ts';
import { accountEligibility } from '../use-cases/account-eligibility.ts';
import { type AskRefusalCode, askForReferral } from '../use-cases/ask-for-referral.ts';
import { principalOf } from './auth.ts';
import { ApiError, type ErrorCode, parseInput } from './errors.ts';
import { requestedInstallationId, resolveInstallation } from './installation-scope.ts';
import { requestContext } from './request-context.ts';
import { askForReferralSchema, recordMilestoneSchema } from './schemas.ts';
import { recordMilestone } from '../use-cases/record-milestone.ts';
import type { ProductMilestoneRow } from '../store/product-milestones.repo.ts';

/** How each refusal is answered: nothing was written for any of them. */
const REFUSAL_STATUS: Record<AskRefusalCode, ErrorCode> = {
  unknown_company: 'not_found',
  unknown_contact: 'not_found',
  asker_not_allowed: 'forbidden',
  not_eligible: 'conflict',
  no_champion: 'conflict',
  champion_no_email: 'conflict',
  champion_opted_out: 'conflict',
  too_soon: 'conflict',
  key_reused: 'conflict',
};

/** Referral asks: a CSM (admin API or CRM card) asks an eligible account's champion for referrals. */
export function asksRouter(ctx: UseCaseContext): Router {
  const router = Router();
  const { store } = ctx;

  router.post('/accounts/:companyId/asks', async (req, res) => {
    const body = parseInput(askForReferralSchema, req.body);
    const principal = principalOf(res);
    const installation = await resolveInstallation(store, requestedInstallationId(req.query, body.installationId), principal);
    const context = requestContext(ctx, res);
    const { companyId } = req.params;
    // An account never evaluated is evaluated first: it cannot become eligible by this, so no automatic ask goes out too.
    if (!(await store.audit.decisionsFor(installation.id, 'company', companyId)).some((d) => d.kind === 'eligibility'))
      await accountEligibility(context, installation, companyId);
    const result = await askForReferral(context, {
      installation,
      companyId,
      contactId: body.contactId,
      askedBy: body.askedBy,
      message: body.message,
      trigger: 'manual',
      // The operator and a console admin are the program's admins; a card acts for the CRM user.
      caller: principal.kind === 'admin' || (principal.kind === 'user' && principal.role === 'admin') ? 'admin' : 'crm_user',
      idempotencyKey: body.idempotencyKey,
    });
    if (result.outcome === 'refused') {
      if (result.ask) {
        res.status(200).json(askView(result.ask));
        return;
      }
      // hubspot.fetch turns any non-2xx answer into a bare proxy error: a card always gets the reasons.
      if (principal.kind === 'crm-card') {
        res.status(200).json({ id: null, companyId, status: 'refused', refusal: result.refusal, reasons: result.reasons });
        return;
      }
      throw new ApiError(REFUSAL_STATUS[result.refusal], `The referral ask was not sent: ${result.reasons.join('; ')}.`, {
        refusal: result.refusal,
        reasons: result.reasons,
      });
    }
    res.status(result.replay ? 200 : 201).json(askView(result.ask));
  });

  // The vendor's product reports what an account did; a milestone the program names asks the account.
  router.post('/accounts/:companyId/milestones', async (req, res) => {
    const body = parseInput(recordMilestoneSchema, req.body);
    const principal = principalOf(res);
    if (!(principal.kind === 'admin' || (principal.kind === 'user' && principal.role === 'admin')))
      throw new ApiError('forbidden', "Milestones are reported with the admin token or by the program's admins.");
    const installation = await resolveInstallation(store, requestedInstallationId(req.query, body.installationId), principal);
    const result = await recordMilestone(requestContext(ctx, res), {
      installation,
      companyId: req.params.companyId,
      milestone: body.milestone,
      occurredAt: new Date(body.occurredAt).toISOString(),
      contactEmail: body.contactEmail,
      idempotencyKey: body.idempotencyKey,
    });
    if (result.outcome === 'unknown_account') throw new ApiError('not_found', `No company ${req.params.companyId} in the CRM.`);
    res.status(result.replay ? 200 : 201).json({ ...milestoneView(result.milestone), ask: result.ask ? askView(result.ask) : null });
  });

  return router;
}

export function milestoneView(row: ProductMilestoneRow) {
  return {
    id: row.id,
    companyId: row.companyId,
    milestone: row.milestone,
    occurredAt: row.occurredAt,
    contactEmail: row.contactEmail,
    askId: row.askId,
    idempotencyKey: row.idempotencyKey,
    recordedAt: row.createdAt,
  };
}

function askView(ask: ReferralAskRow) {
  return {
    id: ask.id,
    installationId: ask.installationId,
    companyId: ask.companyId,
    companyName: ask.companyName,
    champion: ask.championId
      ? { objectType: ask.championType, id: ask.championId, email: ask.championEmail, name: ask.championName }
      : null,
    referrerId: ask.referrerId,
    askedBy: { name: ask.askedByName, email: ask.askedByEmail },
    message: ask.message,
    trigger: ask.trigger,
    status: ask.status,
    refusal: ask.refusal,
    reasons: ask.reasons,
    idempotencyKey: ask.idempotencyKey,
    createdAt: ask.createdAt,
  };
}

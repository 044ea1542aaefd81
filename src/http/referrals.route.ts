import { type Response, Router } from 'express';
import { normalizeEmail } from '../domain/normalize.ts';
import { definedTiers, type Program } from '../domain/program.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { verdictView, type VerdictView } from '../domain/verdict.ts';
import { decideClaim } from '../use-cases/decide-claim.ts';
import { decideLinkReferral } from '../use-cases/decide-link-referral.ts';
import { referrerBalance } from '../use-cases/payout-runs.ts';
import { audienceOf, submitReferral } from '../use-cases/submit-referral.ts';
import { actorOf, principalOf } from './auth.ts';
import { ApiError, parseInput, requireQueue } from './errors.ts';
import {
  installationIds,
  requestedInstallationId,
  resolveInstallation,
  resolveProgram,
  visibleOr404,
  visibleTo,
} from './installation-scope.ts';
import {
  approveClaimSchema,
  createReferralSchema,
  createReferrerSchema,
  listReferralsQuery,
  rejectClaimSchema,
  rejectLinkReferralSchema,
  updateReferrerSchema,
} from './schemas.ts';
import type { ProgramRow } from '../store/programs.repo.ts';
import { decodeCursor } from '../store/referrals.repo.ts';
import { referralSummary, referralView, referrerView, rewardView } from './views.ts';
import { requestContext } from './request-context.ts';

/** A referrer's tier must be one their programs define: a typo would silently match no tier-limited rule. */
function requireDefinedTier(programs: Program[], tier: string): void {
  const tiers = [...new Set(programs.flatMap(definedTiers))];
  if (tiers.includes(tier)) return;
  throw new ApiError('invalid_input', `The referrer's programs define no tier ${tier}: ${tiers.join(', ') || 'they define none'}.`, {
    issues: [{ field: 'tier', message: `must be one of their programs' tiers (${tiers.join(', ') || 'none'})` }],
  });
}

/** The current settings of each program. */
async function settingsOf(store: UseCaseContext['store'], programs: ProgramRow[]): Promise<Program[]> {
  return await Promise.all(programs.map(async (p) => (await store.programs.current(p.id))!.program));
}

/** Admin-token callers keep the 201/409 contract; the verdict rides in the body either way. */
const ERROR_FOR: Record<
  Exclude<VerdictView['outcome'], 'accepted' | 'claim_pending'>,
  'duplicate' | 'conflict' | 'forbidden' | 'choose_deal' | 'not_found'
> = {
  duplicate: 'duplicate',
  conflict: 'conflict',
  ineligible: 'forbidden',
  choose_deal: 'choose_deal',
  invalid: 'not_found',
};

export function referralsRouter(ctx: UseCaseContext): Router {
  const router = Router();
  const { store } = ctx;

  router.post('/referrals', async (req, res) => {
    const body = parseInput(createReferralSchema, req.body);
    const principal = principalOf(res);
    const installation = await resolveInstallation(store, requestedInstallationId(req.query, body.installationId), principal);
    requireQueue(ctx.scheduler);
    const result = await submitReferral(requestContext(ctx, res), {
      installation,
      referrer: body.referrer,
      referee: body.referee,
      notes: body.notes,
      deal: body.deal,
      programId: body.programId,
      submittedBy: body.submittedBy,
      source: `api:${res.locals.requestId as string}`,
    });
    if (result.outcome === 'program_refused' && principal.kind !== 'crm-card') {
      throw new ApiError(result.code === 'not_member' ? 'conflict' : 'not_found', result.reason, {
        reason: result.code,
        programId: body.programId,
      });
    }
    const verdict: VerdictView =
      result.outcome === 'deal_not_found' || result.outcome === 'program_refused'
        ? { outcome: 'invalid', reasons: [result.reason] }
        : verdictView(result.verdict, audienceOf(body.submittedBy));
    const referral = 'referral' in result ? result.referral : null;
    const { outcome } = verdict;
    const recorded = outcome === 'accepted' || outcome === 'claim_pending';
    // hubspot.fetch turns any non-2xx answer into a bare proxy error: a card always gets its verdict.
    if (recorded || principal.kind === 'crm-card') {
      res.status(recorded ? 201 : 200).json({ ...(referral ? await referralView(store, referral) : {}), verdict });
      return;
    }
    throw new ApiError(ERROR_FOR[outcome], verdict.reasons.join(' '), {
      reason: 'verdict' in result && result.verdict.outcome === 'rejected' ? result.verdict.code : verdict.outcome,
      reasons: verdict.reasons,
      ...(verdict.collidesWith ?? {}),
      ...(referral ? { rejectedReferralId: referral.id } : {}),
      verdict,
    });
  });

  router.post('/referrals/:id/claim/approve', async (req, res) => {
    const body = parseInput(approveClaimSchema, req.body);
    const result = await decideClaim(requestContext(ctx, res), {
      referralId: req.params.id,
      installationIds: await installationIds(store, undefined, principalOf(res)),
      decision: { action: 'approve', approvedBy: decidedBy(res, body.approvedBy) },
    });
    res.json(await claimDecisionAnswer(result, req.params.id));
  });

  router.post('/referrals/:id/claim/reject', async (req, res) => {
    const body = parseInput(rejectClaimSchema, req.body);
    const result = await decideClaim(requestContext(ctx, res), {
      referralId: req.params.id,
      installationIds: await installationIds(store, undefined, principalOf(res)),
      decision: { action: 'reject', rejectedBy: decidedBy(res, body.rejectedBy), reason: body.reason },
    });
    res.json(await claimDecisionAnswer(result, req.params.id));
  });

  // Link referrals held for approval (the program's `links.requireApproval`).
  router.post('/referrals/:id/approve', async (req, res) => {
    const body = parseInput(approveClaimSchema, req.body);
    const result = await decideLinkReferral(requestContext(ctx, res), {
      referralId: req.params.id,
      installationIds: await installationIds(store, undefined, principalOf(res)),
      decision: { action: 'approve', approvedBy: decidedBy(res, body.approvedBy) },
    });
    res.json(await linkDecisionAnswer(result, req.params.id));
  });

  router.post('/referrals/:id/reject', async (req, res) => {
    const body = parseInput(rejectLinkReferralSchema, req.body);
    const result = await decideLinkReferral(requestContext(ctx, res), {
      referralId: req.params.id,
      installationIds: await installationIds(store, undefined, principalOf(res)),
      decision: { action: 'reject', rejectedBy: decidedBy(res, body.rejectedBy), reason: body.reason },
    });
    res.json(await linkDecisionAnswer(result, req.params.id));
  });

  async function linkDecisionAnswer(result: Awaited<ReturnType<typeof decideLinkReferral>>, id: string) {
    if (result.outcome === 'not_found') throw new ApiError('not_found', `No referral ${id}.`);
    if (result.outcome === 'refused') throw new ApiError('illegal_state', result.reasons.join(' '), { reasons: result.reasons });
    return { outcome: result.outcome, referral: await referralView(store, result.referral) };
  }

  /** A console user decides as themself; the operator's token may name who decided. */
  function decidedBy(res: Response, named: string | undefined): string {
    const principal = principalOf(res);
    return principal.kind === 'user' ? actorOf(principal) : (named ?? 'admin');
  }

  async function claimDecisionAnswer(result: Awaited<ReturnType<typeof decideClaim>>, id: string) {
    if (result.outcome === 'not_found') throw new ApiError('not_found', `No referral ${id}.`);
    if (result.outcome === 'refused') throw new ApiError('illegal_state', result.reasons.join(' '), { reasons: result.reasons });
    return { outcome: result.outcome, reasons: result.reasons, referral: await referralView(store, result.referral) };
  }

  router.get('/referrals', async (req, res) => {
    const query = parseInput(listReferralsQuery, req.query, 'query');
    if (query.objectId) {
      // A CRM record's referrals (the card on a contact, company or deal), in full.
      const installation = await resolveInstallation(store, query.installationId, principalOf(res));
      // A card says which CRM its record is in (`crm=salesforce`): a record id of another CRM would match nothing, silently.
      if (query.crm && query.crm !== installation.crm) {
        throw new ApiError('invalid_input', `This installation is connected to ${installation.crm}, not ${query.crm}.`, {
          issues: [{ field: 'crm', message: `must be ${installation.crm}` }],
        });
      }
      // A card names the record type its CRM's way (the connector's `cards.objectTypeIds`); the API also takes ours.
      const cardTypes = ctx.crm.connector(installation.crm)?.cards?.objectTypeIds ?? {};
      // The id comes from the query: only the table's own keys count, never `constructor`.
      const objectType =
        (query.objectTypeId && Object.hasOwn(cardTypes, query.objectTypeId) ? cardTypes[query.objectTypeId] : undefined) ??
        query.objectType;
      if (!objectType) {
        const ids = Object.keys(cardTypes);
        const ask = ids.length ? `objectTypeId (${ids.join(', ')}) or objectType` : 'objectType';
        throw new ApiError('invalid_input', `Name the record with ${ask}.`, {
          issues: [{ field: ids.length ? 'objectTypeId' : 'objectType', message: 'required with objectId' }],
        });
      }
      const linked = await store.referrals.linkedTo(installation.id, [{ objectType, ids: [query.objectId] }]);
      res.json({ items: await Promise.all(linked.map((r) => referralView(store, r))), nextCursor: null });
      return;
    }
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    if (query.cursor && !cursor)
      throw new ApiError('invalid_input', 'cursor is not one this API returned.', { issues: [{ field: 'cursor', message: 'invalid' }] });
    const page = await store.referrals.list({
      installationIds: await installationIds(store, query.installationId, principalOf(res)),
      ...(query.status ? { status: query.status } : {}),
      ...(query.referrerId ? { referrerId: query.referrerId } : {}),
      ...(query.q ? { search: query.q } : {}),
      ...(query.referrerType ? { referrerType: query.referrerType } : {}),
      ...(query.programId ? { programId: query.programId } : {}),
      ...(cursor ? { cursor } : {}),
      limit: query.limit,
    });
    res.json({ items: page.items.map(referralSummary), nextCursor: page.nextCursor });
  });

  router.get('/referrals/:id', async (req, res) => {
    const row = await store.referrals.get(req.params.id);
    if (!row || !visibleTo(principalOf(res), row)) throw new ApiError('not_found', `No referral ${req.params.id}.`);
    res.json(await referralView(store, row));
  });

  router.post('/referrers', async (req, res) => {
    const body = parseInput(createReferrerSchema, req.body);
    const principal = principalOf(res);
    const installation = await resolveInstallation(store, requestedInstallationId(req.query, body.installationId), principal);
    const program = (await store.programs.currentDefault(installation.id))!.program;
    const memberOf = await Promise.all((body.programIds ?? [undefined]).map(async (id) => await resolveProgram(store, installation, id)));
    if (body.tier) requireDefinedTier(await settingsOf(store, memberOf), body.tier);
    const email = normalizeEmail(body.email, { plusAddressing: program.dedupe.plusAddressing });
    const now = ctx.now();
    const existing = await store.referrals.referrerByEmail(installation.id, email);
    if (existing) throw new ApiError('duplicate', `A referrer with this email exists: ${existing.id}.`, { referrerId: existing.id });
    const row = await store.transaction(async () => {
      const created = await store.referrals.insertReferrer({
        installationId: installation.id,
        email,
        name: body.name,
        type: body.type,
        company: body.company ?? null,
        tier: body.tier ?? null,
        agreementAcceptedAt: body.agreementAccepted ? now.toISOString() : null,
        digest: body.digest ?? program.notifications.digest,
      });
      await store.audit.record({
        installationId: installation.id,
        actor: actorOf(principal),
        action: 'referrer.created',
        subjectType: 'referrer',
        subjectId: created.id,
        after: { type: created.type, tier: created.tier, programIds: memberOf.map((p) => p.id) },
        at: now.toISOString(),
      });
      for (const program of memberOf) await store.programs.join(program, created.id);
      return created;
    });
    res.status(201).json(referrerView(row));
  });

  router.get('/referrers', async (req, res) => {
    const ids = await installationIds(store, requestedInstallationId(req.query), principalOf(res));
    res.json({ items: (await Promise.all(ids.map(async (id) => await store.referrals.listReferrers(id)))).flat().map(referrerView) });
  });

  router.patch('/referrers/:id', async (req, res) => {
    const patch = parseInput(updateReferrerSchema, req.body);
    const principal = principalOf(res);
    const now = ctx.now();
    const updated = await store.transaction(async () => {
      const row = await store.referrals.referrer(req.params.id);
      if (!row || !visibleTo(principal, row)) throw new ApiError('not_found', `No referrer ${req.params.id}.`);
      // What the referrer's programs allow, together: the type and tier must fit one of them.
      const programs = await settingsOf(store, await store.programs.programsOf(row.id));
      if (patch.tier != null) requireDefinedTier(programs, patch.tier);
      const types = [...new Set(programs.flatMap((p) => p.referrerTypes))];
      if (patch.type !== undefined && !types.includes(patch.type)) {
        throw new ApiError('invalid_input', `The referrer's programs do not take ${patch.type} referrers: ${types.join(', ')}.`, {
          issues: [{ field: 'type', message: `must be one of ${types.join(', ')}` }],
        });
      }
      const fields = (['name', 'type', 'tier'] as const).filter((f) => patch[f] !== undefined && patch[f] !== row[f]);
      if (fields.length === 0) return row;
      const pick = (source: Partial<Pick<typeof row, (typeof fields)[number]>>) => Object.fromEntries(fields.map((f) => [f, source[f]]));
      await store.referrals.updateReferrer(row.id, pick(patch));
      await store.audit.record({
        installationId: row.installationId,
        actor: actorOf(principal),
        action: 'referrer.updated',
        subjectType: 'referrer',
        subjectId: row.id,
        before: pick(row),
        after: pick(patch),
        at: now.toISOString(),
      });
      return (await store.referrals.referrer(row.id))!;
    });
    res.json(referrerView(updated));
  });

  router.get('/referrers/:id', async (req, res) => {
    const row = visibleOr404(principalOf(res), await store.referrals.referrer(req.params.id), `referrer ${req.params.id}`);
    // The referee's rewards in a dual-sided program are the referee's, not the referrer's.
    const rewards = (await store.rewards.forReferrer(row.id)).filter((r) => r.beneficiary === 'referrer');
    const totals: Record<string, Record<string, number>> = {};
    for (const r of rewards) {
      const byStatus = (totals[r.currency] ??= {});
      byStatus[r.status] = (byStatus[r.status] ?? 0) + r.netCents;
    }
    res.json({
      ...referrerView(row),
      programIds: (await store.programs.programsOf(row.id)).map((p) => p.id),
      referrals: (await store.referrals.byReferrer(row.id)).map(referralSummary),
      rewards: rewards.map(rewardView),
      rewardTotals: Object.entries(totals).map(([currency, byStatus]) => ({
        currency,
        byStatusCents: byStatus,
        netCents: Object.values(byStatus).reduce((a, b) => a + b, 0),
      })),
      balance: await referrerBalance(ctx, row),
    });
  });

  return router;
}

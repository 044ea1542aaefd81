import { claimExpiry, decideClaimApproval, type ClaimDecisionInput } from '../domain/claims.ts';
import type { ReferralStatus } from '../domain/referral-lifecycle.ts';
import { programNotice, referralNotice } from '../notify/notices.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { ReferralRow } from '../store/referrals.repo.ts';
import { applyClaimedDeal } from './submit-referral.ts';
import { lockedProgram } from './reward-ledger.ts';

export type DecideClaimResult =
  | { outcome: 'approved' | 'rejected' | 'unchanged'; referral: ReferralRow; reasons: string[] }
  | { outcome: 'refused'; reasons: string[] }
  | { outcome: 'not_found' };

/**
 * An approver decides a pending claim. Approved: the referral is accepted and linked to the deal,
 * which is applied again so the claim is credited (with evidence `claim`) and follows the deal.
 * Rejected: the referral is rejected and releases the deal. Either way the referrer is told and
 * the audit log keeps who decided and why; deciding the same way again changes nothing.
 */
export async function decideClaim(
  ctx: UseCaseContext,
  args: { referralId: string; installationIds: string[]; decision: ClaimDecisionInput },
): Promise<DecideClaimResult> {
  const { store } = ctx;
  const now = ctx.now();
  const at = now.toISOString();
  const result = await store.transaction(async (): Promise<DecideClaimResult> => {
    const referral = await store.referrals.get(args.referralId);
    if (!referral || !args.installationIds.includes(referral.installationId)) return { outcome: 'not_found' };
    const claim = await store.dealClaims.get(referral.id);
    const decided = claim?.decision === 'approved' || claim?.decision === 'rejected' ? claim.decision : null;
    const decision = decideClaimApproval(
      { id: referral.id, status: referral.status as ReferralStatus, claimedDealId: claim?.dealId ?? null, decidedAs: decided },
      args.decision,
    );
    if (decision.change === 'refused') return { outcome: 'refused', reasons: decision.reasons };
    if (decision.change === 'none') return { outcome: 'unchanged', referral, reasons: decision.reasons };

    const by = args.decision.action === 'approve' ? args.decision.approvedBy : args.decision.rejectedBy;
    await store.dealClaims.decide(referral.id, decision.change, by, at, args.decision.action === 'reject' ? args.decision.reason : null);
    await store.referrals.setStatus(referral.id, decision.to, now);
    await store.referrals.addEvent({
      referralId: referral.id,
      fromStatus: 'claim_pending',
      toStatus: decision.to,
      reasons: decision.reasons,
      source: `claim:${decision.change}:${by}`,
      idempotencyKey: `${referral.id}:claim:${decision.change}`,
      occurredAt: at,
    });
    await store.audit.record({
      installationId: referral.installationId,
      actor: by,
      action: `claim.${decision.change}`,
      subjectType: 'referral',
      subjectId: referral.id,
      before: { status: referral.status },
      after: { status: decision.to, dealId: claim!.dealId, reasons: decision.reasons },
      at,
    });
    const row = { ...referral, status: decision.to, updatedAt: at };
    const referrer = (await store.referrals.referrer(referral.referrerId))!;
    const topic = decision.change === 'approved' ? 'referral.accepted' : 'referral.declined';
    // The referrer reads the decision without the approver's name: the program decided.
    const told =
      args.decision.action === 'approve'
        ? 'Your claim was approved: the deal is credited to your referral.'
        : `Your claim was not approved: ${args.decision.reason}`;
    await ctx.notify(
      referralNotice(row, referrer, programNotice(await lockedProgram(ctx, referral)), topic, `${referral.id}:${decision.to}`, told),
      now,
    );
    return { outcome: decision.change, referral: row, reasons: decision.reasons };
  });

  if (result.outcome === 'approved') {
    const installation = (await store.installations.get(result.referral.installationId))!;
    await ctx.scheduler.schedule('push-referrals', installation.id);
    await applyClaimedDeal(ctx, installation, (await store.dealClaims.get(result.referral.id))!.dealId);
    return { ...result, referral: (await store.referrals.get(result.referral.id))! };
  }
  return result;
}

/** Pending claims whose window ended expire, releasing their deals; the referrer is told. */
export async function expireClaims(ctx: UseCaseContext, installationId: string): Promise<number> {
  const { store } = ctx;
  const now = ctx.now();
  let expired = 0;
  for (const claim of await store.dealClaims.undecidedExpiredBy(installationId, now.toISOString())) {
    await store.transaction(async () => {
      const referral = await store.referrals.get(claim.referralId);
      if (!referral) return;
      const program = await lockedProgram(ctx, referral);
      const decision = claimExpiry(
        { status: referral.status as ReferralStatus, submittedAt: referral.submittedAt },
        program.claims,
        now.toISOString(),
      );
      if (!decision.expire) return;
      await store.dealClaims.decide(referral.id, 'expired', 'system', now.toISOString(), decision.reason);
      await store.referrals.setStatus(referral.id, 'expired', now);
      await store.referrals.addEvent({
        referralId: referral.id,
        fromStatus: 'claim_pending',
        toStatus: 'expired',
        reasons: [decision.reason],
        source: 'claim:expiry',
        idempotencyKey: `${referral.id}:claim:expired`,
        occurredAt: now.toISOString(),
      });
      const referrer = (await store.referrals.referrer(referral.referrerId))!;
      await ctx.notify(
        referralNotice(
          { ...referral, status: 'expired' },
          referrer,
          programNotice(program),
          'referral.declined',
          `${referral.id}:expired`,
          `Your claim expired: ${decision.reason}.`,
        ),
        now,
      );
      expired += 1;
    });
  }
  return expired;
}

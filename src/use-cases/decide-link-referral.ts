import { programNotice, referralNotice } from '../notify/notices.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { ReferralRow } from '../store/referrals.repo.ts';
import { supersede } from './submit-referral.ts';

export type LinkReferralDecision = { action: 'approve'; approvedBy: string } | { action: 'reject'; rejectedBy: string; reason: string };

export type DecideLinkReferralResult =
  | { outcome: 'approved' | 'rejected'; referral: ReferralRow }
  | { outcome: 'not_found' }
  /** Nothing waits for a decision: not a link referral, or decided already. */
  | { outcome: 'refused'; reasons: string[] };

/**
 * An approver decides on a link referral held for approval (`links.requireApproval`): approved, it
 * is accepted as the checks said at the visit (then pushed to the CRM and attributed as any other);
 * rejected, it ends with the approver's reason, told to the referrer.
 */
export async function decideLinkReferral(
  ctx: UseCaseContext,
  input: { referralId: string; installationIds: string[]; decision: LinkReferralDecision },
): Promise<DecideLinkReferralResult> {
  const { store } = ctx;
  const now = ctx.now();
  const at = now.toISOString();
  const result = await store.transaction(async (): Promise<DecideLinkReferralResult> => {
    const row = await store.referrals.get(input.referralId);
    if (!row || !input.installationIds.includes(row.installationId)) return { outcome: 'not_found' };
    if (row.status !== 'submitted' || !row.linkEvidence)
      return { outcome: 'refused', reasons: [`Referral ${row.id} is ${row.status}: no link referral waits for approval here.`] };
    const referrer = (await store.referrals.referrer(row.referrerId))!;
    const program =
      (await store.programs.version(row.programId, row.programVersion))?.program ??
      (await store.programs.currentDefault(row.installationId))!.program;
    const notice = programNotice(program);
    const { decision } = input;
    const approved = decision.action === 'approve';
    const toStatus = approved ? 'accepted' : 'rejected';
    await store.referrals.setStatus(row.id, toStatus, now);
    await store.referrals.addEvent({
      referralId: row.id,
      fromStatus: 'submitted',
      toStatus,
      reasons: [
        approved
          ? `link referral approved by ${decision.approvedBy}`
          : `link referral rejected by ${decision.rejectedBy}: ${decision.reason}`,
      ],
      source: `approval:${approved ? decision.approvedBy : decision.rejectedBy}`,
      idempotencyKey: `${row.id}:${toStatus}`,
      occurredAt: at,
    });
    const verdict = row.verdict as { supersedes?: string[] };
    if (approved) await supersede(ctx, verdict.supersedes ?? [], row.id, now);
    const decided = (await store.referrals.get(row.id))!;
    await ctx.notify(
      approved
        ? referralNotice(decided, referrer, notice, 'referral.accepted', `${row.id}:accepted`)
        : referralNotice(decided, referrer, notice, 'referral.declined', `${row.id}:rejected`, decision.reason),
      now,
    );
    await store.audit.record({
      installationId: row.installationId,
      actor: approved ? decision.approvedBy : decision.rejectedBy,
      action: approved ? 'link_referral.approved' : 'link_referral.rejected',
      subjectType: 'referral',
      subjectId: row.id,
      before: { status: row.status },
      after: { status: toStatus, ...(approved ? {} : { reason: decision.reason }) },
      at,
    });
    return { outcome: approved ? 'approved' : 'rejected', referral: decided };
  });
  if (result.outcome === 'approved')
    await ctx.scheduler
      .schedule('push-referrals', result.referral.installationId)
      .catch((err: unknown) => ctx.log.warn({ err: String(err) }, 'push of an approved link referral left to the sweeper'));
  return result;
}

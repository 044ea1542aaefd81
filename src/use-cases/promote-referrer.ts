import { toDateOnly } from '../domain/dates.ts';
import type { Program } from '../domain/program.ts';
import { promotionByClosedWonReferrals } from '../domain/promotion.ts';
import { programNotice, promotionNotice } from '../notify/notices.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { ReferralRow } from '../store/referrals.repo.ts';

/**
 * After a credited deal closed won and its rewards were settled: promotes the referrer when the
 * program's promotion rules say so, audits it and tells the referrer. The rules are the program's
 * current ones (a tier belongs to the referrer, not to a referral's locked version). Applying the
 * same close again changes nothing: the referrer is already at the tier. Call inside a transaction.
 */
export async function promoteAfterClose(
  ctx: UseCaseContext,
  args: { program: Program; referral: ReferralRow; closeDate: string; actor: string; now: Date },
): Promise<void> {
  const { store } = ctx;
  const { program } = args;
  // Read afresh, not from a per-deal cache: two of its referrals credited on one deal promote once.
  const referrer = (await store.referrals.referrer(args.referral.referrerId))!;
  // One date per referral: a referral credited on two won deals counts once, by its latest close.
  const latestClose = new Map<string, string>();
  for (const { referralId, closeDate } of await store.deals.closedWonCloseDates(referrer.id)) {
    const day = toDateOnly(closeDate);
    if ((latestClose.get(referralId) ?? '') < day) latestClose.set(referralId, day);
  }
  const decision = promotionByClosedWonReferrals({
    program,
    referrer: { type: referrer.type, tier: referrer.tier },
    closedWonCloseDates: [...latestClose.values()],
    closeDate: toDateOnly(args.closeDate),
  });
  if (!decision.promote) return;

  await store.referrals.updateReferrer(referrer.id, { tier: decision.toTier });
  await store.audit.record({
    installationId: referrer.installationId,
    actor: args.actor,
    action: 'referrer.promoted',
    subjectType: 'referrer',
    subjectId: referrer.id,
    before: { tier: decision.fromTier },
    after: { tier: decision.toTier, ruleId: decision.ruleId, reasons: decision.reasons },
    at: args.now.toISOString(),
  });
  const promotion = { fromTier: decision.fromTier, toTier: decision.toTier, reasons: decision.reasons };
  // The close that earned it names the promotion: demoted and promoted again later is told again.
  const sourceKey = `${referrer.id}:promoted:${decision.toTier}:${args.referral.id}`;
  await ctx.notify(promotionNotice(referrer, programNotice(program), promotion, sourceKey), args.now);
}

import type { Audience } from './claims.ts';
import type { IsoInstant } from './dates.ts';
import type { SubmissionVerdict } from './submission.ts';

/**
 * The one answer every submitter gets (API, CRM cards, referrer portal): what happened, in words,
 * and what it collided with. A referrer's copy names no other referrer and no CRM data.
 */
export interface VerdictView {
  /** `invalid`: the submission names a deal this installation's CRM does not have; nothing was written. */
  outcome: 'accepted' | 'duplicate' | 'conflict' | 'claim_pending' | 'choose_deal' | 'ineligible' | 'invalid';
  reasons: string[];
  collidesWith?: {
    referralId?: string;
    dealId?: string;
    companyId?: string;
    ownerId?: string;
    ownerName?: string;
    referrerName?: string;
    protectedUntil?: IsoInstant;
  };
  /** choose_deal: the open deals to choose from (reps and admins). */
  deals?: { id: string; name: string | null; stage: string; ownerName: string | null }[];
  /** claim_pending: the claimed deal and when the claim expires without an approval. */
  claim?: { dealId: string; expiresAt: IsoInstant };
}

const REJECTED_OUTCOME = {
  duplicate: 'duplicate',
  conflict: 'conflict',
  self_referral: 'conflict',
  ineligible_referrer: 'ineligible',
} as const;

export function verdictView(verdict: SubmissionVerdict, audience: Audience): VerdictView {
  const { reasons } = verdict;
  switch (verdict.outcome) {
    case 'accepted':
      return { outcome: 'accepted', reasons };
    case 'claim_pending':
      return { outcome: 'claim_pending', reasons, claim: { dealId: verdict.claimedDealId, expiresAt: verdict.expiresAt } };
    case 'choose_deal':
      return audience === 'referrer'
        ? { outcome: 'choose_deal', reasons }
        : {
            outcome: 'choose_deal',
            reasons,
            deals: verdict.deals.map((d) => ({ id: d.id, name: d.name, stage: d.stageLabel, ownerName: d.ownerName })),
          };
    case 'rejected': {
      const { collidesWith, protectedUntil } = verdict;
      const collision = collidesWith && {
        ...collidesWith,
        ...(protectedUntil ? { protectedUntil } : {}),
      };
      const shown =
        collision && audience === 'referrer'
          ? {
              ...(collision.dealId ? { dealId: collision.dealId } : {}),
              ...(verdict.code === 'duplicate' && collision.referralId ? { referralId: collision.referralId } : {}),
            }
          : collision;
      // A referrer reads the rejection in the words meant for them (no internal ids, no CRM data).
      const told = audience === 'referrer' ? [verdict.referrerReason] : reasons;
      return {
        outcome: REJECTED_OUTCOME[verdict.code],
        reasons: told,
        ...(shown && Object.keys(shown).length ? { collidesWith: shown } : {}),
      };
    }
  }
}

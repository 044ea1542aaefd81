import { grantLabel, grantOf, type Grant } from '../domain/grants.ts';
import { DEFAULT_QUIET_PERIOD_SECONDS } from '../domain/quiet-period.ts';
import type { Program } from '../domain/program.ts';
import type { NotificationIntent } from './enqueue.ts';
import type { NotificationTopic } from './topics.ts';
import type { ReferralRow, ReferrerRow } from '../store/referrals.repo.ts';
import type { RewardRow } from '../store/rewards.repo.ts';

/** The program fields a notification needs (sender, name, what the referrer may see). */
export function programNotice(program: Program): NotificationIntent['program'] {
  return {
    name: program.name,
    senderName: program.senderName,
    senderEmail: program.senderEmail,
    discretion: program.discretion,
    quietPeriodSeconds: program.notifications.quietPeriodSeconds ?? DEFAULT_QUIET_PERIOD_SECONDS,
  };
}

/** What every notice says of the referral it is about. */
function referralSummary(referral: ReferralRow) {
  return {
    id: referral.id,
    status: referral.status,
    refereeName: refereeName(referral),
    refereeFirstName: referral.refereeFirstName,
    refereeCompany: referral.refereeCompany,
  };
}

function refereeName(referral: ReferralRow): string {
  return [referral.refereeFirstName, referral.refereeLastName].filter(Boolean).join(' ') || referral.refereeEmail;
}

/** A referral moment told to its referrer; `sourceKey` is the transition's idempotency key. */
export function referralNotice(
  referral: ReferralRow,
  referrer: ReferrerRow,
  program: NotificationIntent['program'],
  topic: NotificationTopic,
  sourceKey: string,
  reason?: string,
  deal?: { amountCents: number | null; currency: string; stage: string },
): NotificationIntent {
  return {
    installationId: referral.installationId,
    topic,
    sourceKey,
    referralId: referral.id,
    referrerId: referrer.id,
    crmNote: true,
    data: {
      referral: { ...referralSummary(referral), ...(reason ? { reason } : {}) },
      ...(deal ? { deal } : {}),
    },
    program,
  };
}

/**
 * A referral that arrived from outside the CRM (the referrer's portal, an integration), told to
 * the owner of the referee's CRM record so a rep picks it up.
 */
export function arrivalNotice(
  referral: ReferralRow,
  referrer: ReferrerRow,
  program: NotificationIntent['program'],
  recipient: NonNullable<NotificationIntent['recipient']>,
): NotificationIntent {
  return {
    installationId: referral.installationId,
    topic: 'referral.arrived_internal',
    sourceKey: `${referral.id}:arrived`,
    referralId: referral.id,
    referrerId: referrer.id,
    recipient,
    data: {
      referral: { ...referralSummary(referral), ...(referral.notes ? { notes: referral.notes } : {}) },
    },
    program,
  };
}

/** A claim on a deal, told to the deal's owner with the verdict's words. */
export function claimNotice(
  referral: ReferralRow,
  referrer: ReferrerRow,
  program: NotificationIntent['program'],
  recipient: NonNullable<NotificationIntent['recipient']>,
  reason: string,
): NotificationIntent {
  return {
    installationId: referral.installationId,
    topic: 'deal.claimed',
    sourceKey: `${referral.id}:claimed`,
    referralId: referral.id,
    referrerId: referrer.id,
    recipient,
    data: { referral: { ...referralSummary(referral), reason, ...(referral.notes ? { notes: referral.notes } : {}) } },
    program,
  };
}

export function rewardNotice(
  reward: RewardRow,
  referral: ReferralRow,
  program: NotificationIntent['program'],
  topic: 'reward.earned' | 'reward.approved' | 'reward.paid' | 'reward.rejected' | 'reward.recovered',
  sourceKey: string,
  /** Why it was rejected or recovered, in words for the referrer. */
  reason?: string,
): NotificationIntent {
  return {
    installationId: reward.installationId,
    topic,
    sourceKey,
    referralId: referral.id,
    referrerId: reward.referrerId,
    crmNote: true,
    data: {
      referral: referralSummary(referral),
      reward: {
        id: reward.id,
        amountCents: reward.amountCents,
        currency: reward.currency,
        status: reward.status,
        dueDate: reward.dueDate,
        ...(reward.payoutReference ? { payoutReference: reward.payoutReference } : {}),
        ...(reason ? { reason } : {}),
        ...grantData(grantOf(reward)),
      },
    },
    program,
  };
}

/** A reward not given as cash says what it is given as; recognition carries its message. */
function grantData(grant: Grant): { givenAs?: string; message?: string } {
  if (grant.kind === 'cash') return {};
  return { givenAs: grantLabel(grant), ...(grant.kind === 'recognition' ? { message: grant.message } : {}) };
}

/** A referrer moved up a tier; `sourceKey` names the promotion so a replay tells it once. */
export function promotionNotice(
  referrer: ReferrerRow,
  program: NotificationIntent['program'],
  promotion: { fromTier: string | null; toTier: string; reasons: string[] },
  sourceKey: string,
): NotificationIntent {
  return {
    installationId: referrer.installationId,
    topic: 'referrer.promoted',
    sourceKey,
    referrerId: referrer.id,
    crmNote: true,
    data: { promotion },
    program,
  };
}

/** The referred person's own reward in a dual-sided program, told to them once, when earned. */
export function refereeRewardNotice(reward: RewardRow, referral: ReferralRow, program: NotificationIntent['program']): NotificationIntent {
  return {
    installationId: reward.installationId,
    topic: 'referee.reward_earned',
    // Per reward family (not per row): an amount recomputed later is not told again.
    sourceKey: `${reward.installationId}:${reward.idempotencyKey.split('#')[0]}:referee_earned`,
    referralId: referral.id,
    recipient: { name: refereeName(referral), email: referral.refereeEmail },
    data: {
      referral: referralSummary(referral),
      reward: { id: reward.id, amountCents: reward.amountCents, currency: reward.currency, status: reward.status, dueDate: reward.dueDate },
    },
    program,
  };
}

/**
 * A rep's (or integration's) submission that was not accepted, as a note on the referee's CRM
 * record: the rep reads it where they logged it; the referrer is never told of it.
 */
export function rejectedSubmissionNote(
  referral: ReferralRow,
  referrer: ReferrerRow,
  program: NotificationIntent['program'],
  crmRecord: NonNullable<NotificationIntent['crmRecord']>,
  reasons: string[],
): NotificationIntent {
  return {
    installationId: referral.installationId,
    topic: 'referral.rejected_internal',
    sourceKey: `${referral.id}:rejected_internal`,
    referralId: referral.id,
    referrerId: referrer.id,
    crmRecord,
    data: { referral: { ...referralSummary(referral), reason: reasons.join(' ') } },
    program,
  };
}

import { toMajorUnits } from '../domain/money.ts';
import type { FinanceDigest, FinanceDigestReward } from '../domain/payouts.ts';
import { DEFAULT_QUIET_PERIOD_SECONDS, type DealStep, planStepMessage } from '../domain/quiet-period.ts';
import type { Store } from '../store/contract.ts';
import type { NewOutboxRow, ReferrerMessageFacts } from '../store/outbox.repo.ts';
import type { ReferrerRow } from '../store/referrals.repo.ts';
import { messageIdFor } from './message-id.ts';
import {
  isRefereeTopic,
  isReferrerTopic,
  type AskData,
  type MilestoneData,
  type CrmPayload,
  type Discretion,
  type EmailPayload,
  type NotificationTopic,
  type Recipient,
  type Sender,
  type VisibleData,
  type WebhookPayload,
} from './topics.ts';

export interface NotificationIntent {
  installationId: string;
  topic: NotificationTopic;
  /** The transition's idempotency key: one set of deliveries per key, ever. */
  sourceKey: string;
  referralId?: string;
  referrerId?: string;
  /** Internal topics: the colleague to tell (deal owner or rep, CS owner). */
  recipient?: Recipient;
  /** Also write a note on the referrer's CRM record when the referrer is a CRM person. */
  crmNote?: boolean;
  /** Internal topics: the CRM record to write the notice on as a note, instead of an email. */
  crmRecord?: { objectType: 'contact' | 'lead'; id: string };
  /** Internal topics: the CRM company to write the notice on as a note. */
  crmCompany?: { id: string };
  data: {
    referral?: {
      id: string;
      status: string;
      refereeName: string;
      /** For programs that name the referee by first name only. */
      refereeFirstName?: string | null;
      refereeCompany: string | null;
      reason?: string;
      /** The rep's internal notes: shown to referrers only when the program allows. */
      notes?: string;
    };
    reward?: {
      id: string;
      amountCents: number;
      currency: string;
      status: string;
      dueDate: string;
      payoutReference?: string | null;
      /** Why it was rejected or recovered: told to the referrer. */
      reason?: string;
      /** What it is given as, when not cash ("Gift card", "Recognition: Champion"), and a recognition's message. */
      givenAs?: string;
      message?: string;
    };
    deal?: { amountCents: number | null; currency: string; stage: string | null };
    account?: { name: string; reasons: string[] };
    ask?: AskData;
    milestone?: MilestoneData;
    promotion?: { fromTier: string | null; toTier: string; reasons: string[] };
    finance?: FinanceDigest;
  };
  program: Sender & {
    discretion: Discretion;
    /** Deal steps passed within this many seconds are told as one message (default 60). */
    quietPeriodSeconds?: number;
  };
}

/** Referrer topics that announce a deal step: merged within the quiet period on email and CRM notes. */
const DEAL_STEP_OF_TOPIC: Partial<Record<NotificationTopic, DealStep>> = {
  'referral.contacted': 'contacted',
  'referral.in_sales_process': 'in_sales_process',
  'referral.won': 'won',
  'referral.lost': 'lost',
};

/** Digest referrers get one summary a day, at this hour UTC. */
export const DIGEST_HOUR_UTC = 8;

export function nextDigestAt(now: Date): Date {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), DIGEST_HOUR_UTC));
  if (at <= now) at.setUTCDate(at.getUTCDate() + 1);
  return at;
}

/** Lifecycle steps a referrer is told under another name. */
const REFERRER_STATUS: Readonly<Record<string, string>> = { qualified: 'in_sales_process' };

/** What a referrer may see: an allowlist of fields, then the program's discretion. */
export function referrerView(data: NotificationIntent['data'], discretion: Discretion): VisibleData {
  const { referral, deal, reward, promotion, ask } = data;
  const view: VisibleData = {};
  if (ask) view.ask = { ...ask, askedBy: { ...ask.askedBy } };
  if (referral) {
    view.referral = {
      id: referral.id,
      status: REFERRER_STATUS[referral.status] ?? referral.status,
      ...refereeAsNamed(referral, discretion.refereeNaming ?? 'full_name'),
      ...(referral.reason ? { reason: referral.reason } : {}),
      ...(discretion.showInternalNotes && referral.notes ? { notes: referral.notes } : {}),
    };
  }
  if (deal) {
    const shown: NonNullable<VisibleData['deal']> = {
      ...(discretion.showStage && deal.stage ? { stage: deal.stage } : {}),
      ...(discretion.showDealAmount ? { amount: major(deal.amountCents, deal.currency), currency: deal.currency } : {}),
    };
    if (Object.keys(shown).length > 0) view.deal = shown;
  }
  if (reward) {
    view.reward = {
      id: reward.id,
      status: reward.status,
      dueDate: reward.dueDate,
      ...(discretion.showReward ? { amount: toMajorUnits(reward.amountCents, reward.currency), currency: reward.currency } : {}),
      ...(reward.payoutReference ? { payoutReference: reward.payoutReference } : {}),
      ...(reward.reason ? { reason: reward.reason } : {}),
      ...(reward.givenAs ? { givenAs: reward.givenAs } : {}),
      ...(reward.message ? { message: reward.message } : {}),
    };
  }
  if (promotion) view.promotion = { fromTier: promotion.fromTier, toTier: promotion.toTier, reasons: [...promotion.reasons] };
  return view;
}

/** The referee as the program lets referrer messages name them. */
function refereeAsNamed(
  referral: NonNullable<NotificationIntent['data']['referral']>,
  naming: NonNullable<Discretion['refereeNaming']>,
): { refereeName: string; refereeCompany: string | null } {
  const { refereeName, refereeFirstName, refereeCompany } = referral;
  switch (naming) {
    case 'full_name':
      return { refereeName, refereeCompany };
    case 'first_name':
      return {
        refereeName: refereeFirstName || refereeCompany || 'your contact',
        refereeCompany: refereeFirstName ? refereeCompany : null,
      };
    case 'company_only':
      return { refereeName: refereeCompany || 'your contact', refereeCompany: null };
  }
}

/** Colleagues read the full name; the first name is only there for referrer messages. */
function withoutFirstName(referral: NonNullable<NotificationIntent['data']['referral']>): NonNullable<VisibleData['referral']> {
  const { refereeFirstName: _firstName, ...shown } = referral;
  return shown;
}

/** Colleagues see everything the intent carries, plus who referred. */
function internalView(data: NotificationIntent['data'], referrer: ReferrerRow | undefined): VisibleData {
  const { referral, deal, reward, account, promotion, finance, ask, milestone } = data;
  return {
    ...(ask ? { ask: { ...ask, askedBy: { ...ask.askedBy } } } : {}),
    ...(milestone ? { milestone: { ...milestone } } : {}),
    ...(referral ? { referral: withoutFirstName(referral) } : {}),
    ...(deal
      ? { deal: { ...(deal.stage ? { stage: deal.stage } : {}), amount: major(deal.amountCents, deal.currency), currency: deal.currency } }
      : {}),
    ...(reward
      ? {
          reward: {
            id: reward.id,
            status: reward.status,
            dueDate: reward.dueDate,
            amount: toMajorUnits(reward.amountCents, reward.currency),
            currency: reward.currency,
            ...(reward.payoutReference ? { payoutReference: reward.payoutReference } : {}),
          },
        }
      : {}),
    ...(account ? { account: { name: account.name, reasons: account.reasons } } : {}),
    ...(promotion ? { promotion: { ...promotion } } : {}),
    ...(finance
      ? {
          finance: {
            date: finance.date,
            awaitingApproval: finance.awaitingApproval.map(inMajorUnits),
            overdue: finance.overdue.map(inMajorUnits),
          },
        }
      : {}),
    ...(referrer
      ? { referrer: { id: referrer.id, name: referrer.name, email: referrer.email, company: referrer.company, type: referrer.type } }
      : {}),
  };
}

function inMajorUnits(r: FinanceDigestReward) {
  return { id: r.id, status: r.status, amount: toMajorUnits(r.amountCents, r.currency), currency: r.currency, dueDate: r.dueDate };
}

function major(cents: number | null, currency: string): number | null {
  return cents === null ? null : toMajorUnits(cents, currency);
}

/**
 * Writes the intent's deliveries into the outbox inside the caller's transaction, one row per
 * channel and recipient, keyed `${sourceKey}:${channel}:${recipient}`. Returns the rows written:
 * 0 for a transition enqueued before (a replay), even if the referrer added endpoints since.
 * Referrers who unsubscribed get a 'suppressed' email row, kept as the record of why.
 */
export async function enqueueNotifications(outbox: Store['outbox'], intent: NotificationIntent, now: Date): Promise<number> {
  const { sourceKey } = intent;
  const facts = await factsOf(outbox, intent);
  if (facts === 'enqueued before' || facts?.enqueuedBefore) return 0;
  assertOwnData(intent, facts);
  const referrer = facts?.referrer;

  const at = now.toISOString();
  const program: Sender = { name: intent.program.name, senderName: intent.program.senderName, senderEmail: intent.program.senderEmail };
  const rows: NewOutboxRow[] = [];
  const step = DEAL_STEP_OF_TOPIC[intent.topic];
  const referralId = intent.referralId ?? intent.data.referral?.id ?? null;
  /**
   * A deal step's email or CRM note waits out the quiet period and replaces the held steps before
   * it (domain/quiet-period.ts). Webhooks get every step at once: machines keep their own state.
   * A digest reader's steps wait for the digest and are listed there in order.
   */
  const quietPeriod = async (channel: 'email' | 'crm', referrerId: string, digestAt?: string): Promise<Partial<NewOutboxRow>> => {
    if (digestAt) return { nextAttemptAt: digestAt };
    if (!step || !referralId) return {};
    const plan = planStepMessage({
      step,
      now: at,
      quietPeriodSeconds: intent.program.quietPeriodSeconds ?? DEFAULT_QUIET_PERIOD_SECONDS,
      earlier: (await outbox.stepMessagesOf(referralId, channel, referrerId, Object.keys(DEAL_STEP_OF_TOPIC), at)).map((m) => ({
        ...m,
        step: DEAL_STEP_OF_TOPIC[m.topic as NotificationTopic]!,
      })),
    });
    await outbox.cancel(plan.cancel);
    return plan.sendAt ? { nextAttemptAt: plan.sendAt } : { status: 'cancelled', lastError: plan.reason };
  };
  const add = (
    channel: NewOutboxRow['channel'],
    recipientKey: string,
    payload: Omit<EmailPayload, 'messageId'> | Omit<WebhookPayload, 'messageId'> | Omit<CrmPayload, 'messageId'>,
    overrides: Partial<NewOutboxRow> = {},
  ) => {
    const deliveryKey = `${sourceKey}:${channel}:${recipientKey}`;
    rows.push({
      installationId: intent.installationId,
      referralId,
      referrerId: intent.referrerId ?? null,
      channel,
      topic: intent.topic,
      deliveryKey,
      payload: { ...payload, messageId: messageIdFor(deliveryKey) },
      status: 'pending',
      nextAttemptAt: at,
      createdAt: at,
      ...overrides,
    });
  };

  if (isReferrerTopic(intent.topic)) {
    if (!facts) throw new Error(`${intent.topic} is told to a referrer: referrerId is required`);
    const { referrer, endpointIds } = facts;
    const base = {
      topic: intent.topic,
      occurredAt: at,
      program,
      audience: 'referrer' as const,
      data: referrerView(intent.data, intent.program.discretion),
    };
    // An ask is a personal note sent at the moment it is made: never held for a digest.
    const digestAt = referrer.digest && intent.topic !== 'referral.ask' ? nextDigestAt(now).toISOString() : undefined;
    add(
      'email',
      referrer.id,
      { ...base, to: { name: referrer.name, email: referrer.email }, ...(digestAt ? { digestAt } : {}) },
      referrer.emailOptOut
        ? { status: 'suppressed', lastError: 'referrer unsubscribed from email' }
        : await quietPeriod('email', referrer.id, digestAt),
    );
    for (const endpointId of endpointIds) add('webhook', endpointId, { ...base, endpointId });
    if (intent.crmNote && referrer.crmPersonType && referrer.crmPersonId) {
      add(
        'crm',
        referrer.id,
        { ...base, person: { objectType: referrer.crmPersonType, id: referrer.crmPersonId } },
        await quietPeriod('crm', referrer.id),
      );
    }
  } else if (intent.crmCompany) {
    const company = intent.crmCompany;
    add('crm', `company:${company.id}`, {
      topic: intent.topic,
      occurredAt: at,
      program,
      audience: 'internal',
      data: internalView(intent.data, referrer),
      company,
    });
  } else if (intent.crmRecord) {
    const person = intent.crmRecord;
    add('crm', `${person.objectType}:${person.id}`, {
      topic: intent.topic,
      occurredAt: at,
      program,
      audience: 'internal',
      data: internalView(intent.data, referrer),
      person,
    });
  } else {
    if (!intent.recipient)
      throw new Error(`${intent.topic} is told by email to one person or noted on a CRM record: recipient or crmRecord is required`);
    const referee = isRefereeTopic(intent.topic);
    if (referee && intent.referrerId) throw new Error(`${intent.topic} is told to the referee: it carries no referrer`);
    add('email', intent.recipient.email.toLowerCase(), {
      topic: intent.topic,
      occurredAt: at,
      program,
      audience: referee ? 'referee' : 'internal',
      data: internalView(intent.data, referrer),
      to: intent.recipient,
    });
  }
  return await outbox.add(rows);
}

/** The notifier's notice to the program admin (the program's sender address). */
export async function enqueueEndpointDisabledNotice(
  outbox: Store['outbox'],
  notice: { installationId: string; program: Sender; endpoint: NonNullable<VisibleData['endpoint']>; referrer: ReferrerRow | undefined },
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const deliveryKey = `webhook_endpoint.disabled:${notice.endpoint.id}:${notice.endpoint.failingSince}:email:admin`;
  const payload: EmailPayload = {
    topic: 'webhook_endpoint.disabled',
    messageId: messageIdFor(deliveryKey),
    occurredAt: at,
    program: notice.program,
    audience: 'internal',
    data: { ...internalView({}, notice.referrer), endpoint: notice.endpoint },
    to: { name: notice.program.senderName, email: notice.program.senderEmail },
  };
  await outbox.add([
    {
      installationId: notice.installationId,
      channel: 'email',
      topic: payload.topic,
      deliveryKey,
      payload,
      status: 'pending',
      nextAttemptAt: at,
      createdAt: at,
    },
  ]);
}

/**
 * What enqueueing checks first: a message to a referrer reads everything it checks in one store
 * call; one about no referrer needs only to know whether it was enqueued before.
 */
async function factsOf(outbox: Store['outbox'], intent: NotificationIntent): Promise<ReferrerMessageFacts | 'enqueued before' | null> {
  const { installationId, referrerId, sourceKey } = intent;
  if (!referrerId) return (await outbox.enqueuedBefore(sourceKey)) ? 'enqueued before' : null;
  const facts = await outbox.referrerMessageFacts(installationId, referrerId, {
    sourceKey,
    referralId: intent.referralId ?? intent.data.referral?.id ?? null,
    rewardId: intent.data.reward?.id ?? null,
  });
  if (facts) return facts;
  // A replay is answered as a replay even when the referrer is gone; anything else needs them.
  if (await outbox.enqueuedBefore(sourceKey)) return 'enqueued before';
  throw new Error(`Referrer ${referrerId} not found in installation ${installationId}`);
}

/** A referrer is only ever told about their own referrals and rewards. */
function assertOwnData(intent: NotificationIntent, facts: ReferrerMessageFacts | null): void {
  const { referral, reward } = intent.data;
  if (referral && intent.referralId && referral.id !== intent.referralId) {
    throw new Error(`Intent data is about referral ${referral.id}, not ${intent.referralId}`);
  }
  if (!intent.referrerId || !facts) return;
  const referralId = intent.referralId ?? referral?.id;
  if (referralId && facts.referrerOfReferral !== intent.referrerId)
    throw new Error(`Referral ${referralId} does not belong to referrer ${intent.referrerId}`);
  if (reward && facts.referrerOfReward !== intent.referrerId)
    throw new Error(`Reward ${reward.id} does not belong to referrer ${intent.referrerId}`);
}

import type { RefereeNaming } from '../domain/program.ts';

/** Moments told to a referrer (email, webhook, CRM note). Qualified is told as in_sales_process. */
export const REFERRER_TOPICS = [
  'referral.received',
  'referral.accepted',
  'referral.declined',
  'referral.contacted',
  'referral.in_sales_process',
  'referral.won',
  'referral.lost',
  'reward.approved',
  'reward.paid',
  'referrer.promoted',
  /** A reward was earned and waits for approval (pending). */
  'reward.earned',
  /** An approver rejected the reward; `data.reward.reason` says why. */
  'reward.rejected',
  /** A paid reward was clawed back (the deal was reopened, lost or deleted); netted in the next payout. */
  'reward.recovered',
  /** A CSM asks the account's champion for referrals; `data.ask` carries who asks and their line. */
  'referral.ask',
] as const;

/**
 * Notices to colleagues (rep, CS owner, finance), by email to `intent.recipient`, or as a note on the
 * CRM record `intent.crmRecord` (a rep's own submission that was not accepted).
 */
export const INTERNAL_TOPICS = [
  'account.eligible',
  /** A referral ask went to the account's champion: noted on the company's CRM timeline (`intent.crmCompany`). */
  'account.asked',
  /** The vendor's product reported a milestone of the account: noted on the company's CRM timeline (`intent.crmCompany`). */
  'account.milestone',
  'referral.arrived_internal',
  'deal.claimed',
  'finance.rewards_digest',
  'referral.rejected_internal',
] as const;

/** Notices to the referred person (dual-sided programs), by email to `intent.recipient`: their own reward only. */
export const REFEREE_TOPICS = ['referee.reward_earned'] as const;

export type ReferrerTopic = (typeof REFERRER_TOPICS)[number];
export type NotificationTopic = ReferrerTopic | (typeof INTERNAL_TOPICS)[number] | (typeof REFEREE_TOPICS)[number];

/** Everything the outbox carries, including the notifier's own notice to the program admin and portal sign-in links. */
export type OutboxTopic =
  | NotificationTopic
  | 'webhook_endpoint.disabled'
  | 'portal.sign_in'
  | 'portal.deletion_requested'
  | 'console.invite'
  | 'console.sign_in';

export function isReferrerTopic(topic: OutboxTopic): topic is ReferrerTopic {
  return (REFERRER_TOPICS as readonly string[]).includes(topic);
}

export function isRefereeTopic(topic: OutboxTopic): boolean {
  return (REFEREE_TOPICS as readonly string[]).includes(topic);
}

export interface Discretion {
  showStage: boolean;
  showReward: boolean;
  showDealAmount: boolean;
  showInternalNotes: boolean;
  /** How a referrer's messages name the referee; absent: in full. */
  refereeNaming?: RefereeNaming;
}

export interface Sender {
  /** The program's name, shown in subjects and signatures. */
  name: string;
  senderName: string;
  senderEmail: string;
}

export interface Recipient {
  name: string;
  email: string;
}

/**
 * What a message may show, already filtered by the program's discretion for referrers. It is
 * the `data` of the webhook body as documented in README-referrer-webhooks.md; amounts are in the
 * currency's major unit like the REST API.
 */
export interface VisibleData {
  referral?: {
    id: string;
    status: string;
    refereeName: string;
    refereeCompany: string | null;
    reason?: string;
    notes?: string;
  };
  deal?: { stage?: string; amount?: number | null; currency?: string };
  reward?: {
    id: string;
    amount?: number;
    currency?: string;
    status: string;
    dueDate: string;
    payoutReference?: string;
    /** Why it was rejected or recovered. */
    reason?: string;
    /** Not cash: what it is given as ("Gift card", "Donation to X", "Recognition: badge"). */
    givenAs?: string;
    /** A recognition's message to the referrer. */
    message?: string;
  };
  account?: { name: string; reasons: string[] };
  /** `referral.ask` and its company note: the ask, who signs it, and their personal line. */
  ask?: AskData;
  /** `account.milestone`: what the account did in the vendor's product, and when. */
  milestone?: MilestoneData;
  /** `referrer.promoted`: the tier the referrer moved from (null: none) and to, and why. */
  promotion?: { fromTier: string | null; toTier: string; reasons: string[] };
  /** Internal notices only: who referred. */
  referrer?: { id: string; name: string; email: string; company: string | null; type: string };
  /** Finance digest only: rewards waiting for approval and overdue ones, amounts in major units. */
  finance?: {
    date: string;
    awaitingApproval: { id: string; status: string; amount: number; currency: string; dueDate: string }[];
    overdue: { id: string; status: string; amount: number; currency: string; dueDate: string }[];
  };
  /** Portal (or console) sign-in link, asked for by the referrer (or console user); the link works once until `expiresAt`. */
  signIn?: { url: string; expiresAt: string; minutes: number };
  /** Console invite: the sign-in link (works once until `expiresAt`), the role, and who invited. */
  consoleInvite?: { url: string; expiresAt: string; hours: number; role: string; invitedBy: string };
  /** Admin notice only: the endpoint that was disabled. */
  endpoint?: { id: string; url: string; failingSince: string; lastError: string };
}

export interface MilestoneData {
  name: string;
  occurredAt: string;
  /** The person in the product who reached it, when the product said. */
  contactEmail: string | null;
}

export interface AskData {
  id: string;
  accountName: string;
  /** The champion asked, by name (the company note names them). */
  championName: string;
  askedBy: { name: string; email: string };
  message: string | null;
  /** The program's own words of the ask (`asks.template`); null: Referloop's. */
  programText: string | null;
}

interface PayloadBase {
  topic: OutboxTopic;
  /** Stable per delivery key: the `webhook-id`, the body `id`, the email Message-ID's left part. */
  messageId: string;
  occurredAt: string;
  program: Sender;
  audience: 'referrer' | 'referee' | 'internal';
  data: VisibleData;
}

export interface EmailPayload extends PayloadBase {
  to: Recipient;
  /** Set for referrers in digest mode: held until this instant, then sent in one summary. */
  digestAt?: string;
}

export interface WebhookPayload extends PayloadBase {
  endpointId: string;
}

/** A note on a person's CRM record, or (`company`) on a company's. */
export type CrmPayload = PayloadBase &
  ({ person: { objectType: 'contact' | 'lead'; id: string }; company?: never } | { company: { id: string }; person?: never });

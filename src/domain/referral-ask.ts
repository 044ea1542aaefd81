import { addDaysToInstant, instantMs } from './dates.ts';

/**
 * Referral asks: a personal email to an account's champion asking for referrals, signed by the CSM.
 * This file decides whether one may go out; the use case gathers the facts and sends it.
 */

/**
 * Who may sign an ask: the company's CS owner or account owner (HubSpot and Salesforce keep one
 * owner on a company; Referloop reads it as both, as the eligible-account notice does), or an
 * admin (the API token, and the program itself for automatic asks when the account has no owner).
 */
export const ASKERS = ['cs_owner', 'account_owner', 'admins'] as const;
export type Asker = (typeof ASKERS)[number];

/** What started an ask: a person, the account becoming eligible, or a product milestone the program names. */
export const ASK_TRIGGERS = ['manual', 'automatic', 'milestone'] as const;
export type AskTrigger = (typeof ASK_TRIGGERS)[number];

export interface AskPolicy {
  askers: Asker[];
  /** Ask automatically when an account becomes eligible to refer. */
  automatic: boolean;
  /** At most one ask the program sends by itself (automatic or milestone) per account within this many days. */
  minDaysBetweenAutomatic: number;
  /** The program's own words of the ask, in every ask email; absent: Referloop's. */
  template?: string;
  /** Product milestones (`POST /accounts/:id/milestones`) that ask the account, e.g. `onboarding_completed`. */
  milestones?: string[];
}

/** Owners and admins may ask; nothing goes out on its own until the program turns it on. */
export function defaultAskPolicy(): AskPolicy {
  return { askers: ['cs_owner', 'account_owner', 'admins'], automatic: false, minDaysBetweenAutomatic: 90 };
}

/** The program's ask settings; versions written before asks existed get the defaults. */
export function askPolicyOf(program: { asks?: AskPolicy | undefined }): AskPolicy {
  return program.asks ?? defaultAskPolicy();
}

export interface AskFacts {
  trigger: AskTrigger;
  /** The account's latest eligibility decision; null when it was never evaluated. */
  eligibility: { eligible: boolean; failing: string[] } | null;
  /**
   * The contact asked; null when the company has none. `emailOptOut`: opted out in the CRM;
   * `unsubscribed`: unsubscribed from the program's emails (as a referrer).
   */
  champion: { email: string | null; emailOptOut: boolean; unsubscribed: boolean } | null;
  /** The ask is signed by the company's owner in the CRM. */
  signedByOwner: boolean;
  /** An admin asks (API token), or the program asks by itself (automatic). */
  askedByAdmin: boolean;
  /** When the account's latest ask the program sent by itself (automatic or milestone) went out; null when none did. */
  lastAutomaticAskAt: string | null;
  now: string;
}

export type AskRefusal = 'not_eligible' | 'no_champion' | 'champion_no_email' | 'champion_opted_out' | 'asker_not_allowed' | 'too_soon';

export type AskDecision = { send: true } | { send: false; refusal: AskRefusal; reasons: string[] };

/** Whether an ask may go out; every failing condition is named, the first one sets the refusal. */
export function decideAsk(facts: AskFacts, policy: AskPolicy): AskDecision {
  const failures: { refusal: AskRefusal; reason: string }[] = [];
  if (!facts.eligibility) failures.push({ refusal: 'not_eligible', reason: 'the account was never evaluated for eligibility' });
  else if (!facts.eligibility.eligible)
    failures.push({
      refusal: 'not_eligible',
      reason: `the account is not eligible to refer: ${facts.eligibility.failing.join('; ') || 'a rule fails'}`,
    });
  if (!facts.champion) failures.push({ refusal: 'no_champion', reason: 'the company has no contact to ask' });
  else if (!facts.champion.email) failures.push({ refusal: 'champion_no_email', reason: 'the contact has no email address' });
  else if (facts.champion.emailOptOut)
    failures.push({ refusal: 'champion_opted_out', reason: 'the contact opted out of email in the CRM' });
  else if (facts.champion.unsubscribed)
    failures.push({ refusal: 'champion_opted_out', reason: "the contact unsubscribed from the program's emails" });
  if (!askerAllowed(facts, policy))
    failures.push({
      refusal: 'asker_not_allowed',
      reason: `the program lets only ${policy.askers.join(', ') || 'no one'} ask; this ask comes from ${
        facts.askedByAdmin ? 'an admin' : 'a CRM user'
      } and is signed by ${facts.signedByOwner ? 'the company owner' : 'someone other than the company owner'}`,
    });
  // The program's own asks (on eligibility or a product milestone) share one period per account.
  if (facts.trigger !== 'manual' && facts.lastAutomaticAskAt) {
    const next = addDaysToInstant(facts.lastAutomaticAskAt, policy.minDaysBetweenAutomatic);
    if (instantMs(facts.now) < instantMs(next))
      failures.push({
        refusal: 'too_soon',
        reason: `an automatic ask went out on ${facts.lastAutomaticAskAt.slice(0, 10)}; the next may go out from ${next.slice(0, 10)}`,
      });
  }
  const [first] = failures;
  return first ? { send: false, refusal: first.refusal, reasons: failures.map((f) => f.reason) } : { send: true };
}

function askerAllowed(facts: AskFacts, policy: AskPolicy): boolean {
  const owners = policy.askers.includes('cs_owner') || policy.askers.includes('account_owner');
  return (facts.signedByOwner && owners) || (facts.askedByAdmin && policy.askers.includes('admins'));
}

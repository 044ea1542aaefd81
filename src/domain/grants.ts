import { formatMoney } from './money.ts';

// What a reward rule grants: money paid out (the default), or something else of value. Pure:
// which grants are money, which need approval, and how each one reaches the referrer.

/** What a rule may grant besides cash. Recognition carries no amount. */
export type RuleGrant =
  | { kind: 'account_credit' }
  | { kind: 'gift_card' }
  | { kind: 'donation'; charity: string }
  | { kind: 'recognition'; badge: string; message: string };

/** What a reward is given as: a rule without a grant pays cash. */
export type Grant = { kind: 'cash' } | RuleGrant;
export type GrantKind = Grant['kind'];

export const GRANT_KINDS = ['cash', 'account_credit', 'gift_card', 'donation', 'recognition'] as const satisfies readonly GrantKind[];

export const CASH: Grant = { kind: 'cash' };

/** The grant of a rule (or of a stored reward): absent or null is cash. */
export function grantOf(source: { grant?: RuleGrant | null } | null | undefined): Grant {
  return source?.grant ?? CASH;
}

/** Cash, account credits, gift cards and donations are money in the ledger and in payout runs; recognition is not. */
export function isMoneyGrant(grant: Grant): boolean {
  return grant.kind !== 'recognition';
}

/**
 * Whether a reward of this grant waits for an approver. Money over the threshold does (strictly
 * over, as for cash); recognition costs nothing and is given at once.
 */
export function grantNeedsApproval(grant: Grant, amountCents: number, thresholdCents: number): boolean {
  return isMoneyGrant(grant) && amountCents > thresholdCents;
}

/**
 * How a grant reaches the referrer:
 * - `payout_line`: cash, in a payout run (CSV or the provider's cash product);
 * - `provider_product`: gift cards and donations, in a payout run, sent as the provider's product of that kind;
 * - `crm_company_note`: an account credit, written on the referrer's company in the CRM, then delivered;
 * - `given_at_once`: recognition, paid the moment it is earned, never in a payout run.
 */
export type Fulfilment =
  | { via: 'payout_line'; product: 'cash' }
  | { via: 'provider_product'; product: 'gift_card' | 'donation'; charity?: string }
  | { via: 'crm_company_note' }
  | { via: 'given_at_once' };

export function fulfilmentOf(grant: Grant): Fulfilment {
  switch (grant.kind) {
    case 'cash':
      return { via: 'payout_line', product: 'cash' };
    case 'gift_card':
      return { via: 'provider_product', product: 'gift_card' };
    case 'donation':
      return { via: 'provider_product', product: 'donation', charity: grant.charity };
    case 'account_credit':
      return { via: 'crm_company_note' };
    case 'recognition':
      return { via: 'given_at_once' };
  }
}

/** What a referrer reads in "Given as": Cash, Account credit, Gift card, Donation to X, Recognition: badge. */
export function grantLabel(grant: Grant): string {
  switch (grant.kind) {
    case 'cash':
      return 'Cash';
    case 'account_credit':
      return 'Account credit';
    case 'gift_card':
      return 'Gift card';
    case 'donation':
      return `Donation to ${grant.charity}`;
    case 'recognition':
      return `Recognition: ${grant.badge}`;
  }
}

/** The reason a reward's grant adds to its reasons, naming the amount where there is one. */
export function grantReason(grant: Grant, amountCents: number, currency: string): string {
  const money = formatMoney(amountCents, currency);
  switch (grant.kind) {
    case 'cash':
      return `paid as cash (${money})`;
    case 'account_credit':
      return `given as an account credit of ${money}, written on the referrer's company in the CRM`;
    case 'gift_card':
      return `given as a gift card of ${money} through the payout provider`;
    case 'donation':
      return `given as a donation of ${money} to ${grant.charity} in the referrer's name`;
    case 'recognition':
      return `given as recognition (badge "${grant.badge}": ${grant.message}), no money: marked paid at once`;
  }
}

/**
 * Payout lines are per payee, currency and this key: a gift card and cash to one referrer are two
 * lines, and donations to two charities are two orders.
 */
export function grantLineKey(grant: Grant): string {
  return grant.kind === 'donation' ? `donation:${grant.charity}` : grant.kind;
}

/**
 * The one interface every payout provider sits behind, as `connectors/connector.ts` is for CRMs.
 * The app knows this file and `connectors/payouts/registry.ts` only; each provider folder
 * (`connectors/payouts/tremendous`) implements it. A provider never imports `src/` beyond the
 * domain's money conversions.
 */

/** What a reward becomes at the provider: a product the recipient receives. */
export type PayoutProductKind = 'cash' | 'gift_card' | 'donation';

/** One payee's share of a payout run, sent as one order. */
export interface PayoutOrder {
  /**
   * Derived from run + payee + currency by the caller: the provider answers a repeat with the
   * first order, so a crash between "sent" and "recorded" never pays twice.
   */
  idempotencyKey: string;
  recipient: { name: string; email: string };
  amountCents: number;
  currency: string;
  product: PayoutProductKind;
  /** Donations: the charity the referrer chose, as the provider names it. */
  charity?: string;
}

/** The provider's answer to an order: accepted (delivery comes later, by webhook) or refused. */
export type PayoutOrderResult =
  | { outcome: 'accepted'; providerOrderId: string; providerRewardId: string; status: 'pending' | 'delivered' }
  | { outcome: 'refused'; reason: string };

/** A verified provider webhook, reduced to what reconciliation needs. */
export type PayoutEvent =
  | { kind: 'delivered'; eventId: string; providerRewardId: string; occurredAt: string }
  | { kind: 'failed'; eventId: string; providerRewardId: string; occurredAt: string; reason: string; retryable: boolean }
  /** Events Referloop does not act on (campaigns, invoices...): acknowledged, nothing changes. */
  | { kind: 'ignored'; eventId: string; event: string };

export type PayoutProviderErrorCode =
  | 'auth' // the API key is wrong or revoked: no retry helps until it is fixed
  | 'rate_limited'
  | 'invalid' // the request itself is wrong
  | 'unavailable'; // 5xx, timeouts, connection failures: retry with the same idempotency key

export class PayoutProviderError extends Error {
  override readonly name = 'PayoutProviderError';
  constructor(
    readonly code: PayoutProviderErrorCode,
    message: string,
    readonly options: { retryable: boolean; status?: number; cause?: unknown } = { retryable: false },
  ) {
    super(message, { cause: options.cause });
  }

  get retryable(): boolean {
    return this.options.retryable;
  }
}

/** Why a webhook was refused: the route answers 401 and changes nothing. */
export class PayoutWebhookRefused extends Error {
  override readonly name = 'PayoutWebhookRefused';
}

export interface PayoutProvider {
  readonly kind: string;
  /**
   * Places one order. Safe to repeat with the same `idempotencyKey`: the second answer is the
   * first order. A refusal the provider states (invalid email, insufficient funds) is a result;
   * anything that leaves the outcome unknown throws {@link PayoutProviderError}.
   */
  sendOrder(order: PayoutOrder): Promise<PayoutOrderResult>;
  /** Verifies a webhook's signature over its raw body and parses it; throws {@link PayoutWebhookRefused}. */
  verifyWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): PayoutEvent;
}

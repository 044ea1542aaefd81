import { minorUnitsToDecimal } from '../../../src/domain/money.ts';
import {
  type PayoutEvent,
  type PayoutOrder,
  type PayoutOrderResult,
  type PayoutProductKind,
  type PayoutProvider,
  PayoutProviderError,
} from '../provider.ts';
import { verifyTremendousWebhook } from './verify-webhook.ts';

/**
 * Tremendous's rewards API (https://developers.tremendous.com/reference/create-order): one order
 * per payee, `external_id` as the idempotency key, a single product per reward chosen by kind.
 */
export interface TremendousSettings {
  /** `https://testflight.tremendous.com/api/v2` (Tremendous's sandbox), production, or the emulator. */
  baseUrl: string;
  apiKey: string;
  webhookSecret: string;
  /** `balance` draws on the account's Tremendous balance. */
  fundingSourceId: string;
  /** The product ids (catalog ids differ between environments) each kind of reward is sent as. */
  products: Record<PayoutProductKind, string>;
  /** A call that has not answered by then is `unavailable`: retried with the same external_id. */
  timeoutMs: number;
}

/** `reward.delivery.status` values that mean the recipient already has it. */
const DELIVERED_STATUSES = new Set(['SUCCEEDED']);

export function createTremendousProvider(settings: TremendousSettings): PayoutProvider {
  return {
    kind: 'tremendous',
    sendOrder: (order) => sendOrder(settings, order),
    verifyWebhook: (rawBody, headers): PayoutEvent => verifyTremendousWebhook(settings.webhookSecret, rawBody, headers),
  };
}

async function sendOrder(settings: TremendousSettings, order: PayoutOrder): Promise<PayoutOrderResult> {
  const body = {
    external_id: order.idempotencyKey,
    payment: { funding_source_id: settings.fundingSourceId },
    reward: {
      value: { denomination: Number(minorUnitsToDecimal(order.amountCents, order.currency)), currency_code: order.currency },
      delivery: { method: 'EMAIL' },
      recipient: { name: order.recipient.name, email: order.recipient.email },
      products: [settings.products[order.product]],
      ...(order.charity ? { custom_fields: [{ label: 'charity', value: order.charity }] } : {}),
    },
  };
  let response: Response;
  try {
    response = await fetch(`${settings.baseUrl.replace(/\/+$/, '')}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${settings.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
  } catch (cause) {
    throw new PayoutProviderError('unavailable', `Tremendous did not answer: ${(cause as Error).message}`, { retryable: true, cause });
  }
  const answer = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  // 200 executed, 201 the repeat of an external_id already used, 202 held for approval.
  if (response.status >= 200 && response.status < 300) return acceptedOrder(answer);
  const message = errorMessage(answer) ?? `HTTP ${response.status}`;
  if (response.status === 401 || response.status === 403)
    throw new PayoutProviderError('auth', `Tremendous refused the API key: ${message}`, { retryable: false, status: response.status });
  if (response.status === 429)
    throw new PayoutProviderError('rate_limited', `Tremendous rate limit: ${message}`, { retryable: true, status: response.status });
  if (response.status >= 500)
    throw new PayoutProviderError('unavailable', `Tremendous failed: ${message}`, { retryable: true, status: response.status });
  // 400/402/422: the order itself was refused (invalid email, insufficient funds): a stated outcome.
  return { outcome: 'refused', reason: message };
}

function acceptedOrder(answer: Record<string, unknown> | undefined): PayoutOrderResult {
  const order = answer?.order as { id?: unknown; rewards?: { id?: unknown; delivery?: { status?: unknown } }[] } | undefined;
  const reward = order?.rewards?.[0];
  if (typeof order?.id !== 'string' || typeof reward?.id !== 'string')
    throw new PayoutProviderError('unavailable', 'Tremendous answered an order without its id or reward', { retryable: true });
  const delivered = DELIVERED_STATUSES.has(String(reward.delivery?.status ?? ''));
  return { outcome: 'accepted', providerOrderId: order.id, providerRewardId: reward.id, status: delivered ? 'delivered' : 'pending' };
}

/** Tremendous's error body: `{errors: {message, payload}}`. */
function errorMessage(answer: Record<string, unknown> | undefined): string | undefined {
  const errors = answer?.errors as { message?: unknown; payload?: unknown } | undefined;
  if (typeof errors?.message !== 'string') return undefined;
  const details = errors.payload && typeof errors.payload === 'object' ? ` (${JSON.stringify(errors.payload)})` : '';
  return `${errors.message}${details}`;
}

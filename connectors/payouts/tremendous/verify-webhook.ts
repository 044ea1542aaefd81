import { createHmac, timingSafeEqual } from 'node:crypto';
import { type PayoutEvent, PayoutWebhookRefused } from '../provider.ts';

/**
 * Tremendous signs each webhook's raw body with HMAC-SHA256 keyed by the webhook's private key and
 * sends `Tremendous-Webhook-Signature: sha256=<hex>` (events: https://developers.tremendous.com/docs/webhooks-1;
 * where the header format comes from: tests/fixtures/tremendous/README.md).
 */
export const SIGNATURE_HEADER = 'tremendous-webhook-signature';

export function signTremendousBody(secret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

export function verifyTremendousWebhook(
  secret: string,
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
): PayoutEvent {
  const header = headers[SIGNATURE_HEADER];
  const given = Buffer.from(String(Array.isArray(header) ? header[0] : (header ?? '')));
  const expected = Buffer.from(signTremendousBody(secret, rawBody));
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new PayoutWebhookRefused('the Tremendous-Webhook-Signature does not match the body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new PayoutWebhookRefused('the webhook body is not JSON');
  }
  return parseTremendousEvent(parsed);
}

/** `{event, uuid, created_utc, payload: {resource: {id, type}, meta}}` (fixtures in tests/fixtures/tremendous). */
function parseTremendousEvent(body: unknown): PayoutEvent {
  const event = body as {
    event?: unknown;
    uuid?: unknown;
    created_utc?: unknown;
    payload?: { resource?: { id?: unknown; type?: unknown }; meta?: { failure_reason?: unknown; retryable?: unknown } };
  };
  if (typeof event?.event !== 'string' || typeof event.uuid !== 'string')
    throw new PayoutWebhookRefused('the webhook names no event or uuid');
  const resourceId = event.payload?.resource?.id;
  const occurredAt = typeof event.created_utc === 'string' ? new Date(event.created_utc).toISOString() : new Date().toISOString();
  if (event.event === 'REWARDS.DELIVERY.SUCCEEDED' && typeof resourceId === 'string')
    return { kind: 'delivered', eventId: event.uuid, providerRewardId: resourceId, occurredAt };
  if (event.event === 'REWARDS.DELIVERY.FAILED' && typeof resourceId === 'string')
    return {
      kind: 'failed',
      eventId: event.uuid,
      providerRewardId: resourceId,
      occurredAt,
      reason: typeof event.payload?.meta?.failure_reason === 'string' ? event.payload.meta.failure_reason : 'delivery_failed',
      retryable: event.payload?.meta?.retryable === true,
    };
  return { kind: 'ignored', eventId: event.uuid, event: event.event };
}

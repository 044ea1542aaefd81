import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { CrmEvent, CrmWebhooks, HttpReply, InboundRequest, ParsedWebhook, Verdict } from '../connector.ts';

/**
 * The fake CRM's own webhook format: a JSON body `{ events: CrmEvent[] }`, signed with
 * HMAC-SHA256 over `<timestamp>.<raw body>` in `x-fake-signature: v1=<hex>`, the timestamp (ms)
 * in `x-fake-timestamp`. Deliveries older than five minutes are refused as replays.
 */
export const SIGNATURE_HEADER = 'x-fake-signature';
export const TIMESTAMP_HEADER = 'x-fake-timestamp';
const MAX_AGE_MS = 5 * 60_000;
const MAX_BODY_BYTES = 256 * 1024;

const objectTypeSchema = z.enum(['contact', 'lead', 'company', 'deal']);
const eventSchema = z.object({
  accountId: z.string().min(1),
  eventKey: z.string().min(1),
  objectType: objectTypeSchema,
  objectId: z.string().min(1),
  change: z.enum(['created', 'updated', 'deleted', 'merged', 'restored', 'associated']),
  occurredAt: z.iso.datetime(),
  related: z.array(z.object({ objectType: objectTypeSchema, objectId: z.string().min(1) })).optional(),
  property: z.string().optional(),
});
const bodySchema = z.object({ events: z.array(z.unknown()) });

export function signature(secret: string, timestamp: string, rawBody: Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

/** A delivery as the fake CRM would send it to `url`. */
export function signedRequest(secret: string, url: string, events: CrmEvent[], now: Date): InboundRequest {
  const rawBody = Buffer.from(JSON.stringify({ events }));
  const timestamp = String(now.getTime());
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: signature(secret, timestamp, rawBody),
    },
    rawBody,
  };
}

function verify(secret: string, request: InboundRequest, now: Date): Verdict {
  const timestamp = request.headers[TIMESTAMP_HEADER];
  const given = request.headers[SIGNATURE_HEADER];
  if (!timestamp || !given) return { ok: false, reason: `missing ${TIMESTAMP_HEADER} or ${SIGNATURE_HEADER} header` };
  const sentAt = Number(timestamp);
  if (!Number.isFinite(sentAt) || Math.abs(now.getTime() - sentAt) > MAX_AGE_MS)
    return { ok: false, reason: 'timestamp older than five minutes (a replay, or a wrong clock)' };
  const expected = Buffer.from(signature(secret, timestamp, request.rawBody));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { ok: false, reason: 'signature mismatch: signed with another secret, or the body was re-serialized' };
  }
  return { ok: true };
}

function parse(request: InboundRequest): ParsedWebhook {
  let json: unknown;
  try {
    json = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const body = bodySchema.safeParse(json);
  if (!body.success) return { ok: false, reason: 'body must be { events: [...] }' };
  const events: CrmEvent[] = [];
  const accountIds = new Set<string>();
  let ignored = 0;
  for (const raw of body.data.events) {
    const event = eventSchema.safeParse(raw);
    if (event.success) events.push(event.data);
    else ignored += 1;
    // An ignored event still names its sender, as the real connectors' events do.
    const accountId = event.success ? event.data.accountId : (raw as { accountId?: unknown } | null)?.accountId;
    if (typeof accountId === 'string') accountIds.add(accountId);
  }
  return { ok: true, events, ignored, accountIds: [...accountIds] };
}

const json = (status: number, body: unknown): HttpReply => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(body),
});

export function createFakeWebhooks(secret: string): CrmWebhooks {
  return {
    maxBodyBytes: MAX_BODY_BYTES,
    unknownAccount: 'record',
    verify: (request, now) => verify(secret, request, now),
    parse,
    acknowledge: () => json(200, { received: true }),
    refuse: (status, message) => json(status, { error: message }),
  };
}

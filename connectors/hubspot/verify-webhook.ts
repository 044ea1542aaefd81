import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InboundRequest, Verdict } from '../connector.ts';

/**
 * HubSpot request signature v3, checked over the raw bytes.
 * https://developers.hubspot.com/docs/api/webhooks/validating-requests
 */

const MAX_TIMESTAMP_SKEW_MS = 5 * 60_000;

// Only these escapes are decoded before signing; everything else stays as received.
const DECODED_ESCAPES: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function decodeSignedUri(uri: string): string {
  return uri.replace(/%[0-9A-Fa-f]{2}/g, (sequence) => DECODED_ESCAPES[sequence.toUpperCase()] ?? sequence);
}

/** base64(HMAC-SHA256(clientSecret, method + decodedUri + rawBody + timestamp)). */
export function signV3(clientSecret: string, method: string, uri: string, rawBody: Buffer | string, timestamp: string): string {
  return createHmac('sha256', clientSecret)
    .update(method.toUpperCase() + decodeSignedUri(uri), 'utf8')
    .update(rawBody)
    .update(timestamp, 'utf8')
    .digest('base64');
}

function header(headers: InboundRequest['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

export function verifyHubSpotSignature(request: InboundRequest, clientSecret: string, now: Date): Verdict {
  const signature = header(request.headers, 'x-hubspot-signature-v3');
  const timestamp = header(request.headers, 'x-hubspot-request-timestamp');
  if (!signature || !timestamp) {
    return { ok: false, reason: 'missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header' };
  }
  const sentAt = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(sentAt)) {
    return { ok: false, reason: 'X-HubSpot-Request-Timestamp is not epoch milliseconds' };
  }
  if (Math.abs(now.getTime() - sentAt) > MAX_TIMESTAMP_SKEW_MS) {
    return { ok: false, reason: 'stale request: X-HubSpot-Request-Timestamp is more than 5 minutes from now (replay, or a wrong clock)' };
  }
  const expected = Buffer.from(signV3(clientSecret, request.method, request.url, request.rawBody, timestamp), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      reason:
        'signature mismatch: HubSpot signs method + the full public URL (scheme, host, path, query; behind a proxy use ' +
        'PUBLIC_BASE_URL, not the internal address) + the raw body bytes (not re-serialized JSON) + the timestamp, ' +
        "keyed with the app's client secret",
    };
  }
  return { ok: true };
}

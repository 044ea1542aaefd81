import { Signature } from '@hubspot/api-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InboundRequest } from '../../../connectors/connector.ts';
import { decodeSignedUri, signV3, verifyHubSpotSignature } from '../../../connectors/hubspot/verify-webhook.ts';
import { sampleJson } from '../../fixtures/hubspot/samples.ts';

interface Vector {
  name: string;
  signatureVersion: string;
  clientSecret: string;
  method: string;
  uri?: string;
  uriAsReceived?: string;
  uriAsSigned?: string;
  rawBody: string;
  timestamp: number;
  expected: Record<string, string>;
  note?: string;
}

const vectors = sampleJson<{ vectors: Vector[] }>('webhooks/signature-vectors.json').vectors.filter((v) => v.signatureVersion === 'v3');
const vector = (name: string) => {
  const found = vectors.find((v) => v.name === name);
  if (!found) throw new Error(`no vector ${name}`);
  return found;
};

function request(v: Vector, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: v.method,
    url: v.uriAsReceived ?? v.uri ?? '',
    headers: { 'x-hubspot-signature-v3': v.expected['X-HubSpot-Signature-v3'], 'x-hubspot-request-timestamp': String(v.timestamp) },
    rawBody: Buffer.from(v.rawBody),
    ...overrides,
  };
}

const justAfter = (v: Vector) => new Date(v.timestamp + 30_000);

describe('HubSpot signature v3 with the sample vectors', () => {
  it.each(['v3-doc-inputs-fixed-timestamp', 'v3-deal-batch', 'v3-uri-decoding'])('accepts %s', (name) => {
    const v = vector(name);
    expect(verifyHubSpotSignature(request(v), v.clientSecret, justAfter(v))).toEqual({ ok: true });
  });

  it('rejects a wrong client secret', () => {
    const v = vector('v3-deal-batch');
    const verdict = verifyHubSpotSignature(request(v), 'not-the-secret', justAfter(v));
    expect(verdict).toEqual({ ok: false, reason: expect.stringContaining('signature mismatch') });
  });

  it('rejects a tampered body, even re-serialized JSON of the same events', () => {
    const v = vector('v3-deal-batch');
    const tampered = v.rawBody.replace('closedwon', 'closedlost');
    const reserialized = JSON.stringify(JSON.parse(v.rawBody), null, 1);
    for (const body of [tampered, reserialized]) {
      expect(verifyHubSpotSignature(request(v, { rawBody: Buffer.from(body) }), v.clientSecret, justAfter(v)).ok).toBe(false);
    }
  });

  it('rejects timestamps more than 5 minutes away, in either direction', () => {
    const v = vector('v3-doc-inputs-fixed-timestamp');
    const stale = verifyHubSpotSignature(request(v), v.clientSecret, new Date(v.timestamp + 5 * 60_000 + 1));
    expect(stale).toEqual({ ok: false, reason: expect.stringContaining('stale') });
    expect(verifyHubSpotSignature(request(v), v.clientSecret, new Date(v.timestamp - 5 * 60_000 - 1)).ok).toBe(false);
    expect(verifyHubSpotSignature(request(v), v.clientSecret, new Date(v.timestamp + 5 * 60_000)).ok).toBe(true);
  });

  it('decodes only the documented escapes of the received URI before signing', () => {
    const v = vector('v3-uri-decoding');
    expect(decodeSignedUri(v.uriAsReceived ?? '')).toBe(v.uriAsSigned);
    expect(decodeSignedUri('https://x.example/a%20b?q=%3a%2f')).toBe('https://x.example/a%20b?q=:/');
    const undecoded = /EWq\+[^ ]+=/.exec(v.note ?? '')?.[0] ?? '';
    const withUndecoded = request(v, {
      headers: { 'x-hubspot-signature-v3': undecoded, 'x-hubspot-request-timestamp': String(v.timestamp) },
    });
    expect(verifyHubSpotSignature(withUndecoded, v.clientSecret, justAfter(v)).ok).toBe(false);
  });

  it('accepts the delivery envelope sample as HubSpot sends it (mixed-case headers)', () => {
    const envelope = sampleJson<{ method: string; url: string; headers: Record<string, string>; clientSecret: string; rawBody: string }>(
      'webhooks/delivery-envelope-example.json',
    );
    const inbound: InboundRequest = {
      method: envelope.method,
      url: envelope.url,
      headers: envelope.headers,
      rawBody: Buffer.from(envelope.rawBody),
    };
    const sentAt = Number(envelope.headers['X-HubSpot-Request-Timestamp']);
    expect(verifyHubSpotSignature(inbound, envelope.clientSecret, new Date(sentAt + 1000))).toEqual({ ok: true });
  });

  it('refuses missing headers, non-numeric timestamps and signatures of the wrong length without throwing', () => {
    const v = vector('v3-deal-batch');
    const now = justAfter(v);
    expect(verifyHubSpotSignature(request(v, { headers: {} }), v.clientSecret, now)).toEqual({
      ok: false,
      reason: expect.stringContaining('missing'),
    });
    const badTs = request(v, { headers: { 'x-hubspot-signature-v3': 'x', 'x-hubspot-request-timestamp': '2026-11-21' } });
    expect(verifyHubSpotSignature(badTs, v.clientSecret, now).ok).toBe(false);
    const short = request(v, { headers: { 'x-hubspot-signature-v3': 'abc', 'x-hubspot-request-timestamp': String(v.timestamp) } });
    expect(verifyHubSpotSignature(short, v.clientSecret, now).ok).toBe(false);
  });
});

describe('signV3 agrees with HubSpot SDK Signature.getSignature (over the decoded URI)', () => {
  it('for arbitrary bodies, paths and timestamps', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.webPath(),
        fc.string({ minLength: 1 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        (body, webPath, secret, ts) => {
          const url = `https://sync.example.com${webPath}?ref=ops%40example.com`;
          const sdk = Signature.getSignature('POST', 'v3', {
            signature: '',
            clientSecret: secret,
            requestBody: body,
            url: decodeSignedUri(url),
            timestamp: ts,
          });
          expect(signV3(secret, 'POST', url, Buffer.from(body), String(ts))).toBe(sdk);
        },
      ),
      { numRuns: 50 },
    );
  });
});

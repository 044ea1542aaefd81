import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { isPrivateAddress } from './endpoint-url.ts';

export interface WebhookMessage {
  /** `webhook-id`: stable across retries so the receiver deduplicates. */
  id: string;
  /** `webhook-timestamp`: the attempt's time, signed, so receivers can refuse stale replays. */
  timestamp: Date;
  body: string;
}

export type WebhookResult = { ok: true; status: number } | { ok: false; error: string };

/** The webhook port: one signed POST per call. */
export interface WebhookChannel {
  send(url: string, secret: string, message: WebhookMessage): Promise<WebhookResult>;
}

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The three Standard Webhooks headers, signed by the reference library (v1 HMAC-SHA256 over
 * `id.timestamp.body`). https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export function signedHeaders(secret: string, message: WebhookMessage): Record<string, string> {
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(Math.floor(message.timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(message.id, message.timestamp, message.body),
  };
}

/** Refuses at connect time a host that resolves to a private address (DNS rebinding after setup). */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, options, (err, address, family) => {
    if (err) return callback(err, address, family);
    const addresses = typeof address === 'string' ? [address] : address.map((a) => a.address);
    const blocked = addresses.find(isPrivateAddress);
    if (blocked) return callback(new Error(`${hostname} resolves to private address ${blocked}`), address, family);
    callback(null, address, family);
  });
};

/**
 * POSTs over node:http(s) rather than fetch to control the DNS lookup. Only 2xx counts as
 * delivered; redirects are not followed (a 3xx is a failure) so a URL cannot bounce us inward.
 */
export function createWebhookChannel(options: { allowPrivateEndpoints: boolean; timeoutMs?: number }): WebhookChannel {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    send(url, secret, message) {
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (!options.allowPrivateEndpoints && isIP(host) && isPrivateAddress(host)) {
        return Promise.resolve({ ok: false, error: `${host} is a private address` });
      }
      return new Promise((resolve) => {
        const request = (target.protocol === 'https:' ? https : http).request(
          target,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(message.body),
              'user-agent': 'Referloop-Webhooks/1',
              ...signedHeaders(secret, message),
            },
            signal: AbortSignal.timeout(timeoutMs),
            ...(options.allowPrivateEndpoints ? {} : { lookup: publicOnlyLookup }),
          },
          (response) => {
            const status = response.statusCode ?? 0;
            // The status decides; the body is drained, and a cut-off body must not throw.
            const done = () => resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, error: `HTTP ${status}` });
            response.on('end', done).on('error', done).resume();
          },
        );
        request.on('error', (err) => resolve({ ok: false, error: err.message }));
        request.end(message.body);
      });
    },
  };
}

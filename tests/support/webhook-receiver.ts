/**
 * A real HTTP webhook receiver: verifies Standard Webhooks signatures with the reference
 * library over the raw body, deduplicates by `webhook-id` as receivers are told to, and can be
 * told to fail.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  path: string;
  webhookId: string;
  timestamp: string;
  body: { type: string; id: string; timestamp: string; data: Record<string, unknown> };
  raw: string;
}

export interface WebhookReceiver {
  baseUrl: string;
  url(path: string): string;
  /** Secrets to verify against (any endpoint's). */
  trust(secret: string): void;
  /** Answer 503 to the next `count` requests. */
  failNext(count: number): void;
  failAlways(on: boolean): void;
  /** Unique, verified deliveries in arrival order; recorded before answering, so complete once the sender's call returned. */
  deliveries(): ReceivedWebhook[];
  stats(): { requests: number; duplicates: number; rejected: number; failed: number };
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const secrets: string[] = [];
  const deliveries: ReceivedWebhook[] = [];
  const seen = new Set<string>();
  const stats = { requests: 0, duplicates: 0, rejected: 0, failed: 0 };
  let failures = 0;
  let alwaysFail = false;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      stats.requests++;
      if (alwaysFail || failures > 0) {
        failures = Math.max(0, failures - 1);
        stats.failed++;
        res.writeHead(503).end('unavailable');
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const body = secrets
        .map((secret) => {
          try {
            return new Webhook(secret).verify(raw, headers) as ReceivedWebhook['body'];
          } catch {
            return undefined;
          }
        })
        .find(Boolean);
      if (!body) {
        stats.rejected++;
        res.writeHead(401).end('bad signature');
        return;
      }
      const webhookId = headers['webhook-id']!;
      if (seen.has(webhookId)) stats.duplicates++;
      else {
        seen.add(webhookId);
        deliveries.push({ path: req.url ?? '/', webhookId, timestamp: headers['webhook-timestamp']!, body, raw });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    url: (path) => `${baseUrl}${path.startsWith('/') ? path : `/${path}`}`,
    trust: (secret) => void secrets.push(secret),
    failNext: (count) => void (failures = count),
    failAlways: (on) => void (alwaysFail = on),
    deliveries: () => [...deliveries],
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signTremendousBody } from '../verify-webhook.ts';

/**
 * A Tremendous account in memory, over real HTTP, in the style of the CRM sandboxes: `POST
 * /api/v2/orders` (idempotent by `external_id`), `GET /api/v2/orders/:id`, and delivery webhooks
 * signed as Tremendous signs them. Tests inject the bad days: refusals (invalid email, insufficient
 * funds), answers that never come (the order is placed, the caller times out), 5xx after placing,
 * and webhooks sent twice. Shapes follow tests/fixtures/tremendous (each with its source).
 */

export interface TremendousSandboxOptions {
  apiKey?: string;
  webhookSecret?: string;
  /** Where delivery webhooks go; unset: none are sent until {@link TremendousSandbox.setWebhookUrl}. */
  webhookUrl?: string;
  /** The funding source's balance in cents of its currency (default effectively unlimited). */
  balanceCents?: number;
  /** Rewards are delivered by webhook this long after the order (default 20 ms); `manual`: only by `deliver()`/`failDelivery()`. */
  delivery?: number | 'manual';
  /** Every event is sent twice (Tremendous retries a delivery it thinks failed). */
  duplicateWebhooks?: boolean;
}

export type InjectedFault =
  /** The order is refused: 400 on the recipient's email. */
  | 'invalid_email'
  /** The order is refused: 402, the funding source cannot cover it. */
  | 'insufficient_funds'
  /** The order is placed, then the answer never comes (the caller's timeout fires). */
  | 'timeout'
  /** The order is placed, then a 503 is answered: the caller cannot know it went through. */
  | 'lost_answer'
  /** Nothing is placed: a 503 before the order. */
  | 'unavailable';

export interface SandboxReward {
  id: string;
  orderId: string;
  externalId: string;
  email: string;
  name: string;
  denomination: number;
  currency: string;
  products: string[];
  deliveryStatus: 'SCHEDULED' | 'SUCCEEDED' | 'FAILED';
  createdAt: string;
}

export interface SentWebhook {
  event: string;
  uuid: string;
  body: string;
  status: number | 'unreachable';
}

/** Catalog ids the sandbox answers to (Tremendous's vary between environments too). */
export const SANDBOX_PRODUCTS = { cash: 'SBX-CASH-ACH', gift_card: 'SBX-GIFT-AMAZON', donation: 'SBX-DONATION' } as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function createTremendousSandbox(options: TremendousSandboxOptions = {}) {
  const apiKey = options.apiKey ?? 'TEST_sandbox-api-key';
  const webhookSecret = options.webhookSecret ?? 'sandbox-webhook-private-key';
  let webhookUrl = options.webhookUrl;
  let balanceCents = options.balanceCents ?? Number.MAX_SAFE_INTEGER;
  const rewards = new Map<string, SandboxReward>();
  const byExternalId = new Map<string, SandboxReward>();
  const faults: InjectedFault[] = [];
  const sentWebhooks: SentWebhook[] = [];
  const stats = { orderCalls: 0, ordersPlaced: 0 };
  const pendingTimers = new Set<NodeJS.Timeout>();
  const hanging = new Set<ServerResponse>();
  let server: Server | undefined;

  function orderBody(reward: SandboxReward) {
    return {
      order: {
        id: reward.orderId,
        external_id: reward.externalId,
        created_at: reward.createdAt,
        status: 'EXECUTED',
        channel: 'API',
        payment: {
          subtotal: reward.denomination,
          total: reward.denomination,
          fees: 0,
        },
        rewards: [
          {
            id: reward.id,
            order_id: reward.orderId,
            created_at: reward.createdAt,
            value: { denomination: reward.denomination, currency_code: reward.currency },
            delivery: { method: 'EMAIL', status: reward.deliveryStatus },
            recipient: { name: reward.name, email: reward.email },
            products: reward.products,
          },
        ],
      },
    };
  }

  const error = (status: number, message: string, payload?: unknown) => ({ status, body: { errors: { message, payload } } });

  function placeOrder(body: unknown): { status: number; body: unknown; placed?: SandboxReward } {
    const request = body as {
      external_id?: unknown;
      payment?: { funding_source_id?: unknown };
      reward?: {
        value?: { denomination?: unknown; currency_code?: unknown };
        recipient?: { name?: unknown; email?: unknown };
        products?: unknown;
      };
    };
    const externalId = typeof request?.external_id === 'string' ? request.external_id : undefined;
    const existing = externalId ? byExternalId.get(externalId) : undefined;
    // Documented: a repeated external_id answers 201 with the first order and places nothing.
    if (existing) return { status: 201, body: orderBody(existing) };
    const reward = request?.reward;
    const denomination = reward?.value?.denomination;
    if (typeof denomination !== 'number' || !(denomination > 0))
      return error(400, 'Bad request data', { reward: { value: { denomination: ['must be greater than 0'] } } });
    if (typeof request.payment?.funding_source_id !== 'string')
      return error(400, 'Bad request data', { payment: { funding_source_id: ['is missing'] } });
    const products = Array.isArray(reward?.products) ? reward.products.map(String) : [];
    const known = new Set<string>(Object.values(SANDBOX_PRODUCTS));
    if (products.length === 0 || products.some((product) => !known.has(product)))
      return error(400, 'Bad request data', { reward: { products: ['contains an unknown product'] } });
    const email = String(reward?.recipient?.email ?? '');
    if (!EMAIL.test(email)) return error(400, 'Bad request data', { reward: { recipient: { email: ['is invalid'] } } });
    const cents = Math.round(denomination * 100);
    if (cents > balanceCents) return error(402, 'Insufficient funds in the funding source');
    balanceCents -= cents;
    const placed: SandboxReward = {
      id: randomId(),
      orderId: randomId(),
      externalId: externalId ?? randomUUID(),
      email,
      name: String(reward?.recipient?.name ?? ''),
      denomination,
      currency: String(reward?.value?.currency_code ?? 'USD'),
      products,
      deliveryStatus: 'SCHEDULED',
      createdAt: new Date().toISOString(),
    };
    rewards.set(placed.id, placed);
    byExternalId.set(placed.externalId, placed);
    stats.ordersPlaced += 1;
    if (options.delivery !== 'manual') later(options.delivery ?? 20, () => settle(placed.id, 'SUCCEEDED'));
    return { status: 200, body: orderBody(placed), placed };
  }

  function later(ms: number, run: () => void) {
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      run();
    }, ms);
    pendingTimers.add(timer);
  }

  function settle(rewardId: string, outcome: 'SUCCEEDED' | 'FAILED', failureReason = 'invalid_email') {
    const reward = rewards.get(rewardId);
    if (!reward) throw new Error(`no sandbox reward ${rewardId}`);
    if (reward.deliveryStatus !== 'SCHEDULED') return;
    reward.deliveryStatus = outcome;
    const event = {
      event: outcome === 'SUCCEEDED' ? 'REWARDS.DELIVERY.SUCCEEDED' : 'REWARDS.DELIVERY.FAILED',
      uuid: randomUUID(),
      created_utc: new Date().toISOString(),
      payload: {
        resource: { id: reward.id, type: 'rewards' },
        ...(outcome === 'FAILED' ? { meta: { failure_reason: failureReason, retryable: false } } : {}),
      },
    };
    const copies = options.duplicateWebhooks ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1) void sendWebhook(event.event, event.uuid, JSON.stringify(event));
  }

  async function sendWebhook(event: string, uuid: string, body: string, attempt = 1): Promise<void> {
    if (!webhookUrl) return;
    const record: SentWebhook = { event, uuid, body, status: 'unreachable' };
    sentWebhooks.push(record);
    try {
      const response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Tremendous-Webhook-Signature': signTremendousBody(webhookSecret, body) },
        body,
      });
      record.status = response.status;
      if (response.ok) return;
    } catch {
      // Unreachable: retried below, as Tremendous retries failed deliveries.
    }
    // Eight attempts over about 13 s: long enough for a sender whose order answer was lost to retry and record it.
    if (attempt < 8) later(50 * 2 ** attempt, () => void sendWebhook(event, uuid, body, attempt + 1));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${apiKey}`) return reply(401, { errors: { message: 'Invalid API key' } });
    const raw = await readRaw(req);
    if (req.method === 'POST' && url.pathname === '/api/v2/orders') {
      stats.orderCalls += 1;
      const fault = faults.shift();
      if (fault === 'unavailable') return reply(503, { errors: { message: 'Service unavailable' } });
      if (fault === 'invalid_email')
        return reply(400, { errors: { message: 'Bad request data', payload: { reward: { recipient: { email: ['is invalid'] } } } } });
      if (fault === 'insufficient_funds') return reply(402, { errors: { message: 'Insufficient funds in the funding source' } });
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw || 'null');
      } catch {
        return reply(400, { errors: { message: 'Malformed JSON' } });
      }
      const answer = placeOrder(parsed);
      if (fault === 'lost_answer') return reply(503, { errors: { message: 'Service unavailable' } });
      // Placed, but no answer: the socket stays open until the caller gives up or the sandbox closes.
      if (fault === 'timeout') return void hanging.add(res);
      return reply(answer.status, answer.body);
    }
    const order = /^\/api\/v2\/orders\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && order) {
      const id = decodeURIComponent(order[1]!);
      const found = [...rewards.values()].find((reward) => reward.orderId === id) ?? byExternalId.get(id);
      return found ? reply(200, orderBody(found)) : reply(404, { errors: { message: 'Order not found' } });
    }
    return reply(404, { errors: { message: 'Resource not found' } });
  }

  function handler(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  }

  return {
    apiKey,
    webhookSecret,
    stats,
    sentWebhooks,
    /** Every reward placed, oldest first. */
    rewards: () => [...rewards.values()],
    rewardByExternalId: (externalId: string) => byExternalId.get(externalId),
    setWebhookUrl(url: string | undefined) {
      webhookUrl = url;
    },
    /** The next order calls meet these faults, one each, in order. */
    injectFaults(...next: InjectedFault[]) {
      faults.push(...next);
    },
    deliver: (rewardId: string) => settle(rewardId, 'SUCCEEDED'),
    failDelivery: (rewardId: string, reason = 'invalid_email') => settle(rewardId, 'FAILED', reason),
    /** Serves the API in another server (the app mounts it at `/sandbox/tremendous`, as the CRM sandboxes). */
    handler,
    async listen(port = 0): Promise<string> {
      server = createServer(handler);
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2`;
    },
    async close() {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      for (const res of hanging) res.destroy();
      hanging.clear();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server?.closeAllConnections();
    },
  };
}

export type TremendousSandbox = ReturnType<typeof createTremendousSandbox>;

/** Tremendous ids are twelve upper-case letters and digits. */
function randomId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(12)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

async function readRaw(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

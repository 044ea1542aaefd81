/**
 * The Tremendous provider against its sandbox emulator, over real HTTP: the documented order shape,
 * idempotency by external_id through lost answers and timeouts, refusals as results, and delivery
 * webhooks that verify only when signed with the secret over the exact body.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type PayoutOrder, PayoutProviderError, type PayoutProvider, PayoutWebhookRefused } from '../../connectors/payouts/provider.ts';
import { startPayoutProvider } from '../../connectors/payouts/registry.ts';
import { createTremendousProvider } from '../../connectors/payouts/tremendous/client.ts';
import {
  createTremendousSandbox,
  SANDBOX_PRODUCTS,
  type TremendousSandbox,
  type TremendousSandboxOptions,
} from '../../connectors/payouts/tremendous/sandbox/index.ts';
import { signTremendousBody } from '../../connectors/payouts/tremendous/verify-webhook.ts';
import { eventually } from '../support/service.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/tremendous/${name}`, import.meta.url), 'utf8')) as { status?: number; body: unknown };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function start(
  options: TremendousSandboxOptions = {},
  timeoutMs = 2_000,
): Promise<{ sandbox: TremendousSandbox; provider: PayoutProvider; baseUrl: string }> {
  const sandbox = createTremendousSandbox(options);
  const baseUrl = await sandbox.listen();
  closers.push(() => sandbox.close());
  const provider = createTremendousProvider({
    baseUrl,
    apiKey: sandbox.apiKey,
    webhookSecret: sandbox.webhookSecret,
    fundingSourceId: 'balance',
    products: { ...SANDBOX_PRODUCTS },
    timeoutMs,
  });
  return { sandbox, provider, baseUrl };
}

/** A receiver that hands every webhook, raw, to the provider's verifier. */
async function startReceiver(provider: () => PayoutProvider) {
  const received: { raw: Buffer; event?: ReturnType<PayoutProvider['verifyWebhook']>; refused?: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      try {
        received.push({ raw, event: provider().verifyWebhook(raw, req.headers) });
        res.writeHead(200).end();
      } catch (error) {
        received.push({ raw, refused: (error as Error).message });
        res.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/payouts/tremendous`, received };
}

const order = (overrides: Partial<PayoutOrder> = {}): PayoutOrder => ({
  idempotencyKey: 'run-1:referrer-1:USD',
  recipient: { name: 'Jordan Rivers', email: 'jordan@acme-widgets.com' },
  amountCents: 5_000,
  currency: 'USD',
  product: 'gift_card',
  ...overrides,
});

describe('Tremendous provider against the sandbox', () => {
  it('sends the documented order shape and answers with the documented Order schema', async () => {
    const { sandbox, provider, baseUrl } = await start({ delivery: 'manual' });
    const result = await provider.sendOrder(order());
    expect(result).toMatchObject({ outcome: 'accepted', status: 'pending' });
    const [placed] = sandbox.rewards();
    expect(placed).toMatchObject({
      externalId: 'run-1:referrer-1:USD',
      email: 'jordan@acme-widgets.com',
      denomination: 50,
      currency: 'USD',
      products: [SANDBOX_PRODUCTS.gift_card],
    });
    expect(result.outcome === 'accepted' && result.providerRewardId).toBe(placed!.id);
    // Retrieval by external_id, as documented, with the documented keys at each level.
    const fetched = await fetch(`${baseUrl}/orders/${encodeURIComponent('run-1:referrer-1:USD')}`, {
      headers: { authorization: `Bearer ${sandbox.apiKey}` },
    });
    const answered = (await fetched.json()) as { order: { rewards: Record<string, unknown>[] } & Record<string, unknown> };
    const documented = (
      fixture('create-order.response.json').body as { order: { rewards: Record<string, unknown>[] } & Record<string, unknown> }
    ).order;
    expect(Object.keys(answered.order).sort()).toEqual(Object.keys(documented).sort());
    expect(Object.keys(answered.order.rewards[0]!).sort()).toEqual(expect.arrayContaining(Object.keys(documented.rewards[0]!).sort()));
  });

  it('answers a repeated external_id with the first order and places it once', async () => {
    const { sandbox, provider } = await start({ delivery: 'manual' });
    const first = await provider.sendOrder(order());
    const second = await provider.sendOrder(order());
    expect(second).toEqual(first);
    expect(sandbox.stats.ordersPlaced).toBe(1);
  });

  it('a lost answer or a timeout throws a retryable error; the retry finds the order already placed', async () => {
    const { sandbox, provider } = await start({ delivery: 'manual' }, 300);
    sandbox.injectFaults('lost_answer', 'timeout');
    const lost = await provider.sendOrder(order()).catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(PayoutProviderError);
    expect((lost as PayoutProviderError).retryable).toBe(true);
    const timedOut = await provider.sendOrder(order()).catch((error: unknown) => error);
    expect(timedOut).toMatchObject({ code: 'unavailable', retryable: true });
    const retried = await provider.sendOrder(order());
    expect(retried.outcome).toBe('accepted');
    expect(sandbox.stats).toEqual({ orderCalls: 3, ordersPlaced: 1 });
  });

  it('with a third of the calls failing, retrying each order until it is accepted places each exactly once', async () => {
    const { sandbox, provider } = await start({ delivery: 'manual' }, 300);
    const keys = Array.from({ length: 9 }, (_, i) => `run-2:referrer-${i}:USD`);
    for (let i = 0; i < 9; i += 1) sandbox.injectFaults(...(['lost_answer', 'unavailable', 'timeout'] as const).slice(i % 3, (i % 3) + 1));
    for (const idempotencyKey of keys) {
      for (;;) {
        const result = await provider.sendOrder(order({ idempotencyKey })).catch((error: unknown) => error);
        if (result instanceof PayoutProviderError && result.retryable) continue;
        expect(result).toMatchObject({ outcome: 'accepted' });
        break;
      }
    }
    expect(sandbox.stats.ordersPlaced).toBe(9);
    expect(new Set(sandbox.rewards().map((reward) => reward.externalId))).toEqual(new Set(keys));
  });

  it('an invalid email or insufficient funds is a refusal with the reason, and places nothing', async () => {
    const { sandbox, provider } = await start({ delivery: 'manual', balanceCents: 10_000 });
    const badEmail = await provider.sendOrder(order({ recipient: { name: 'X', email: 'not-an-email' } }));
    expect(badEmail).toEqual({ outcome: 'refused', reason: expect.stringContaining('email') });
    const tooMuch = await provider.sendOrder(order({ idempotencyKey: 'big', amountCents: 20_000 }));
    expect(tooMuch).toEqual({ outcome: 'refused', reason: expect.stringContaining('Insufficient funds') });
    sandbox.injectFaults('invalid_email');
    expect(await provider.sendOrder(order({ idempotencyKey: 'injected' }))).toMatchObject({ outcome: 'refused' });
    expect(sandbox.stats.ordersPlaced).toBe(0);
  });

  it('a wrong API key is an auth error, not a refusal', async () => {
    const sandbox = createTremendousSandbox();
    const baseUrl = await sandbox.listen();
    closers.push(() => sandbox.close());
    const provider = createTremendousProvider({
      baseUrl,
      apiKey: 'wrong',
      webhookSecret: 'x',
      fundingSourceId: 'balance',
      products: { ...SANDBOX_PRODUCTS },
      timeoutMs: 2_000,
    });
    await expect(provider.sendOrder(order())).rejects.toMatchObject({ code: 'auth', retryable: false });
  });

  it('delivery and failure come back as signed webhooks the provider verifies; duplicates carry the same event id', async () => {
    let provider: PayoutProvider | undefined;
    const receiver = await startReceiver(() => provider!);
    const started = await start({ delivery: 'manual', duplicateWebhooks: true });
    provider = started.provider;
    started.sandbox.setWebhookUrl(receiver.url);
    const delivered = await provider.sendOrder(order());
    const failed = await provider.sendOrder(
      order({ idempotencyKey: 'run-1:referrer-2:USD', recipient: { name: 'B', email: 'b@bounce.example' } }),
    );
    if (delivered.outcome !== 'accepted' || failed.outcome !== 'accepted') throw new Error('orders not accepted');
    started.sandbox.deliver(delivered.providerRewardId);
    started.sandbox.failDelivery(failed.providerRewardId, 'invalid_email');
    await eventually(() => (receiver.received.length === 4 ? true : undefined), 5_000, 'four webhooks');
    expect(receiver.received.every((webhook) => webhook.refused === undefined)).toBe(true);
    const events = receiver.received.map((webhook) => webhook.event!);
    expect(events.filter((event) => event.kind === 'delivered')).toHaveLength(2);
    expect(new Set(events.filter((event) => event.kind === 'delivered').map((event) => event.eventId)).size).toBe(1);
    expect(events.find((event) => event.kind === 'failed')).toMatchObject({
      providerRewardId: failed.providerRewardId,
      reason: 'invalid_email',
      retryable: false,
    });
  });
});

describe('Tremendous webhook verification', () => {
  const secret = 'webhook-private-key';
  const provider = createTremendousProvider({
    baseUrl: 'http://127.0.0.1:9/api/v2',
    apiKey: 'k',
    webhookSecret: secret,
    fundingSourceId: 'balance',
    products: { ...SANDBOX_PRODUCTS },
    timeoutMs: 1_000,
  });
  const signed = (raw: string, key = secret) => ({ 'tremendous-webhook-signature': signTremendousBody(key, raw) });

  it('parses the documented delivery events', () => {
    const failed = JSON.stringify(fixture('webhook.delivery-failed.json').body);
    expect(provider.verifyWebhook(Buffer.from(failed), signed(failed))).toEqual({
      kind: 'failed',
      eventId: '5ccc7bb1-7659-4e23-a407-77d8cd9c62f5',
      providerRewardId: '2V3PCCL7QXDA',
      occurredAt: '2021-04-07T00:05:01.037Z',
      reason: 'invalid_domain',
      retryable: false,
    });
    const succeeded = JSON.stringify(fixture('webhook.delivery-succeeded.json').body);
    expect(provider.verifyWebhook(Buffer.from(succeeded), signed(succeeded))).toMatchObject({
      kind: 'delivered',
      providerRewardId: '2V3PCCL7QXDA',
    });
  });

  it.each([
    ['no signature', (raw: string) => ({ raw, headers: {} })],
    ['signed with another key', (raw: string) => ({ raw, headers: signed(raw, 'forger') })],
    ['a body changed after signing', (raw: string) => ({ raw: raw.replace('SUCCEEDED', 'FAILED'), headers: signed(raw) })],
    [
      'the bare hex without its sha256= prefix',
      (raw: string) => ({ raw, headers: { 'tremendous-webhook-signature': signTremendousBody(secret, raw).slice(7) } }),
    ],
  ])('refuses a webhook with %s', (_, forge) => {
    const { raw, headers } = forge(JSON.stringify(fixture('webhook.delivery-succeeded.json').body));
    expect(() => provider.verifyWebhook(Buffer.from(raw), headers)).toThrow(PayoutWebhookRefused);
  });

  it('acknowledges events it does not act on as ignored', () => {
    const raw = JSON.stringify({
      event: 'CAMPAIGNS.CREATED',
      uuid: 'u-1',
      created_utc: '2026-01-01T00:00:00Z',
      payload: { resource: { id: 'C', type: 'campaigns' } },
    });
    expect(provider.verifyWebhook(Buffer.from(raw), signed(raw))).toEqual({ kind: 'ignored', eventId: 'u-1', event: 'CAMPAIGNS.CREATED' });
  });
});

describe('startPayoutProvider', () => {
  it('csv runs no provider', async () => {
    expect(
      await startPayoutProvider({ kind: 'csv' }, { publicBaseUrl: 'http://127.0.0.1:9', webhookUrl: 'http://127.0.0.1:9/' }),
    ).toBeUndefined();
  });

  it('sandbox mode mounts the emulator in the app and sends its signed delivery webhooks to the app', async () => {
    let provider: PayoutProvider | undefined;
    const receiver = await startReceiver(() => provider!);
    // The app, as far as the emulator goes: it serves what is mounted under its path.
    let mounted: NonNullable<Awaited<ReturnType<typeof startPayoutProvider>>>['mount'];
    const app: Server = createServer((req, res) => {
      if (!mounted || !req.url?.startsWith(`${mounted.path}/`)) return void res.writeHead(404).end();
      req.url = req.url.slice(mounted.path.length);
      mounted.handler(req, res);
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => app.close(() => resolve())));
    const publicBaseUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    const running = (await startPayoutProvider({ kind: 'tremendous', mode: 'sandbox' }, { publicBaseUrl, webhookUrl: receiver.url }))!;
    closers.push(() => running.close());
    mounted = running.mount;
    expect(mounted?.path).toBe('/sandbox/tremendous');
    provider = running.provider;
    const result = await provider.sendOrder(order());
    expect(result).toMatchObject({ outcome: 'accepted' });
    const [webhook] = await eventually(() => (receiver.received.length > 0 ? receiver.received : undefined), 5_000, 'a delivery webhook');
    expect(webhook!.event).toMatchObject({
      kind: 'delivered',
      providerRewardId: result.outcome === 'accepted' ? result.providerRewardId : '',
    });
    expect(running.sandbox!.rewards()[0]!.deliveryStatus).toBe('SUCCEEDED');
  });
});

import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createWebhookChannel, generateWebhookSecret } from '../../../src/notify/referrer-webhooks.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts';

let receiver: WebhookReceiver;
const secret = generateWebhookSecret();
const message = () => ({
  id: 'msg_channel_test',
  timestamp: new Date(),
  body: JSON.stringify({ type: 'referral.received', id: 'msg_channel_test', timestamp: new Date().toISOString(), data: {} }),
});

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  receiver.trust(secret);
});
afterAll(() => receiver?.close());

test('private targets are refused when the connection is made, not only at setup', async () => {
  const strict = createWebhookChannel({ allowPrivateEndpoints: false });
  expect(await strict.send(receiver.url('/strict'), secret, message())).toEqual({ ok: false, error: '127.0.0.1 is a private address' });
  // A host name that resolves inward (DNS rebinding after setup) is caught by the lookup.
  const viaName = await strict.send(receiver.url('/strict').replace('127.0.0.1', 'localhost'), secret, message());
  expect(viaName).toEqual({ ok: false, error: expect.stringMatching(/^localhost resolves to private address/) });
  // Every spelling of an inward IPv6 address is refused before a connection is tried.
  for (const host of ['::127.0.0.1', '::ffff:0:7f00:1', '64:ff9b::7f00:1', 'fec0::1', '100::1']) {
    const url = new URL(receiver.url('/strict'));
    url.hostname = `[${host}]`;
    expect(await strict.send(url.href, secret, message())).toEqual({
      ok: false,
      error: `${url.hostname.slice(1, -1)} is a private address`,
    });
  }
  expect(receiver.stats().requests).toBe(0);

  const lenient = createWebhookChannel({ allowPrivateEndpoints: true });
  expect(await lenient.send(receiver.url('/lenient'), secret, message())).toEqual({ ok: true, status: 204 });
  expect(receiver.deliveries().map((d) => [d.path, d.webhookId])).toEqual([['/lenient', 'msg_channel_test']]);
});

test('a receiver that never answers times out', async () => {
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const channel = createWebhookChannel({ allowPrivateEndpoints: true, timeoutMs: 200 });
  const result = await channel.send(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, secret, message());
  expect(result).toEqual({ ok: false, error: expect.stringMatching(/abort/i) });
  silent.close();
});

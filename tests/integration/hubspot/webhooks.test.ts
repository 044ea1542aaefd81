import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CrmEvent, InboundRequest } from '../../../connectors/connector.ts';
import { createHubSpotConnector } from '../../../connectors/hubspot/index.ts';
import { COMPANY_ELIGIBILITY_PROPERTIES } from '../../../connectors/hubspot/map.ts';
import { createHubSpotSandbox, type HubSpotSandbox } from '../../../connectors/hubspot/sandbox/index.ts';
import { connectorFor, install } from '../../fixtures/hubspot/install.ts';

/** A real HTTP receiver standing in for Referloop's /webhooks/hubspot route. */
function startReceiver() {
  const received: InboundRequest[] = [];
  const answers: number[] = [];
  let base = '';
  const server: Server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    received.push({
      method: req.method ?? '',
      url: `${base}${req.url}`,
      headers: req.headers as Record<string, string>,
      rawBody: Buffer.concat(parts),
    });
    res.writeHead(answers.shift() ?? 200).end();
  });
  return {
    received,
    answers,
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // %3A in the query: the signature covers the URI with the documented escapes decoded.
      return `${base}/webhooks/hubspot?tenant=acme%3Aprod`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('webhooks from the sandbox', () => {
  let sandbox: HubSpotSandbox;
  let receiver: ReturnType<typeof startReceiver>;
  let connector: ReturnType<typeof createHubSpotConnector>;
  let sandboxUrl: string;

  beforeAll(async () => {
    receiver = startReceiver();
    const webhookUrl = await receiver.listen();
    sandbox = createHubSpotSandbox({ webhookUrl, webhookBatchMs: 10, webhookRetryMs: 20 });
    const { url } = await sandbox.listen();
    sandboxUrl = url;
    connector = connectorFor(sandbox, url);
  });
  afterEach(async () => {
    await sandbox.state.webhooksIdle();
    receiver.received.length = 0;
    sandbox.faults.duplicateWebhooks(false);
    sandbox.faults.shuffleWebhooks(false);
    sandbox.faults.delayWebhooks(0);
  });
  afterAll(async () => {
    await sandbox.close();
    await receiver.close();
  });

  const hints = (request: InboundRequest): CrmEvent[] => {
    const parsed = connector.webhooks.parse(request);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.events;
  };
  const allHints = () => receiver.received.flatMap(hints);

  it('arrive signed (v3 and v1), verify with the client secret, and parse into hints', async () => {
    const contact = sandbox.state.create('contacts', { email: 'new@hooks.example', firstname: 'New' });
    await sandbox.state.webhooksIdle();
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    if (!request) throw new Error('nothing delivered');
    expect(request.url).toContain('tenant=acme%3Aprod');
    expect(connector.webhooks.verify(request, new Date())).toEqual({ ok: true });
    expect(request.headers['x-hubspot-signature']).toBe(
      createHash('sha256')
        .update(sandbox.state.clientSecret + request.rawBody.toString())
        .digest('hex'),
    );
    expect(hints(request).map((e) => [e.accountId, e.objectType, e.objectId, e.change, e.property])).toEqual([
      [String(sandbox.state.portalId), 'contact', contact.id, 'created', undefined],
      [String(sandbox.state.portalId), 'contact', contact.id, 'updated', 'email'],
    ]);
    expect(JSON.parse(request.rawBody.toString())[0]).toMatchObject({
      subscriptionType: 'contact.creation',
      changeSource: 'CRM_UI',
      attemptNumber: 0,
      appId: sandbox.state.appId,
    });
  });

  it('only subscribed property changes are sent', async () => {
    const contact = sandbox.state.create('contacts', { email: 'quiet@hooks.example' });
    await sandbox.state.webhooksIdle();
    receiver.received.length = 0;
    sandbox.state.update('contacts', contact.id, { firstname: 'Not subscribed' });
    sandbox.state.update('contacts', contact.id, { lifecyclestage: 'customer' });
    await sandbox.state.webhooksIdle();
    expect(allHints().map((e) => e.property)).toEqual(['lifecyclestage']);
  });

  it("a change of a property eligibility reads is sent as company.propertyChange, read from the app manifest's subscriptions", async () => {
    const { client } = await install(sandbox, sandboxUrl);
    await client.provision();
    const company = sandbox.state.create('companies', { name: 'Loyal', domain: 'loyal.example' });
    await sandbox.state.webhooksIdle();
    receiver.received.length = 0;
    sandbox.state.update('companies', company.id, { referloop_nps: '9', referloop_health_score: '80', referloop_open_escalations: '0' });
    sandbox.state.update('companies', company.id, { lifecyclestage: 'customer', hs_lifecyclestage_customer_date: '2025-01-15T00:00:00Z' });
    await sandbox.state.webhooksIdle();
    const byProperty = allHints().sort((a, b) => String(a.property).localeCompare(String(b.property)));
    expect(byProperty.map((e) => [e.objectType, e.objectId, e.change, e.property])).toEqual(
      [...COMPANY_ELIGIBILITY_PROPERTIES].sort().map((property) => ['company', company.id, 'updated', property]),
    );
    const [event] = JSON.parse(receiver.received[0]!.rawBody.toString());
    expect(event).toMatchObject({ subscriptionType: 'company.propertyChange', objectId: Number(company.id) });
  });

  it('fail verification under another secret, a changed body or a different URL', async () => {
    sandbox.state.create('companies', { name: 'Signed', domain: 'signed.example' });
    await sandbox.state.webhooksIdle();
    const [request] = receiver.received;
    if (!request) throw new Error('nothing delivered');
    const other = createHubSpotConnector({
      clientId: 'x',
      clientSecret: 'another-secret',
      apiBaseUrl: 'http://127.0.0.1:9',
      authorizeUrl: 'http://127.0.0.1:9',
    });
    expect(other.webhooks.verify(request, new Date()).ok).toBe(false);
    expect(
      connector.webhooks.verify(
        { ...request, rawBody: Buffer.from(request.rawBody.toString().replace('signed.example', 'evil.example')) },
        new Date(),
      ).ok,
    ).toBe(false);
    expect(connector.webhooks.verify({ ...request, url: request.url.replace('/webhooks/hubspot', '/webhooks/other') }, new Date()).ok).toBe(
      false,
    );
    expect(connector.webhooks.verify(request, new Date(Date.now() + 6 * 60_000)).ok).toBe(false);
  });

  it('a failed delivery is retried, each event on its own, with attemptNumber + 1 and the same event key', async () => {
    receiver.answers.push(500);
    const deal = sandbox.state.create('deals', { dealname: 'Retry', dealstage: 'appointmentscheduled' });
    await sandbox.state.webhooksIdle();
    const [failed, ...retries] = receiver.received;
    if (!failed) throw new Error('nothing delivered');
    const attempts = (r: InboundRequest) => JSON.parse(r.rawBody.toString()).map((e: { attemptNumber: number }) => e.attemptNumber);
    // The creation, plus the subscribed properties it set (dealstage, and pipeline defaulted to "default").
    expect(hints(failed).map((e) => [e.objectId, e.change, e.property])).toEqual([
      [deal.id, 'created', undefined],
      [deal.id, 'updated', 'dealstage'],
      [deal.id, 'updated', 'pipeline'],
    ]);
    expect(attempts(failed)).toEqual([0, 0, 0]);
    expect(retries.flatMap(attempts)).toEqual([1, 1, 1]);
    expect(
      retries
        .flatMap(hints)
        .map((e) => e.eventKey)
        .sort(),
    ).toEqual(
      hints(failed)
        .map((e) => e.eventKey)
        .sort(),
    );
    for (const retry of retries) expect(connector.webhooks.verify(retry, new Date()).ok).toBe(true);
    expect(sandbox.state.deliveries.some((d) => d.status === 500)).toBe(true);
  });

  it('duplicates and shuffles on demand; duplicates share event keys', async () => {
    sandbox.faults.duplicateWebhooks();
    sandbox.faults.shuffleWebhooks();
    const deal = sandbox.state.create('deals', { dealname: 'Twice', dealstage: 'appointmentscheduled', amount: '10' });
    await sandbox.state.webhooksIdle();
    expect(receiver.received).toHaveLength(2);
    const keys = receiver.received.map((r) =>
      hints(r)
        .map((e) => e.eventKey)
        .sort(),
    );
    expect(keys[0]).toEqual(keys[1]);
    expect(new Set(allHints().map((e) => e.objectId))).toEqual(new Set([deal.id]));
  });

  it('delays deliveries on demand', async () => {
    sandbox.faults.delayWebhooks(150);
    const started = Date.now();
    sandbox.state.create('companies', { name: 'Late' });
    await sandbox.state.webhooksIdle();
    expect(receiver.received).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('drops events on demand (they never arrive)', async () => {
    sandbox.faults.dropNextWebhooks(2);
    sandbox.state.create('companies', { name: 'Lost' });
    await sandbox.state.webhooksIdle();
    expect(receiver.received).toHaveLength(0);
    expect(sandbox.state.deliveries.at(-1)).toMatchObject({ status: 'dropped', dropped: 2 });
  });

  it('sends at most 100 events per batch', async () => {
    for (let i = 0; i < 120; i++) sandbox.state.create('contacts', { email: `bulk${i}@hooks.example` });
    await sandbox.state.webhooksIdle();
    const sizes = receiver.received.map((r) => JSON.parse(r.rawBody.toString()).length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(240);
  });

  it('associations arrive once per direction and merges name the merged record', async () => {
    const contact = sandbox.state.create('contacts', { email: 'assoc@hooks.example' });
    const deal = sandbox.state.create('deals', { dealname: 'Assoc', dealstage: 'appointmentscheduled' });
    const loser = sandbox.state.create('contacts', { email: 'dup@hooks.example' });
    await sandbox.state.webhooksIdle();
    receiver.received.length = 0;
    sandbox.state.associate('deals', deal.id, 'contacts', contact.id);
    sandbox.state.merge('contacts', contact.id, loser.id);
    await sandbox.state.webhooksIdle();
    const events = allHints();
    expect(events.filter((e) => e.change === 'associated').map((e) => [e.objectType, e.objectId, e.related])).toEqual(
      expect.arrayContaining([
        ['deal', deal.id, [{ objectType: 'contact', objectId: contact.id }]],
        ['contact', contact.id, [{ objectType: 'deal', objectId: deal.id }]],
      ]),
    );
    expect(events.find((e) => e.change === 'merged')).toMatchObject({
      objectId: contact.id,
      related: [{ objectType: 'contact', objectId: loser.id }],
    });
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { CrmEvent, CrmWebhooks } from '../../../connectors/connector.ts';
import { createSalesforceConnector } from '../../../connectors/salesforce/index.ts';
import { createSalesforceSandbox } from '../../../connectors/salesforce/sandbox/index.ts';
import { REDIRECT_URI, authorize } from '../../fixtures/salesforce/harness.ts';
import { TestSession } from '../../support/crm-session.ts';
import { RecordingLimiter } from '../../support/rate-limiter.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Referloop's webhook edge in miniature: verify, parse, then Ack (or refuse while `refusals` last). */
function receiver(webhooks: CrmWebhooks, orgId: string) {
  const events: CrmEvent[] = [];
  const attempts: { soapAction: string | undefined; contentType: string | undefined; body: string }[] = [];
  let refusals = 0;
  const handle = (headers: Record<string, string | string[] | undefined>, rawBody: Buffer) => {
    const request = {
      method: 'POST',
      url: 'https://referloop.test/webhooks/salesforce',
      headers: headers as Record<string, string | undefined>,
      rawBody,
    };
    attempts.push({ soapAction: request.headers.soapaction, contentType: request.headers['content-type'], body: rawBody.toString('utf8') });
    const verdict = webhooks.verify(request, new Date());
    const parsed = webhooks.parse(request);
    if (!verdict.ok || !parsed.ok) return webhooks.refuse(400, verdict.ok ? (parsed.ok ? '' : parsed.reason) : verdict.reason);
    if (parsed.events.some((e) => e.accountId !== orgId)) return webhooks.refuse(403, 'unknown org');
    if (refusals > 0) {
      refusals -= 1;
      return webhooks.refuse(503, 'store unavailable');
    }
    events.push(...parsed.events);
    return webhooks.acknowledge();
  };
  return { events, attempts, handle, refuse: (n: number) => (refusals = n) };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function setup(options: Parameters<typeof createSalesforceSandbox>[0] = {}) {
  const sandbox = createSalesforceSandbox({ outboundRetryMs: 10, ...options });
  cleanups.push(() => sandbox.close());
  const { webhooks } = createSalesforceConnector({ clientId: 'x', clientSecret: 'y', loginUrl: 'http://unused' });
  const rx = receiver(webhooks, sandbox.state.orgId);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = rx.handle(req.headers, Buffer.concat(chunks));
      res.writeHead(reply.status, { 'content-type': reply.contentType }).end(reply.body);
    });
  });
  sandbox.setOutboundUrl(`${await listen(server)}/webhooks/salesforce`);
  return { sandbox, rx };
}

describe('Salesforce Outbound Messages from the sandbox', () => {
  it('sends SOAP notifications for lead, conversion and stage changes that the connector parses', async () => {
    const { sandbox, rx } = await setup();
    const lead = sandbox.actions.createLead({ LastName: 'Lee', Company: 'Globex', Email: 'pat@globex.example' });
    await sandbox.outboundSettled();
    const converted = sandbox.actions.convertLead({ leadId: lead.Id as string });
    await sandbox.outboundSettled();
    sandbox.actions.moveStage({ opportunityId: converted.opportunityId as string, stageName: 'Closed Won' });
    await sandbox.outboundSettled();

    expect(rx.attempts.every((a) => a.soapAction === '""' && a.contentType?.startsWith('text/xml'))).toBe(true);
    expect(rx.events.map((e) => [e.objectType, e.objectId])).toEqual([
      ['lead', lead.Id],
      // One flush, one message per object's outbound action.
      ['company', converted.accountId],
      ['contact', converted.contactId],
      ['deal', converted.opportunityId],
      ['lead', lead.Id],
      ['deal', converted.opportunityId],
    ]);
    expect(rx.events.every((e) => e.accountId === sandbox.state.orgId && e.change === 'updated')).toBe(true);
    expect(rx.events[4]?.related).toEqual([
      { objectType: 'contact', objectId: converted.contactId },
      { objectType: 'company', objectId: converted.accountId },
      { objectType: 'deal', objectId: converted.opportunityId },
    ]);
    // The stage change carries the fields the workflow rule sends.
    const stageChange = rx.attempts.at(-1)!.body;
    for (const field of ['<sf:StageName>Closed Won</sf:StageName>', '<sf:IsWon>true</sf:IsWon>', '<sf:IsClosed>true</sf:IsClosed>'])
      expect(stageChange).toContain(field);
    expect(new Set(rx.events.map((e) => e.eventKey)).size).toBe(rx.events.length);
  });

  it('batches up to 100 notifications per message', async () => {
    const { sandbox, rx } = await setup({ outboundBatchDelayMs: 50 });
    for (let i = 0; i < 150; i++) sandbox.actions.createLead({ LastName: `L${i}`, Company: 'Bulk' });
    await sandbox.outboundSettled();
    expect(sandbox.state.outbound.delivered.map((m) => m.notificationIds.length)).toEqual([100, 50]);
    expect(rx.events).toHaveLength(150);
  });

  it('retries until acknowledged, keeping the notification ids', async () => {
    const { sandbox, rx } = await setup();
    rx.refuse(2);
    const lead = sandbox.actions.createLead({ LastName: 'Lee', Company: 'Globex' });
    await sandbox.outboundSettled();
    expect(rx.attempts).toHaveLength(3);
    expect(sandbox.state.outbound.delivered).toMatchObject([{ attempts: 3 }]);
    expect(sandbox.state.outbound.counts()).toMatchObject({ failedAttempts: 2, pending: 0 });
    expect(rx.events.map((e) => e.objectId)).toEqual([lead.Id]);
  });

  it('can deliver twice, out of order, or never', async () => {
    const { sandbox, rx } = await setup();
    sandbox.faults.duplicateOutbound(true);
    sandbox.actions.createLead({ LastName: 'Twice', Company: 'C' });
    await sandbox.outboundSettled();
    expect(rx.events).toHaveLength(2);
    expect(rx.events[0]?.eventKey).toBe(rx.events[1]?.eventKey);

    sandbox.faults.duplicateOutbound(false);
    sandbox.faults.reorderOutbound(true);
    const account = sandbox.actions.createAccount({ Name: 'First' });
    const lead = sandbox.actions.createLead({ LastName: 'Second', Company: 'C' });
    await sandbox.outboundSettled();
    expect(rx.events.slice(2).map((e) => e.objectId)).toEqual([lead.Id, account.Id]);

    sandbox.faults.dropNextOutbound(1);
    sandbox.actions.createLead({ LastName: 'Lost', Company: 'C' });
    await sandbox.outboundSettled();
    expect(rx.events).toHaveLength(4);
    expect(sandbox.state.outbound.counts().dropped).toBe(1);
  });
});

describe('Salesforce sandbox mounted under a path prefix', () => {
  it('serves OAuth, REST and Outbound Messages through an outer express app', async () => {
    const sandbox = createSalesforceSandbox({ outboundRetryMs: 10 });
    cleanups.push(() => sandbox.close());
    const connector = createSalesforceConnector({
      clientId: 'sandbox-client-id',
      clientSecret: 'sandbox-client-secret',
      loginUrl: 'http://placeholder',
    });
    const rx = receiver(connector.webhooks, sandbox.state.orgId);
    const app = express();
    app.use('/sandbox/salesforce', sandbox.handler);
    app.post('/webhooks/salesforce', express.raw({ type: 'text/xml' }), (req, res) => {
      const reply = rx.handle(req.headers, req.body as Buffer);
      res.status(reply.status).type(reply.contentType).send(reply.body);
    });
    const appUrl = await listen(createServer(app));
    sandbox.setOutboundUrl(`${appUrl}/webhooks/salesforce`);

    const mounted = createSalesforceConnector({
      clientId: 'sandbox-client-id',
      clientSecret: 'sandbox-client-secret',
      loginUrl: `${appUrl}/sandbox/salesforce`,
    });
    const start = mounted.oauth.start({ state: 's', redirectUri: REDIRECT_URI });
    const code = (await authorize(start.url)).searchParams.get('code') ?? '';
    const grant = await mounted.oauth.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: start.codeVerifier });
    expect(grant.tokens.instanceUrl).toBe(`${appUrl}/sandbox/salesforce`);

    const client = await mounted.client(new TestSession(grant.accountId, grant.tokens), { limiter: new RecordingLimiter() });
    const [ensured] = await client.ensureReferees([
      { key: 'k', email: 'new@hooli.example', firstName: null, lastName: 'New', company: 'Hooli', domain: null },
    ]);
    expect(ensured?.created).toBe(true);
    await sandbox.outboundSettled();
    expect(rx.events.map((e) => [e.objectType, e.objectId])).toEqual([['lead', ensured?.person.id]]);
    const soap = sandbox.state.outbound.delivered[0]?.xml ?? '';
    expect(soap).toContain(`<PartnerUrl>${appUrl}/sandbox/salesforce/services/Soap/u/62.0/00D5g00000KqRfL</PartnerUrl>`);
  });
});

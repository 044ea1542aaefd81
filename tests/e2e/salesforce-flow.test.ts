import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * Referloop and a sandbox Salesforce as separate servers: OAuth install with PKCE, a rep logs a
 * referral that becomes a Lead, the sales team converts it and wins the Opportunity, Outbound
 * Messages carry the news, Referloop attributes, rewards and writes back to Referral__c.
 */
const CLIENT = { clientId: 'e2e-salesforce-client', clientSecret: 'e2e-salesforce-secret' };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { objectType: string; id: string } } | null;
  timeline: { to: string }[];
  attributions: { dealId: string; status: string }[];
  rewards: { amount: number; status: string; dueDate: string; milestone: string }[];
}

describe('Salesforce end to end', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;
  let orgId: string;

  beforeAll(async () => {
    let installationId: string;
    ({ salesforce, svc, installationId } = await startWithSandboxSalesforce(CLIENT));
    orgId = ((await (await svc.api(`/installations/${installationId}`)).json()) as { accountId: string }).accountId;
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  const referral = async (id: string) => (await (await svc.api(`/referrals/${id}`)).json()) as ReferralBody;
  const logReferral = async (email: string) => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' },
        referee: { email, firstName: 'Jordan', lastName: 'Lee', company: 'Acme Widgets' },
        submittedBy: { kind: 'rep', id: '005000000000001' },
      },
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as ReferralBody;
    return eventually(
      async () => {
        const r = await referral(id);
        return r.crm ? r : undefined;
      },
      15_000,
      'referral pushed to Salesforce',
    );
  };
  /** The sales team: convert the lead, set the amount, walk the opportunity to Closed Won. */
  const winDeal = (leadId: string, amount = 25_000) => {
    const { opportunityId } = salesforce.actions.convertLead({ leadId, createOpportunity: true, opportunityName: 'Acme Widgets platform' });
    salesforce.actions.updateRecord({ sobject: 'Opportunity', id: opportunityId!, fields: { Amount: amount, CloseDate: '2026-03-31' } });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Qualification' });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });
    return opportunityId!;
  };
  const wonWithReward = (id: string, timeoutMs = 20_000) =>
    eventually(
      async () => {
        const r = await referral(id);
        return r.status === 'closed_won' && r.rewards.length > 0 ? r : undefined;
      },
      timeoutMs,
      'closed won with a reward',
    );

  it('follows a lead through conversion to Closed Won: $2,500 waits for approval and Referral__c and the Opportunity carry the write-back', async () => {
    const pushed = await logReferral('jordan@acme-widgets.com');
    expect(pushed.crm!.person.objectType).toBe('lead');
    const referralRecord = () => salesforce.state.records('Referral__c').find((r) => r.Referloop_Id__c === pushed.id);
    // The referral's CRM ids are stored before its Referral__c is upserted.
    expect(await eventually(referralRecord, 10_000, 'Referral__c')).toMatchObject({
      Referrer_Name__c: 'Pia Partner',
      Lead__c: pushed.crm!.person.id,
    });

    const opportunityId = winDeal(pushed.crm!.person.id);
    const won = await wonWithReward(pushed.id);
    expect(won.attributions).toEqual([expect.objectContaining({ dealId: opportunityId, status: 'active' })]);
    expect(won.rewards).toEqual([
      expect.objectContaining({ amount: 2500, status: 'pending', dueDate: '2026-06-29', milestone: 'closed_won' }),
    ]);

    await eventually(() => (referralRecord()?.Status__c === 'closed_won' ? true : undefined), 10_000, 'Referral__c status');
    const opportunity = await eventually(
      () => {
        const o = salesforce.state.record('Opportunity', opportunityId);
        return o?.Referral_Id__c === pushed.id ? o : undefined;
      },
      10_000,
      'Opportunity write-back',
    );
    expect(opportunity).toMatchObject({ Referrer_Name__c: 'Pia Partner', Attributed_Amount__c: 25000 });
  });

  it('gets the same result from duplicated and reordered Outbound Messages, with a token expiring mid-sync', async () => {
    salesforce.faults.duplicateOutbound(true);
    salesforce.faults.reorderOutbound(true);
    try {
      const pushed = await logReferral('sam@orbit-analytics.io');
      salesforce.faults.expireAccessTokens();
      winDeal(pushed.crm!.person.id, 40_000);
      const won = await wonWithReward(pushed.id);
      await salesforce.outboundSettled();
      const after = await referral(pushed.id);
      expect(after.rewards).toHaveLength(1);
      expect(after.rewards[0]).toMatchObject({ amount: 4000 });
      expect(after.timeline.filter((t) => t.to === 'closed_won')).toHaveLength(1);
      expect(won.id).toBe(after.id);
    } finally {
      salesforce.faults.duplicateOutbound(false);
      salesforce.faults.reorderOutbound(false);
    }
  });

  it('repairs a missed Outbound Message with the SOQL poll', async () => {
    const pushed = await logReferral('lee@northwind.dev');
    await salesforce.outboundSettled();
    // Every event stored, whatever its state: the sync may settle earlier ones meanwhile.
    const storedEvents = async () => (await svc.rows<{ n: number }>('SELECT count(*) AS n FROM inbox'))[0]!.n;
    const stored = await storedEvents();
    salesforce.faults.dropNextOutbound(1_000);
    winDeal(pushed.crm!.person.id, 10_000);
    await salesforce.outboundSettled();
    salesforce.faults.dropNextOutbound(-1_000);
    expect(await storedEvents()).toBe(stored);
    expect((await referral(pushed.id)).status).toBe('accepted');

    const installationId = ((await (await svc.api('/installations')).json()) as { id: string }[])[0]!.id;
    expect((await svc.api(`/installations/${installationId}/reconcile`, { method: 'POST' })).status).toBe(202);
    const repaired = await wonWithReward(pushed.id);
    expect(repaired.rewards[0]).toMatchObject({ amount: 1000 });
  });

  /** Rows of the hand-made notification below; the sandbox's own messages may still be arriving. */
  const inboxCount = async () =>
    (await svc.rows<{ n: number }>("SELECT count(*) AS n FROM inbox WHERE event_key LIKE '04l000000000001%'"))[0]!.n;
  const soap = (org: string) => `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>${org}</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
   <EnterpriseUrl>https://example.invalid/services/Soap/c/62.0/00D</EnterpriseUrl>
   <PartnerUrl>https://example.invalid/services/Soap/u/62.0/00D</PartnerUrl>
   <Notification>
    <Id>04l000000000001AAA</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
     <sf:Id>006000000000001AAA</sf:Id>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;
  const post = (body: string) =>
    fetch(`${svc.url}/webhooks/salesforce`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
    });

  it('refuses a message from an unknown org and malformed SOAP with a SOAP fault, storing nothing', async () => {
    const before = await inboxCount();
    const unknown = await post(soap('00D000000000999AAA'));
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expect(await unknown.text()).toContain('Fault');
    const malformed = await post('<soapenv:Envelope><oops');
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(await malformed.text()).toContain('Fault');
    expect(await inboxCount()).toBe(before);
    // The same message from the connected org is stored and acknowledged.
    const known = await post(soap(orgId));
    expect(known.status).toBe(200);
    expect(await known.text()).toContain('<Ack>true</Ack>');
    expect(await inboxCount()).toBe(before + 1);
  });

  it('tells the Lead owner when a referral arrives from outside Salesforce', async () => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'ria@customer-co.com', name: 'Ria', type: 'customer' },
        referee: { email: 'noa@fresh-leads.io' },
        submittedBy: { kind: 'referrer' },
      },
    });
    expect(res.status).toBe(201);
    const recipients = await eventually(
      async () => {
        const rows = await svc.rows<{ payload: string }>("SELECT payload FROM outbox WHERE topic = 'referral.arrived_internal'");
        return rows.length ? rows.map((r) => (JSON.parse(r.payload) as { to: { email: string } }).to.email) : undefined;
      },
      15_000,
      'arrival notice',
    );
    // The Lead Referloop created belongs to the connected user, whose email comes from User.
    expect(recipients).toEqual(['admin@sandbox.example']);
  });

  it('obeys REQUEST_LIMIT_EXCEEDED: no further calls, events wait instead of failing', async () => {
    const pushed = await logReferral('kai@storm-systems.com');
    await salesforce.outboundSettled();
    await eventually(
      async () => ((await svc.service.runtime.store.inbox.pendingCount()) === 0 ? true : undefined),
      10_000,
      'inbox drained',
    );
    salesforce.faults.failNext('REQUEST_LIMIT_EXCEEDED', 1);
    winDeal(pushed.crm!.person.id, 30_000);
    await salesforce.outboundSettled();
    await eventually(() => (salesforce.state.requests.some((r) => r.status === 403) ? true : undefined), 10_000, 'the limit error');
    const callsAfterLimit = salesforce.state.requests.length;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(salesforce.state.requests.length).toBe(callsAfterLimit);
    expect(await svc.service.runtime.store.inbox.pendingCount()).toBeGreaterThan(0);
    const dead = (await (await svc.api('/dead-letters')).json()) as { jobs: unknown[]; events: unknown[] };
    expect(dead).toEqual({ jobs: [], events: [] });
  });
});

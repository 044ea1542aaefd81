import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * The Salesforce cards over HTTP: the calls the Apex controller makes (`programs` and `logReferral`,
 * `eligibilityOf`, `askForReferral`, `referralsOfOpportunity`) with the installation's card key,
 * against the service and a sandbox Salesforce.
 */
const CLIENT = { clientId: 'e2e-sf-cards-client', clientSecret: 'e2e-sf-cards-secret' };
/** The body ReferloopController.askForReferral sends (checked against the API schema in apex-payloads.test.ts). */
const ASK = JSON.parse(readFileSync(new URL('../fixtures/salesforce/apex/ask-for-referral.request.json', import.meta.url), 'utf8'));

interface CardReferral {
  id: string;
  status: string;
  referrer: { name: string; email: string; type: string };
  attributions: { dealId: string; share: number; status: string; role: string; evidence: Record<string, string>[]; reasons: string[] }[];
  rewards: {
    dealId: string | null;
    amountCents: number;
    currency: string;
    currencyDigits: number;
    status: string;
    dueDate: string | null;
    grant: { kind: string };
    givenAs: string;
  }[];
  decisions: { attribution: { dealId: string; summary: string }[] };
}

describe('the Salesforce eligibility and opportunity cards, with a card key', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;
  let installationId: string;
  let key: string;

  const withKey = (path: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(`${svc.url}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });

  beforeAll(async () => {
    ({ salesforce, svc, installationId } = await startWithSandboxSalesforce(CLIENT, {}, (org) => {
      org.actions.addCustomField({ sobject: 'Account', name: 'NPS__c', type: 'double', label: 'NPS' });
      org.actions.addCustomField({ sobject: 'Account', name: 'Customer_Since__c', type: 'date', label: 'Customer Since' });
    }));
    const issued = await svc.api(`/installations/${installationId}/card-keys`, { method: 'POST' });
    expect(issued.status).toBe(201);
    ({ key } = (await issued.json()) as { key: string });
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  const since = () => new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10);

  it("eligibility: every rule with the value seen and when; the ask goes to the account's champion", async () => {
    const account = salesforce.actions.createAccount({ Name: 'Globex', Type: 'Customer - Direct', NPS__c: 10, Customer_Since__c: since() });
    const accountId = String(account.Id);
    salesforce.actions.createContact({ FirstName: 'Pat', LastName: 'Primary', Email: 'pat@globex.io', AccountId: accountId });
    const champion = salesforce.actions.createContact({
      FirstName: 'Cora',
      LastName: 'Champion',
      Email: 'cora@globex.io',
      AccountId: accountId,
    });

    const res = await withKey(`/accounts/${accountId}/eligibility`);
    expect(res.status).toBe(200);
    const eligibility = (await res.json()) as { eligible: boolean; summary: string; evaluatedAt: string; reasons: unknown[] };
    expect(eligibility.eligible).toBe(true);
    expect(eligibility.summary).toMatch(/^Eligible to refer/);
    expect(Date.parse(eligibility.evaluatedAt)).not.toBeNaN();
    expect(eligibility.reasons).toContainEqual({ rule: 'min_nps', passed: true, detail: 'NPS 10 is at least 9' });

    // The account's owner asks (the Apex signs with the Salesforce user) and picked Cora, not the default champion.
    const askedBy = { name: 'Sandbox Admin', email: 'admin@sandbox.example' };
    const asked = await withKey(`/accounts/${accountId}/asks`, {
      method: 'POST',
      json: { ...ASK, askedBy, contactId: String(champion.Id) },
    });
    expect(asked.status, await asked.clone().text()).toBe(201);
    expect(await asked.json()).toMatchObject({
      status: 'sent',
      champion: { email: 'cora@globex.io', name: 'Cora Champion' },
      askedBy,
      installationId,
    });
  });

  it('a refused ask comes back with its reasons (200, so the Apex shows them), nothing sent', async () => {
    const account = salesforce.actions.createAccount({ Name: 'Initech', Type: 'Customer - Direct', NPS__c: 6, Customer_Since__c: since() });
    const accountId = String(account.Id);
    salesforce.actions.createContact({ LastName: 'Park', Email: 'sam@initech.io', AccountId: accountId });
    const asked = await withKey(`/accounts/${accountId}/asks`, {
      method: 'POST',
      json: { ...ASK, contactId: undefined, idempotencyKey: 'sf-card:initech' },
    });
    expect(asked.status).toBe(200);
    const answer = (await asked.json()) as { status: string; reasons: string[] };
    expect(answer.status).toBe('refused');
    expect(answer.reasons.join(' ')).toContain('NPS 6 is below 9');
    // A CRM user who is not the account's owner may not ask under the default program: refused with that reason.
    const stranger = await withKey(`/accounts/${accountId}/asks`, {
      method: 'POST',
      json: { ...ASK, contactId: undefined, idempotencyKey: 'sf-card:initech:stranger' },
    });
    expect(((await stranger.json()) as { reasons: string[] }).reasons.join(' ')).toMatch(/lets only cs_owner, account_owner, admins ask/);
  });

  it("an opportunity's referral: who referred it, the share, evidence, reasons and the reward in minor units", async () => {
    const contact = salesforce.actions.createContact({ FirstName: 'Alex', LastName: 'Ng', Email: 'alex@umbrella.io' });
    const { opportunityId } = salesforce.actions.createOpportunity({
      name: 'Umbrella platform',
      contactIds: [contact.Id as string],
      stageName: 'Qualification',
      amount: 40_000,
      closeDate: '2026-03-31',
    });
    // Logged by a rep through the Log a referral card (the body logReferral sends): a claim on the open opportunity.
    const logged = await withKey('/referrals', {
      method: 'POST',
      json: {
        referrer: { name: 'Pia Partner', email: 'pia@partner-firm.com', type: 'partner' },
        referee: { email: 'alex@umbrella.io', firstName: 'Alex', lastName: 'Ng' },
        submittedBy: { kind: 'rep', id: '005000000000001AAA' },
      },
    });
    expect(logged.status).toBe(201);
    const { id } = (await logged.json()) as { id: string };
    const approved = await svc.api(`/referrals/${id}/claim/approve`, { method: 'POST', json: { approvedBy: 'Ada Admin' } });
    expect(approved.status).toBe(200);
    salesforce.actions.moveStage({ opportunityId, stageName: 'Closed Won' });

    const onDeal = `/referrals?crm=salesforce&objectType=deal&objectId=${opportunityId}`;
    const items = await eventually(
      async () => {
        const body = (await (await withKey(onDeal)).json()) as { items: CardReferral[] };
        return body.items[0]?.rewards.length ? body.items : undefined;
      },
      20_000,
      "the won opportunity's reward, through the card key",
    );
    expect(items).toHaveLength(1);
    const [referral] = items as [CardReferral];
    expect(referral).toMatchObject({ id, status: 'closed_won', referrer: { name: 'Pia Partner', type: 'partner' } });
    expect(referral.attributions).toContainEqual(
      expect.objectContaining({
        dealId: opportunityId,
        share: 1,
        status: 'active',
        evidence: expect.arrayContaining([expect.objectContaining({ via: 'claim', approvedBy: 'Ada Admin' })]),
      }),
    );
    expect(referral.decisions.attribution.find((d) => d.dealId === opportunityId)?.summary).toBeTruthy();
    // 10% of $40,000 for a partner: 400000 minor units with the currency's 2 digits.
    expect(referral.rewards).toEqual([
      expect.objectContaining({
        dealId: opportunityId,
        amountCents: 400_000,
        currency: 'USD',
        currencyDigits: 2,
        status: 'pending',
        // What the Apex reads as grantKind and givenAs.
        grant: { kind: 'cash' },
        givenAs: 'Cash',
      }),
    ]);
    expect(referral.rewards[0]!.dueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // Its Referral__c in the org points at the opportunity (Opportunity__c), the way Salesforce relates them.
    const synced = await eventually(
      () => salesforce.state.records('Referral__c').find((r) => r.Referloop_Id__c === id && r.Status__c === 'closed_won'),
      10_000,
      'Referral__c written back as won',
    );
    expect(synced).toMatchObject({ Opportunity__c: opportunityId, Contact__c: contact.Id });
  });

  it('refuses a record of another CRM with the reason, and an opportunity with no referral is an empty list', async () => {
    const wrong = await withKey('/referrals?crm=hubspot&objectType=deal&objectId=006000000000001AAA');
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toBe(
      'This installation is connected to salesforce, not hubspot.',
    );
    const unknownCrm = await withKey('/referrals?crm=pipedrive&objectType=deal&objectId=006000000000001AAA');
    expect(unknownCrm.status).toBe(400);
    const { opportunityId } = salesforce.actions.createOpportunity({ name: 'Quiet deal', stageName: 'Qualification', amount: 1_000 });
    const empty = await withKey(`/referrals?crm=salesforce&objectType=deal&objectId=${opportunityId}`);
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ items: [], nextCursor: null });
  });

  it('Log a referral with programs side by side: the card lists its installation’s programs and logs into the one picked', async () => {
    const created = await svc.api(`/installations/${installationId}/programs`, {
      method: 'POST',
      json: { name: 'Partner program', from: 'blank' },
    });
    expect(created.status).toBe(201);
    const partners = (await created.json()) as { id: string };
    const listed = await withKey('/programs');
    expect(listed.status).toBe(200);
    const { items } = (await listed.json()) as { items: { id: string; name: string; isDefault: boolean }[] };
    expect(items.map((p) => [p.name, p.isDefault])).toEqual([
      ['Referral program', true],
      ['Partner program', false],
    ]);

    const body = (programId: string) => ({
      referrer: { name: 'Quinn Partner', email: 'quinn@partner-two.com', type: 'partner' },
      referee: { email: 'rae@wayne.io', firstName: 'Rae', lastName: 'Wayne' },
      programId,
      submittedBy: { kind: 'rep', id: '005000000000001AAA' },
    });
    const referralsBefore = (await (await svc.api('/referrals')).json()) as { items: unknown[] };
    const unknown = await withKey('/referrals', { method: 'POST', json: body('prg_00000000000000000000') });
    // A card gets every refusal as a verdict it shows (200), not as an error.
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toEqual({
      verdict: { outcome: 'invalid', reasons: ['There is no program prg_00000000000000000000 in this installation.'] },
    });
    expect(((await (await svc.api('/referrals')).json()) as { items: unknown[] }).items).toHaveLength(referralsBefore.items.length);

    const logged = await withKey('/referrals', { method: 'POST', json: body(partners.id) });
    expect(logged.status).toBe(201);
    const inPartners = (await (await svc.api(`/referrals?programId=${partners.id}`)).json()) as { items: { referee: { email: string } }[] };
    expect(inPartners.items.map((r) => r.referee.email)).toEqual(['rae@wayne.io']);
  });
});

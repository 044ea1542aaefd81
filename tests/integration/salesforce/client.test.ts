import { afterEach, describe, expect, it } from 'vitest';
import type { CrmWrite } from '../../../connectors/connector.ts';
import { connectSandbox, type Connected } from '../../fixtures/salesforce/harness.ts';

let env: Connected;
afterEach(() => env.close());

const dataCalls = (e: Connected, method: string, path: string) =>
  e.sandbox.state.requests.filter((r) => r.method === method && r.path === path).length;

/** What every CRM client does is in tests/conformance/crm-client.ts; these cases are Salesforce's own. */
describe('Salesforce client provisioning and metadata', () => {
  it('finds everything the package ships, then reports exactly the field that went missing', async () => {
    env = await connectSandbox();
    const fresh = await env.client.provision();
    expect(fresh.missing).toEqual([]);
    expect(fresh.created).toEqual([]);
    expect(fresh.existing).toContain('Referral__c.Referloop_Id__c');

    env.sandbox.faults.removeField('Referral__c', 'Referrer_Type__c');
    const report = await env.client.provision();
    expect(report.missing).toHaveLength(1);
    expect(report.missing[0]).toMatch(/^field Referral__c\.Referrer_Type__c is missing/);
    // All describes in one Composite call each time.
    expect(dataCalls(env, 'POST', '/composite')).toBe(2);
  });

  it('builds object and field names from the managed-package namespace', async () => {
    env = await connectSandbox({ namespace: 'rl' });
    env.sandbox.faults.removeField('Opportunity', 'rl__Attributed_Amount__c');
    const report = await env.client.provision();
    expect(report.existing).toContain('rl__Referral__c.rl__Referloop_Id__c');
    expect(report.missing).toEqual([expect.stringMatching(/^field Opportunity\.rl__Attributed_Amount__c is missing/)]);
  });

  it('lists stages with won/closed from OpportunityStage metadata', async () => {
    env = await connectSandbox({ queryBatchSize: 3 });
    const stages = await env.client.listPipelineStages();
    expect(stages).toHaveLength(10);
    expect(stages.filter((s) => s.isClosed).map((s) => [s.stageId, s.isWon])).toEqual([
      ['Closed Won', true],
      ['Closed Lost', false],
    ]);
    expect(dataCalls(env, 'GET', '/query')).toBe(1);
    expect(env.sandbox.state.requests.filter((r) => r.path.startsWith('/query/')).length).toBe(3);
  });
});

describe('Salesforce client people and deals', () => {
  it('finds referees as contact or lead by email and creates the rest as Leads in one collection call', async () => {
    env = await connectSandbox();
    const { actions } = env.sandbox;
    const account = actions.createAccount({ Name: 'Globex', Website: 'https://www.globex.example' });
    const contact = actions.createContact({ LastName: 'Lee', Email: 'Pat.Lee@globex.example', AccountId: account.Id });
    actions.createLead({ LastName: 'Lee', Company: 'Globex', Email: 'pat.lee@globex.example' });
    const lead = actions.createLead({ LastName: 'Park', Company: 'Initech', Email: 'sam@initech.example' });

    const referees = [
      { key: 'r1', email: 'pat.lee@globex.example', firstName: 'Pat', lastName: 'Lee', company: 'Globex', domain: null },
      { key: 'r2', email: 'sam@initech.example', firstName: null, lastName: null, company: null, domain: null },
      ...['a', 'b', 'c'].map((n) => ({
        key: `new-${n}`,
        email: `${n}@hooli.example`,
        firstName: n.toUpperCase(),
        lastName: null,
        company: null,
        domain: 'hooli.example',
      })),
    ];
    const ensured = await env.client.ensureReferees(referees);
    expect(ensured.map((e) => [e.key, e.person.objectType, e.created])).toEqual([
      ['r1', 'contact', false],
      ['r2', 'lead', false],
      ['new-a', 'lead', true],
      ['new-b', 'lead', true],
      ['new-c', 'lead', true],
    ]);
    expect(ensured[0]?.person.id).toBe(contact.Id);
    expect(ensured[0]?.company?.id).toBe(account.Id);
    expect(ensured[1]?.person.id).toBe(lead.Id);
    expect(dataCalls(env, 'POST', '/composite/sobjects')).toBe(1);
    const created = env.sandbox.state.records('Lead').filter((l) => String(l.Email).endsWith('@hooli.example'));
    expect(created.map((l) => [l.LastName, l.Company])).toEqual([
      ['a', 'hooli.example'],
      ['b', 'hooli.example'],
      ['c', 'hooli.example'],
    ]);

    const again = await env.client.ensureReferees(referees);
    expect(again.every((e) => !e.created)).toBe(true);
    expect(dataCalls(env, 'POST', '/composite/sobjects')).toBe(1);
  });

  it('follows a lead conversion through getPeople and finds the new deal through its contact role', async () => {
    env = await connectSandbox();
    const lead = env.sandbox.actions.createLead({ FirstName: 'Pat', LastName: 'Lee', Company: 'Globex', Email: 'pat@globex.example' });
    const before = await env.client.getPeople('lead', [lead.Id as string]);
    expect(before.records[0]?.converted).toBeUndefined();

    const converted = env.sandbox.actions.convertLead({ leadId: lead.Id as string });
    const after = await env.client.getPeople('lead', [String(lead.Id).slice(0, 15), '00Q5g0000000zzz']);
    expect(after.records[0]).toMatchObject({
      id: lead.Id,
      converted: { contactId: converted.contactId, companyId: converted.accountId, dealId: converted.opportunityId },
    });
    expect(after.gone).toEqual([{ objectType: 'lead', id: '00Q5g0000000zzzEAA' }]);

    const contacts = await env.client.getPeople('contact', [converted.contactId]);
    expect(contacts.records[0]).toMatchObject({ email: 'pat@globex.example', companyIds: [converted.accountId] });
    await expect(env.client.findDealIdsFor({ contactIds: [converted.contactId], companyIds: [] })).resolves.toEqual([
      converted.opportunityId,
    ]);
  });

  it('finds deals through OpportunityContactRole and the account, and reads them with stage metadata', async () => {
    env = await connectSandbox();
    const { actions } = env.sandbox;
    const account = actions.createAccount({ Name: 'Initech' });
    const c1 = actions.createContact({ LastName: 'One', AccountId: account.Id });
    const c2 = actions.createContact({ LastName: 'Two' });
    const byRole = actions.createOpportunity({ name: 'Roles only', contactIds: [c2.Id as string, c1.Id as string], amount: 25_000 });
    const byAccount = actions.createOpportunity({ name: 'Account only', accountId: account.Id as string, amount: 100_000 });

    expect((await env.client.findDealIdsFor({ contactIds: [c2.Id as string], companyIds: [] })).sort()).toEqual([byRole.opportunityId]);
    expect((await env.client.findDealIdsFor({ contactIds: [], companyIds: [account.Id as string] })).sort()).toEqual([
      byAccount.opportunityId,
    ]);

    actions.moveStage({ opportunityId: byRole.opportunityId, stageName: 'Closed Won' });
    const { records, gone } = await env.client.getDeals([byRole.opportunityId, byAccount.opportunityId]);
    expect(gone).toEqual([]);
    expect(records.find((d) => d.id === byRole.opportunityId)).toMatchObject({
      isWon: true,
      isClosed: true,
      stageId: 'Closed Won',
      amountCents: 2_500_000,
      currency: 'USD',
      contactIds: [c2.Id, c1.Id],
    });
    expect(records.find((d) => d.id === byAccount.opportunityId)).toMatchObject({ isWon: false, companyIds: [account.Id] });
  });

  it('reads amounts in the currency of each opportunity in a multi-currency org', async () => {
    env = await connectSandbox({ multiCurrency: true, currency: 'EUR' });
    const yen = env.sandbox.actions.createOpportunity({ amount: 3_000_000, currency: 'JPY' });
    const euro = env.sandbox.actions.createOpportunity({ amount: 1_234.5 });
    const { records } = await env.client.getDeals([yen.opportunityId, euro.opportunityId]);
    expect(records.map((d) => [d.currency, d.amountCents])).toEqual([
      ['JPY', 3_000_000],
      ['EUR', 123_450],
    ]);
  });
});

describe('Salesforce client writes', () => {
  it('upserts Referral__c by external id and updates deals and accounts in collection calls, with per-item outcomes', async () => {
    env = await connectSandbox();
    const { actions } = env.sandbox;
    const lead = actions.createLead({ LastName: 'Park', Company: 'Initech', Email: 'sam@initech.example' });
    const contact = actions.createContact({ LastName: 'Lee', Email: 'pat@globex.example' });
    const account = actions.createAccount({ Name: 'Globex' });
    const deal = actions.createOpportunity({ accountId: account.Id as string, amount: 48_000 });
    const gone = actions.createOpportunity({ amount: 1 });
    actions.deleteRecord({ sobject: 'Opportunity', id: gone.opportunityId });

    const referrer = { referrerName: 'Alex Partner', referrerEmail: 'alex@partner.example', referrerType: 'partner' };
    const writes: CrmWrite[] = [
      {
        target: 'referral',
        person: { objectType: 'lead', id: lead.Id as string },
        fields: { referralId: 'ref-1', status: 'accepted', ...referrer },
      },
      {
        target: 'referral',
        person: { objectType: 'contact', id: contact.Id as string },
        dealId: deal.opportunityId,
        fields: { referralId: 'ref-2', status: 'qualified', ...referrer },
      },
      {
        target: 'deal',
        dealId: deal.opportunityId,
        fields: { referralId: 'ref-2', referrerName: 'Alex Partner', attributedAmountCents: 4_800_000, currency: 'USD' },
      },
      {
        target: 'company',
        companyId: account.Id as string,
        fields: { eligible: true, eligibilityReason: 'NPS 10, customer for 400 days' },
      },
      {
        target: 'deal',
        dealId: gone.opportunityId,
        fields: { referralId: 'ref-3', referrerName: 'X', attributedAmountCents: 100, currency: 'USD' },
      },
    ];
    const outcomes = await env.client.write(writes);
    expect(outcomes.map((o) => [o.index, o.ok, o.error?.code])).toEqual([
      [0, true, undefined],
      [1, true, undefined],
      [2, true, undefined],
      [3, true, undefined],
      [4, false, 'not_found'],
    ]);
    expect(dataCalls(env, 'PATCH', '/composite/sobjects/Referral__c/Referloop_Id__c')).toBe(1);
    expect(dataCalls(env, 'PATCH', '/composite/sobjects')).toBe(1);

    const referrals = env.sandbox.state.records('Referral__c');
    // A referral linked to an opportunity gets its Opportunity__c lookup (the cards list an opportunity's referrals by it).
    expect(referrals.map((r) => [r.Referloop_Id__c, r.Status__c, r.Lead__c, r.Contact__c, r.Opportunity__c])).toEqual([
      ['ref-1', 'accepted', lead.Id, null, null],
      ['ref-2', 'qualified', null, contact.Id, deal.opportunityId],
    ]);
    expect(env.sandbox.state.record('Opportunity', deal.opportunityId)).toMatchObject({
      Referral_Id__c: 'ref-2',
      Attributed_Amount__c: 48_000,
    });
    expect(env.sandbox.state.record('Account', account.Id as string)).toMatchObject({ Referral_Eligible__c: true });

    // Replaying the same writes changes values in place: no second Referral__c.
    await env.client.write([{ ...writes[0], fields: { referralId: 'ref-1', status: 'contacted', ...referrer } } as CrmWrite]);
    expect(env.sandbox.state.records('Referral__c').map((r) => r.Status__c)).toEqual(['contacted', 'qualified']);
  });

  it('retries records Salesforce could not lock, and not duplicates', async () => {
    env = await connectSandbox();
    const account = env.sandbox.actions.createAccount({ Name: 'Globex' });
    env.sandbox.faults.failNextRecords('UNABLE_TO_LOCK_ROW', 1);
    const ok = await env.client.write([
      { target: 'company', companyId: account.Id as string, fields: { eligible: false, eligibilityReason: 'open escalation' } },
    ]);
    expect(ok).toEqual([{ index: 0, ok: true }]);
    expect(dataCalls(env, 'PATCH', '/composite/sobjects')).toBe(2);

    env.sandbox.faults.failNextRecords('DUPLICATE_VALUE', 1);
    const dup = await env.client.write([
      { target: 'company', companyId: account.Id as string, fields: { eligible: true, eligibilityReason: 'x' } },
    ]);
    expect(dup[0]).toMatchObject({ ok: false, error: { code: 'conflict', retryable: false } });
    expect(dataCalls(env, 'PATCH', '/composite/sobjects')).toBe(3);
  });

  it('adds a timeline note as a completed Task on the person, its subject carrying the idempotency marker', async () => {
    env = await connectSandbox();
    const contact = env.sandbox.actions.createContact({ LastName: 'Referrer', Email: 'alex@partner.example' });
    const note = {
      person: { objectType: 'contact' as const, id: contact.Id as string },
      title: 'Your referral closed',
      body: 'Globex signed.',
      idempotencyKey: 'ref-1:closed_won',
    };
    await env.client.addTimelineNote(note);
    const tasks = env.sandbox.state.records('Task');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ WhoId: contact.Id, Status: 'Completed', Description: 'Globex signed.' });
    expect(String(tasks[0]?.Subject)).toMatch(/^Your referral closed \[RL [0-9a-f]{12}\]$/);
  });
});

describe('Salesforce client reconciliation', () => {
  it('pages changes with queryMore, oldest first, and continues from its cursor', async () => {
    env = await connectSandbox({ queryBatchSize: 2 });
    const since = new Date(Date.now() - 60_000);
    const { actions } = env.sandbox;
    const account = actions.createAccount({ Name: 'A' });
    const leads = ['1', '2', '3', '4', '5'].map((n) => actions.createLead({ LastName: n, Company: 'C' }));
    const opp = actions.createOpportunity({ accountId: account.Id as string });

    const first = await env.client.changedSince(null, since);
    expect(first.hasMore).toBe(false);
    expect(first.records.filter((r) => r.objectType === 'lead').map((r) => r.id)).toEqual(leads.map((l) => l.Id));
    expect(first.records.map((r) => r.id)).toEqual(expect.arrayContaining([account.Id, opp.opportunityId]));
    expect([...first.records].sort((a, b) => a.modifiedAt.localeCompare(b.modifiedAt))).toEqual(first.records);
    expect(env.sandbox.state.requests.filter((r) => r.path.startsWith('/query/')).length).toBeGreaterThanOrEqual(2);

    actions.moveStage({ opportunityId: opp.opportunityId, stageName: 'Closed Won' });
    const next = await env.client.changedSince(first.nextCursor, since);
    expect(next.records.map((r) => r.id)).toContain(opp.opportunityId);
  });

  it('stops after a page budget with hasMore and resumes exactly after the last record', async () => {
    env = await connectSandbox();
    const since = new Date(Date.now() - 60_000);
    for (let i = 0; i < 2_001; i++) env.sandbox.actions.createLead({ LastName: `L${i}`, Company: 'Bulk' });
    const first = await env.client.changedSince(null, since);
    expect(first.hasMore).toBe(true);
    const second = await env.client.changedSince(first.nextCursor, since);
    expect(second.hasMore).toBe(false);
    expect([first.records.length, second.records.length]).toEqual([2_000, 1]);
    expect(new Set([...first.records, ...second.records].map((r) => r.id)).size).toBe(2_001);
  });
});

describe('Salesforce deal sources', () => {
  it("reads the Opportunity's LeadSource, and the converted lead's when the Opportunity has none, in one more query", async () => {
    env = await connectSandbox();
    const { actions } = env.sandbox;
    const own = actions.createOpportunity({ name: 'Cold call', fields: { LeadSource: 'Cold Call' } }).opportunityId;
    const lead = actions.createLead({ LastName: 'Lee', Company: 'Initrode', Email: 'jo@initrode.io', LeadSource: 'Partner Referral' });
    const { opportunityId: converted } = actions.convertLead({
      leadId: lead.Id as string,
      createOpportunity: true,
      opportunityName: 'Initrode',
    });
    // The rep cleared the source the conversion copied onto the Opportunity.
    actions.updateRecord({ sobject: 'Opportunity', id: converted!, fields: { LeadSource: null } });
    const none = actions.createOpportunity({ name: 'No source' }).opportunityId;

    await env.client.getDeals([own]); // the org's shape is described once, then cached
    const before = env.sandbox.state.requests.length;
    const { records } = await env.client.getDeals([own, converted!, none]);
    const sources = Object.fromEntries(records.map((d) => [d.name, d.sources]));
    expect(sources).toEqual({
      'Cold call': [{ field: 'Opportunity.LeadSource', value: 'Cold Call' }],
      Initrode: [{ field: 'Lead.LeadSource', value: 'Partner Referral' }],
      'No source': [],
    });
    expect(env.sandbox.state.requests.length - before).toBe(2);
  });
});

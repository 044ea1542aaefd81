import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * A Salesforce org with its own NPS and customer-since fields on Account: Referloop finds them in
 * the Account describe at install, and an account of Type "Customer - Direct" with NPS 9 and a
 * long enough tenure becomes eligible under the default program, written back to the record.
 */
const CLIENT = { clientId: 'e2e-eligibility-client', clientSecret: 'e2e-eligibility-secret' };

interface EligibilityFields {
  installationId: string;
  fields: {
    nps: string | null;
    customerSince: string | null;
    healthScore: string | null;
    openEscalations: string | null;
    accountType: { field: string; customerValues: string[] } | null;
  } | null;
}

describe('Salesforce eligibility through the org’s own Account fields', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    ({ salesforce, svc, installationId } = await startWithSandboxSalesforce(CLIENT, {}, (org) => {
      // What the org's admin built before installing Referloop.
      org.actions.addCustomField({ sobject: 'Account', name: 'NPS__c', type: 'double', label: 'NPS' });
      org.actions.addCustomField({ sobject: 'Account', name: 'Customer_Since__c', type: 'date', label: 'Customer Since' });
    }));
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  const fields = async () => (await (await svc.api(`/installations/${installationId}/eligibility-fields`)).json()) as EligibilityFields;

  it('detects the NPS and customer-since fields and the Type values that mean customer at install', async () => {
    expect(await fields()).toEqual({
      installationId,
      fields: {
        nps: 'NPS__c',
        customerSince: 'Customer_Since__c',
        healthScore: null,
        openEscalations: null,
        accountType: { field: 'Type', customerValues: ['Customer - Direct', 'Customer - Channel'] },
      },
    });
  });

  it('makes an account with NPS 9, Type "Customer - Direct" and a year of tenure eligible under the default program', async () => {
    const since = new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10);
    const account = salesforce.actions.createAccount({ Name: 'Globex', Type: 'Customer - Direct', NPS__c: 9, Customer_Since__c: since });
    const id = String(account.Id);
    // The Account's Outbound Message carries the change; the eligibility is written back to the record.
    const written = await eventually(
      () => {
        const record = salesforce.state.records('Account').find((r) => String(r.Id).startsWith(id.slice(0, 15)));
        return record?.Referral_Eligible__c === true ? record : undefined;
      },
      15_000,
      'Referral_Eligible__c written back',
    );
    expect(written.Referral_Eligibility_Reason__c).toMatch(/^Eligible to refer/);

    const res = await svc.api(`/accounts/${id}/eligibility?installationId=${installationId}`);
    expect(res.status).toBe(200);
    const result = (await res.json()) as { eligible: boolean; reasons: { rule: string; passed: boolean; detail: string }[] };
    expect(result.eligible).toBe(true);
    expect(result.reasons).toEqual(
      expect.arrayContaining([
        { rule: 'min_nps', passed: true, detail: 'NPS 9 is at least 9' },
        { rule: 'min_customer_days', passed: true, detail: 'customer for 400 days, at least 90' },
        { rule: 'lifecycle_stage', passed: true, detail: 'lifecycle stage is Customer - Direct, which means customer' },
      ]),
    );
  });

  it('an NPS change to 9 on an Account reaches Referloop by Outbound Message: eligible on the record within seconds, the owner told', async () => {
    const since = new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10);
    const account = salesforce.actions.createAccount({ Name: 'Initech', Type: 'Customer - Direct', NPS__c: 6, Customer_Since__c: since });
    const id = String(account.Id);
    const record = () => salesforce.state.records('Account').find((r) => r.Id === id);
    await eventually(() => (record()?.Referral_Eligibility_Reason__c ? true : undefined), 15_000, 'first evaluation written back');
    expect(record()).toMatchObject({
      Referral_Eligible__c: false,
      Referral_Eligibility_Reason__c: expect.stringMatching(/NPS 6 is below 9/),
    });

    salesforce.actions.updateRecord({ sobject: 'Account', id, fields: { NPS__c: 9 } });
    await eventually(() => (record()?.Referral_Eligible__c === true ? true : undefined), 5_000, 'eligibility after the NPS change');
    // The Outbound Message carried it: reconciliation never ran.
    const db = svc.sqlite;
    expect(db.prepare("SELECT count(*) FROM sync_cursors WHERE name = 'reconcile'").pluck().get()).toBe(0);
    const told = db.prepare("SELECT payload FROM outbox WHERE topic = 'account.eligible' AND channel = 'email'").pluck().all() as string[];
    expect(told.map((p) => JSON.parse(p))).toContainEqual(
      expect.objectContaining({
        to: expect.objectContaining({ email: 'admin@sandbox.example' }),
        data: { account: expect.objectContaining({ name: 'Initech' }) },
      }),
    );
  });

  it('refuses a mapping naming a field the org does not have, with its name, and writes nothing', async () => {
    const before = await fields();
    const res = await svc.api(`/installations/${installationId}/eligibility-fields`, {
      method: 'PUT',
      json: { ...before.fields, healthScore: 'Health_Score__c' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: 'invalid_input',
        message: 'The eligibility fields were not changed: the CRM has no account field Health_Score__c.',
        details: { issues: [{ field: 'healthScore', message: 'the CRM has no account field Health_Score__c' }] },
      },
    });
    expect(await fields()).toEqual(before);
  });

  it('accepts a field the admin adds later, and a mapping naming it is stored', async () => {
    salesforce.actions.addCustomField({ sobject: 'Account', name: 'Health_Score__c', type: 'double', label: 'Health Score' });
    const before = await fields();
    const res = await svc.api(`/installations/${installationId}/eligibility-fields`, {
      method: 'PUT',
      json: { ...before.fields, healthScore: 'Health_Score__c' },
    });
    expect(res.status).toBe(200);
    expect((await fields()).fields?.healthScore).toBe('Health_Score__c');
  });
});

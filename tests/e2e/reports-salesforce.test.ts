import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { addDays } from '../../src/domain/dates.ts';
import type { Report } from '../../src/use-cases/reports.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * `GET /api/v1/reports` against a sandbox Salesforce org: the org's other won Opportunities (SOQL
 * on IsWon and CloseDate) give the time to close to compare with, and its Accounts typed Customer
 * (SELECT COUNT()) the referral rate. The sandbox stamps CreatedDate with today, so close dates
 * are days from today.
 */
const CLIENT = { clientId: 'e2e-reports-sf-client', clientSecret: 'e2e-reports-sf-secret' };

interface ReferralBody {
  status: string;
  crm: { person: { id: string } } | null;
}

describe('reports, end to end with Salesforce', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;
  const today = new Date().toISOString().slice(0, 10);
  const from = addDays(today, -1);
  const to = addDays(today, 40);

  const json = async <T>(res: Response | Promise<Response>, status = 200): Promise<T> => {
    const reply = await res;
    const text = await reply.text();
    expect(reply.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const referral = (id: string) => json<ReferralBody>(svc.api(`/referrals/${id}`));

  beforeAll(async () => {
    ({ salesforce, svc } = await startWithSandboxSalesforce(CLIENT));
    const { actions } = salesforce;
    for (const name of ['Acme', 'Globex']) actions.createAccount({ Name: name, Type: 'Customer - Direct' });
    actions.createAccount({ Name: 'Hooli', Type: 'Prospect' });

    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'cora@happy-customer.com', name: 'Cora Customer', type: 'customer' },
        referee: { email: 'dana@reportco.example', firstName: 'Dana', lastName: 'Diaz', company: 'ReportCo' },
        submittedBy: { kind: 'rep', id: '005000000000001' },
      },
    });
    const { id } = await json<{ id: string }>(res, 201);
    const pushed = await eventually(async () => ((await referral(id)).crm ? referral(id) : undefined), 20_000, 'referral pushed');
    const converted = actions.convertLead({ leadId: pushed.crm!.person.id, createOpportunity: true, opportunityName: 'ReportCo' });
    actions.updateRecord({
      sobject: 'Opportunity',
      id: converted.opportunityId!,
      fields: { Amount: 2_000, CloseDate: addDays(today, 12) },
    });
    actions.moveStage({ opportunityId: converted.opportunityId!, stageName: 'Closed Won' });
    // The org's Opportunities nobody referred: 4 and 8 days to close, and one lost.
    for (const [name, days, stageName] of [
      ['Direct A', 4, 'Closed Won'],
      ['Direct B', 8, 'Closed Won'],
      ['Direct C', 6, 'Closed Lost'],
    ] as const) {
      const { opportunityId } = actions.createOpportunity({ name, amount: 500, closeDate: addDays(today, days) });
      actions.moveStage({ opportunityId, stageName });
    }
    await eventually(async () => ((await referral(id)).status === 'closed_won' ? true : undefined), 20_000, 'referral closed won');
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  it('answers what was seeded, with the org’s Opportunities and customer Accounts', async () => {
    const report = await json<Report>(svc.api(`/reports?from=${from}&to=${to}&granularity=week`));
    expect([report.referrals, report.won, report.conversionRate]).toEqual([1, 1, 1]);
    expect(report.revenueAttributed).toEqual([{ currency: 'USD', amountCents: 200_000, deals: 1 }]);
    expect(report.timeToClose).toMatchObject({
      referredMedianDays: 12,
      referredDeals: 1,
      otherMedianDays: 6,
      otherDeals: 2,
      limitation: null,
    });
    expect(report.referralRate).toMatchObject({ referringAccounts: 1, customerAccounts: 2, rate: 0.5, limitation: null });
  });
});

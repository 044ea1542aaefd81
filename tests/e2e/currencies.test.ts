import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { eventually, startWithSandboxHubSpot, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * A EUR deal under the default USD program, against each sandbox CRM with two dated EUR rates:
 * the partner earns 10% of the deal converted at the rate in force on its close date, and the
 * reward's reasons name that rate, its source and its date.
 */
interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { objectType: string; id: string } } | null;
  rewards: {
    id: string;
    amount: number;
    amountCents: number;
    currency: string;
    status: string;
    reasons: string[];
    conversion: { dealCurrency: string; dealAmountCents: number; rateDate: string; rates: { rate: string; source: string }[] } | null;
  }[];
}

const PARTNER = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' };

async function logReferral(svc: TestService, email: string): Promise<ReferralBody> {
  const res = await svc.api('/referrals', {
    method: 'POST',
    json: { referrer: PARTNER, referee: { email, firstName: 'Jo', lastName: 'Meyer', company: 'Acme GmbH' }, submittedBy: { kind: 'rep' } },
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as ReferralBody;
  return eventually(
    async () => {
      const r = (await (await svc.api(`/referrals/${id}`)).json()) as ReferralBody;
      return r.crm ? r : undefined;
    },
    15_000,
    'referral pushed to the CRM',
  );
}

const rewardsOf = (svc: TestService, id: string, settled: (r: ReferralBody) => boolean, what: string) =>
  eventually(
    async () => {
      const r = (await (await svc.api(`/referrals/${id}`)).json()) as ReferralBody;
      return r.status === 'closed_won' && settled(r) ? r.rewards : undefined;
    },
    20_000,
    what,
  );

describe('HubSpot: a EUR deal under a USD program', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    ({ hubspot, svc, installationId } = await startWithSandboxHubSpot(
      { clientId: 'e2e-fx-client', clientSecret: 'e2e-fx-secret', appId: 4343 },
      { webhookBatchMs: 20, webhookRetryMs: 100 },
    ));
    hubspot.state.currencies.addRate('EUR', 1.05, '2026-01-01T00:00:00Z');
    hubspot.state.currencies.addRate('EUR', 1.085, '2026-03-01T00:00:00Z');
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  const winDeal = (contactId: string, properties: Record<string, string>) => {
    const deal = hubspot.state.create('deals', { dealname: 'Acme GmbH', pipeline: 'default', dealstage: 'qualifiedtobuy', ...properties }, [
      { type: 'contacts', id: contactId },
    ]);
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: '2026-03-31T12:00:00Z' });
    return deal.id;
  };

  it('pays 10% of €20,000 at the March rate 1.085: $2,170, the rate named in its reasons', async () => {
    const pushed = await logReferral(svc, 'jo@acme-gmbh.de');
    winDeal(pushed.crm!.person.id, { amount: '20000', deal_currency_code: 'EUR' });
    const [reward] = await rewardsOf(svc, pushed.id, (r) => r.rewards.length > 0, 'a converted reward');
    expect(reward).toMatchObject({ amount: 2170, currency: 'USD', status: 'pending' });
    expect(reward!.conversion).toMatchObject({
      dealCurrency: 'EUR',
      dealAmountCents: 2_000_000,
      rateDate: '2026-03-31',
      rates: [{ rate: '1.085', source: 'HubSpot exchange rate 2' }],
    });
    expect(reward!.reasons).toContain(
      '€20,000.00 is $21,700.00 at 1 EUR = 1.085 USD (HubSpot exchange rate 2, in force since 2026-03-01), the rate in force on the close date 2026-03-31',
    );
  });

  it('refuses a program in an unknown currency with a 400 and the reason, writing no version', async () => {
    const document = (await (await svc.api('/program')).json()) as { version: number; program: Record<string, unknown> };
    const res = await svc.api('/program', { method: 'PUT', json: { ...document, program: { ...document.program, currency: 'XYZ' } } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { details: { issues: [{ field: 'program.currency', message: expect.stringContaining('not an ISO 4217 currency') }] } },
    });
    expect(((await (await svc.api('/program')).json()) as { version: number }).version).toBe(document.version);
  });

  it('a GBP deal waits in needs_rate until the portal has a GBP rate, then reconciliation settles it', async () => {
    const pushed = await logReferral(svc, 'sam@brit-widgets.co.uk');
    winDeal(pushed.crm!.person.id, { amount: '10000', deal_currency_code: 'GBP' });
    const [waiting] = await rewardsOf(svc, pushed.id, (r) => r.rewards.length > 0, 'a reward waiting for a rate');
    expect(waiting).toMatchObject({ status: 'needs_rate', amountCents: 0 });
    expect(waiting!.reasons.at(-1)).toBe(
      'waits for an exchange rate: no GBP exchange rate against the company currency USD is in force on 2026-03-31',
    );
    const approve = await svc.api(`/rewards/${waiting!.id}/approve`, { method: 'POST', json: {} });
    expect(approve.status).toBe(409);
    expect(((await approve.json()) as { error: { message: string } }).error.message).toContain('it waits for an exchange rate');

    const currencies = async () =>
      (await (await svc.api(`/installations/${installationId}/currencies`)).json()) as {
        companyCurrency: string;
        rates: { currency: string; rate: string; problem: string | null }[];
        dealsWaitingForRate: string[];
      };
    const before = await currencies();
    expect(before).toMatchObject({ companyCurrency: 'USD', limitation: null, dealsWaitingForRate: [expect.any(String)] });
    expect(before.rates.map((r) => `${r.currency} ${r.rate} ${r.problem}`)).toEqual(['EUR 1.05 null', 'EUR 1.085 null']);

    hubspot.state.currencies.addRate('GBP', 1.25, '2026-01-01T00:00:00Z');
    expect((await svc.api(`/installations/${installationId}/reconcile`, { method: 'POST' })).status).toBe(202);
    const settled = await rewardsOf(svc, pushed.id, (r) => r.rewards.some((w) => w.status === 'pending'), 'the settled reward');
    expect(settled.map((r) => [r.status, r.amount])).toEqual(
      expect.arrayContaining([
        ['reversed', 0],
        ['pending', 1250],
      ]),
    );
    expect((await currencies()).dealsWaitingForRate).toEqual([]);
  });
});

describe('Salesforce: a EUR opportunity under a USD program, with advanced currency management', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;

  beforeAll(async () => {
    const client = { clientId: 'e2e-fx-salesforce', clientSecret: 'e2e-fx-salesforce-secret' };
    ({ salesforce, svc } = await startWithSandboxSalesforce(client, { multiCurrency: true }));
    salesforce.actions.addCurrency({ isoCode: 'EUR', conversionRate: 0.9 });
    salesforce.actions.addDatedRate({ isoCode: 'EUR', conversionRate: 0.952381, startDate: '2026-01-01' });
    salesforce.actions.addDatedRate({ isoCode: 'EUR', conversionRate: 0.8, startDate: '2026-03-01' });
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  it('pays 10% of €20,000 at the dated rate of the close date (1 USD = 0.8 EUR): $2,500, the rate named in its reasons', async () => {
    const pushed = await logReferral(svc, 'jo@acme-gmbh.de');
    const { opportunityId } = salesforce.actions.convertLead({
      leadId: pushed.crm!.person.id,
      createOpportunity: true,
      opportunityName: 'Acme GmbH',
    });
    salesforce.actions.updateRecord({
      sobject: 'Opportunity',
      id: opportunityId!,
      fields: { Amount: 20_000, CurrencyIsoCode: 'EUR', CloseDate: '2026-03-31' },
    });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });
    const [reward] = await rewardsOf(svc, pushed.id, (r) => r.rewards.length > 0, 'a converted reward');
    expect(reward).toMatchObject({ amount: 2500, currency: 'USD', status: 'pending' });
    expect(reward!.reasons).toContainEqual(
      expect.stringMatching(
        /^€20,000\.00 is \$25,000\.00 at 1 USD = 0\.8 EUR \(Salesforce DatedConversionRate 04w\w{15}, in force since 2026-03-01\), the rate in force on the close date 2026-03-31$/,
      ),
    );
  });
});

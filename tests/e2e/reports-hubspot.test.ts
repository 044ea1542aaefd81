import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { addDays } from '../../src/domain/dates.ts';
import type { Report } from '../../src/use-cases/reports.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * `GET /api/v1/reports` against a sandbox HubSpot: the numbers equal what was seeded, and the
 * referral rate and the time to close of the portal's other deals come from HubSpot's own deals
 * and companies (read through its search API). The sandbox stamps `createdate` with today, so
 * close dates are days from today.
 */
const CLIENT = { clientId: 'e2e-reports-client', clientSecret: 'e2e-reports-secret', appId: 4646 };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { id: string }; companyId: string | null } | null;
}

describe('reports, end to end with HubSpot', () => {
  let hubspot: HubSpotSandbox;
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
  const refer = async (referrer: { email: string; name: string; type: string }, email: string) =>
    (
      await json<{ id: string }>(
        svc.api('/referrals', {
          method: 'POST',
          json: { referrer, referee: { email, company: email.split('@')[1] }, submittedBy: { kind: 'rep' } },
        }),
        201,
      )
    ).id;
  const wonDeal = (name: string, amount: string, closeInDays: number, contactId?: string) => {
    const deal = hubspot.state.create(
      'deals',
      { dealname: name, pipeline: 'default', dealstage: 'qualifiedtobuy', amount },
      contactId ? [{ type: 'contacts' as const, id: contactId }] : [],
    );
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: `${addDays(today, closeInDays)}T12:00:00Z` });
  };

  beforeAll(async () => {
    ({ hubspot, svc } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }));
    for (const name of ['Acme', 'Globex', 'Initech']) hubspot.state.create('companies', { name, lifecyclestage: 'customer' });
    hubspot.state.create('companies', { name: 'Hooli', lifecyclestage: 'lead' });

    const won = await refer({ email: 'cora@happy-customer.com', name: 'Cora Customer', type: 'customer' }, 'dana@report-prospect.com');
    await refer({ email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' }, 'sam@other-prospect.com');
    const pushed = await eventually(
      async () => {
        const r = await json<ReferralBody>(svc.api(`/referrals/${won}`));
        return r.crm ? r : undefined;
      },
      15_000,
      'referral pushed to HubSpot',
    );
    wonDeal('Referred deal', '1000', 15, pushed.crm!.person.id);
    // The portal's deals nobody referred: 10 and 30 days to close; one beyond the range.
    wonDeal('Direct A', '500', 10);
    wonDeal('Direct B', '500', 30);
    wonDeal('Direct C', '500', 60);
    await eventually(
      async () => ((await json<ReferralBody>(svc.api(`/referrals/${won}`))).status === 'closed_won' ? true : undefined),
      15_000,
      'referral closed won',
    );
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  it('answers what was seeded, with HubSpot’s deals and customer companies', async () => {
    const report = await json<Report>(svc.api(`/reports?from=${from}&to=${to}&granularity=month`));
    expect(report.referrals).toBe(2);
    expect(report.won).toBe(1);
    expect(report.conversionRate).toBe(0.5);
    expect(report.funnel.map((r) => r.count)).toEqual([2, 2, 1, 1, 1, 1]);
    expect(report.referralsOverTime.reduce((n, p) => n + p.referrals, 0)).toBe(2);
    expect(report.revenueAttributed).toEqual([{ currency: 'USD', amountCents: 100_000, deals: 1 }]);
    expect(report.timeToClose).toMatchObject({
      referredMedianDays: 15,
      referredDeals: 1,
      otherMedianDays: 20,
      otherDeals: 2,
      limitation: null,
    });
    expect(report.referralRate).toMatchObject({ referringAccounts: 1, customerAccounts: 3, limitation: null });
    expect(report.referralRate.rate).toBeCloseTo(1 / 3);
    expect(report.topReferrers.map((t) => [t.name, t.won])).toEqual([
      ['Cora Customer', 1],
      ['Pia Partner', 0],
    ]);
    expect(Date.parse(report.referralRate.asOf ?? '')).toBeLessThanOrEqual(Date.now());

    const partners = await json<Report>(svc.api(`/reports?from=${from}&to=${to}&referrerType=partner`));
    expect([partners.referrals, partners.won, partners.revenueAttributed]).toEqual([1, 0, []]);
  });

  it.each([
    [`from=${to}&to=${from}`, /from \(.*\) is after to/],
    [`from=${from}&to=${to}&granularity=day`, /granularity: expected week or month/],
    ['from=2020-01-01&to=2026-01-01', /a report covers at most 731/],
    ['from=2026-02-30', /from: expected a calendar date/],
    ['referrerType=robot', /referrerType/],
  ])('refuses %s with a 400 that says why', async (query, message) => {
    const body = await json<{ error: { message: string } }>(svc.api(`/reports?${query}`), 400);
    expect(body.error.message).toMatch(message);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import type { Program } from '../../src/domain/program.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * Revenue share against a sandbox Salesforce, told by Opportunity.Type: the converted Lead's first
 * Opportunity pays the new-business fee; an "Existing Customer - Upgrade" Opportunity on the same
 * Account months later is an expansion and pays 15% under a revenue-share rule for the first
 * renewal; the installation's own deal-kind rule can make a type mean something else.
 */
const CLIENT = { clientId: 'e2e-revshare-sf-client', clientSecret: 'e2e-revshare-sf-secret' };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { id: string } } | null;
  rewards: { kind: string; milestone: string; dealId: string | null; amount: number; reasons: string[] }[];
  decisions: { rewards: { dealId: string | null; summary: string; notes: string[] }[] };
}

describe('revenue share on expansions, end to end with Salesforce', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;
  let referralId: string;
  let accountId: string;
  let contactId: string;

  beforeAll(async () => {
    ({ salesforce, svc } = await startWithSandboxSalesforce(CLIENT));
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const referral = () => json<ReferralBody>(svc.api(`/referrals/${referralId}`));
  const untilReferral = (check: (r: ReferralBody) => boolean, what: string) =>
    eventually(
      async () => {
        const r = await referral();
        return check(r) ? r : undefined;
      },
      20_000,
      what,
    );
  /** A $20,000 Opportunity of the given type on the referred Account, closed won on the given day. */
  const winOpportunity = (type: string, closeDate: string) => {
    const { opportunityId } = salesforce.actions.createOpportunity({
      name: `${type} ${closeDate}`,
      accountId,
      contactIds: [contactId],
      amount: 20_000,
      closeDate,
      fields: { Type: type },
    });
    salesforce.actions.moveStage({ opportunityId, stageName: 'Closed Won' });
    return opportunityId;
  };

  it('a program sharing 15% of the first renewal is saved', async () => {
    const document = await json<{ program: Program; version: number }>(svc.api('/program'));
    const program: Program = {
      ...document.program,
      rewardRules: [
        ...document.program.rewardRules,
        {
          id: 'first-renewal-share',
          kind: 'revenue_share',
          referrerTypes: ['customer'],
          milestone: 'closed_won',
          rateBasisPoints: 1_500,
          renewals: 1,
        },
      ],
    };
    expect((await svc.api('/program', { method: 'PUT', json: { ...document, program } })).status).toBe(200);
  });

  it('the converted Lead’s first Opportunity pays the new-business fee', async () => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'cora@happy-customer.com', name: 'Cora Customer', type: 'customer' },
        referee: { email: 'dana@renewco.example', firstName: 'Dana', lastName: 'Diaz', company: 'RenewCo' },
        submittedBy: { kind: 'rep', id: '005000000000001' },
      },
    });
    expect(res.status).toBe(201);
    referralId = (await json<ReferralBody>(res)).id;
    const pushed = await untilReferral((r) => r.crm !== null, 'referral pushed to Salesforce');
    const converted = salesforce.actions.convertLead({
      leadId: pushed.crm!.person.id,
      createOpportunity: true,
      opportunityName: 'RenewCo',
    });
    accountId = converted.accountId;
    contactId = converted.contactId;
    salesforce.actions.updateRecord({
      sobject: 'Opportunity',
      id: converted.opportunityId!,
      fields: { Amount: 20_000, CloseDate: '2026-12-01', Type: 'New Customer' },
    });
    salesforce.actions.moveStage({ opportunityId: converted.opportunityId!, stageName: 'Closed Won' });
    const won = await untilReferral((r) => r.rewards.some((w) => w.milestone === 'closed_won'), 'first Opportunity rewarded');
    expect(won.rewards.filter((w) => w.milestone === 'closed_won').map((w) => [w.kind, w.amount])).toEqual([['milestone', 500]]);
  });

  it('an upgrade on the same Account is an expansion and pays 15%, not a second fee', async () => {
    const upgrade = winOpportunity('Existing Customer - Upgrade', '2027-06-15');
    const paid = await untilReferral((r) => r.rewards.some((w) => w.dealId === upgrade), 'expansion rewarded');
    expect(paid.rewards.filter((w) => w.dealId === upgrade).map((w) => [w.kind, w.amount])).toEqual([['revenue_share', 3_000]]);
    expect(paid.rewards.find((w) => w.dealId === upgrade)!.reasons.join(' ')).toMatch(
      /an expansion \(the deal type "Existing Customer - Upgrade" is expansion by the installation's rule\)/,
    );
  });

  it('the installation rule decides: a refused rule changes nothing; "Existing Customer - Replacement" as new business pays the fee again', async () => {
    const installationId = (await json<{ id: string }[]>(svc.api('/installations')))[0]!.id;
    const refused = await svc.api(`/installations/${installationId}/deal-kinds`, {
      method: 'PUT',
      json: { pipelines: { default: 'new_business' }, typeValues: {} },
    });
    expect(refused.status).toBe(400);
    const mapped = await svc.api(`/installations/${installationId}/deal-kinds`, {
      method: 'PUT',
      json: {
        pipelines: {},
        typeValues: { 'Existing Customer - Upgrade': 'expansion', 'Existing Customer - Replacement': 'new_business' },
      },
    });
    expect(mapped.status).toBe(200);
    expect((await json<{ dealKinds: unknown }>(mapped)).dealKinds).toEqual({
      pipelines: {},
      typeValues: { 'Existing Customer - Upgrade': 'expansion', 'Existing Customer - Replacement': 'new_business' },
    });
    const replacement = winOpportunity('Existing Customer - Replacement', '2027-09-01');
    const paid = await untilReferral((r) => r.rewards.some((w) => w.dealId === replacement), 'replacement rewarded');
    expect(paid.rewards.filter((w) => w.dealId === replacement).map((w) => [w.kind, w.amount])).toEqual([['milestone', 500]]);
  });
});

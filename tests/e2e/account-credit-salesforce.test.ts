import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { createTremendousSandbox, SANDBOX_PRODUCTS, type TremendousSandbox } from '../../connectors/payouts/tremendous/sandbox/index.ts';
import { placePayoutOrders } from '../../src/use-cases/send-payouts.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * An account credit, end to end with Salesforce: a customer's referral closes won in a sandbox org
 * under a rule granting a $300 account credit; the payout run sent through the sandbox Tremendous
 * pays the $50 qualification fee in cash there, and writes the credit once as a completed Task on
 * the referrer's Account (the contact's AccountId), where the billing team sees it in the activity
 * timeline.
 */
const CLIENT = { clientId: 'e2e-sf-credit-client', clientSecret: 'e2e-sf-credit-secret' };
const CUSTOMER = { email: 'cora@happy-customer.com', name: 'Cora Customer', type: 'customer' };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { id: string } } | null;
  rewards: { id: string; milestone: string; netCents: number; status: string; givenAs: string }[];
}
interface RunBody {
  id: string;
  lines: { givenAs: string; amountCents: number; rewardIds: string[]; sendStatus: string | null }[];
}

describe('an account credit written to the referrer’s Salesforce Account', () => {
  let salesforce: SalesforceSandbox;
  let tremendous: TremendousSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    tremendous = createTremendousSandbox();
    const tremendousUrl = await tremendous.listen();
    ({ salesforce, svc, installationId } = await startWithSandboxSalesforce(CLIENT, {}, () => {}, {
      PAYOUT_PROVIDER: 'tremendous',
      TREMENDOUS_API_BASE_URL: tremendousUrl,
      TREMENDOUS_API_KEY: tremendous.apiKey,
      TREMENDOUS_WEBHOOK_SECRET: tremendous.webhookSecret,
      TREMENDOUS_PRODUCTS: Object.entries(SANDBOX_PRODUCTS)
        .map(([kind, id]) => `${kind}=${id}`)
        .join(','),
    }));
    tremendous.setWebhookUrl(`${svc.url}/webhooks/payouts/tremendous`);
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
    await tremendous?.close();
  });

  const json = async <T>(res: Response, status: number): Promise<T> => {
    const body = await res.text();
    expect(res.status, body).toBe(status);
    return JSON.parse(body) as T;
  };
  const referral = async (id: string) => json<ReferralBody>(await svc.api(`/referrals/${id}`), 200);

  it('the credit is a Task on the Account once and its line delivered; the cash fee goes through the provider', async () => {
    // The referrer's Account and Contact in the org.
    const account = salesforce.actions.createAccount({ Name: 'Happy Customer', Website: 'happy-customer.com' });
    salesforce.actions.createContact({ FirstName: 'Cora', LastName: 'Customer', Email: CUSTOMER.email, AccountId: account.Id });
    const store = svc.service.runtime.store;
    const programRow = (await store.programs.defaultProgram(installationId))!;
    const current = (await store.programs.current(programRow.id))!.program;
    await store.programs.addVersion(
      programRow,
      {
        ...current,
        rewardRules: [
          ...current.rewardRules.filter((r) => r.milestone === 'qualified'),
          {
            id: 'credit',
            kind: 'fixed',
            referrerTypes: ['customer'],
            milestone: 'closed_won',
            amountCents: 30_000,
            grant: { kind: 'account_credit' },
          },
        ],
      },
      'test',
    );

    const created = await json<ReferralBody>(
      await svc.api('/referrals', {
        method: 'POST',
        json: {
          referrer: CUSTOMER,
          referee: { email: 'jo@credit-prospect.com', firstName: 'Jo', lastName: 'Lee', company: 'Credit Prospect' },
          submittedBy: { kind: 'rep', id: '005000000000001' },
        },
      }),
      201,
    );
    const pushed = await eventually(async () => ((await referral(created.id)).crm ? referral(created.id) : undefined), 15_000, 'pushed');
    const { opportunityId } = salesforce.actions.convertLead({
      leadId: pushed.crm!.person.id,
      createOpportunity: true,
      opportunityName: 'Credit deal',
    });
    salesforce.actions.updateRecord({ sobject: 'Opportunity', id: opportunityId!, fields: { Amount: 20_000, CloseDate: '2026-03-31' } });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });
    const won = await eventually(
      async () => {
        const r = await referral(created.id);
        return r.status === 'closed_won' && r.rewards.length === 2 ? r : undefined;
      },
      20_000,
      'closed won with both rewards',
    );
    const credit = won.rewards.find((r) => r.milestone === 'closed_won')!;
    const fee = won.rewards.find((r) => r.milestone === 'qualified')!;
    expect(credit).toMatchObject({ netCents: 30_000, status: 'approved', givenAs: 'Account credit' });
    expect(fee).toMatchObject({ netCents: 5_000, givenAs: 'Cash' });

    const run = await json<RunBody>(await svc.api('/payouts', { method: 'POST', json: { dueOn: '2099-12-31' } }), 201);
    expect(run.lines.map((l) => [l.givenAs, l.amountCents, l.rewardIds])).toEqual([
      ['Account credit', 30_000, [credit.id]],
      ['Cash', 5_000, [fee.id]],
    ]);
    await json<RunBody>(await svc.api(`/payouts/${run.id}/send`, { method: 'POST' }), 202);
    const done = await eventually(
      async () => {
        const r = await json<RunBody>(await svc.api(`/payouts/${run.id}`), 200);
        return r.lines.every((l) => l.sendStatus === 'delivered') ? r : undefined;
      },
      30_000,
      'both lines delivered',
    );
    expect(done.lines.map((l) => l.sendStatus)).toEqual(['delivered', 'delivered']);

    const tasksOnAccount = () => salesforce.state.records('Task').filter((t) => t.WhatId === account.Id);
    expect(tasksOnAccount()).toEqual([
      expect.objectContaining({
        Subject: expect.stringContaining('Referral reward: account credit of $300.00'),
        Description: expect.stringContaining('Cora Customer (cora@happy-customer.com) earned an account credit of $300.00'),
        Status: 'Completed',
      }),
    ]);
    // Only the cash fee went to the provider.
    expect(tremendous.rewards().map((r) => [r.products, r.denomination])).toEqual([[[SANDBOX_PRODUCTS.cash], 50]]);
    expect((await referral(created.id)).rewards.map((r) => r.status)).toEqual(['paid', 'paid']);

    // The send job run again writes no second Task.
    await placePayoutOrders(svc.service.runtime.ctx, run.id);
    expect(tasksOnAccount()).toHaveLength(1);
  });
});

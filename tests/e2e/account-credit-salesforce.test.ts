import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTremendousSandbox, SANDBOX_PRODUCTS, type TremendousSandbox } from '../../connectors/payouts/tremendous/sandbox/index.ts';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { placePayoutOrders } from '../../src/use-cases/send-payouts.ts';
import {
  CREDITED_CUSTOMER,
  creditAndFeeOnceWon,
  creditReferral,
  grantCreditWhenWon,
  referAndPush,
  sendUntilDelivered,
  tremendousEnv,
} from '../support/account-credit.ts';
import { startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * An account credit, end to end with Salesforce: a customer's referral closes won in a sandbox org
 * under a rule granting a $300 account credit; the payout run sent through the sandbox Tremendous
 * pays the $50 qualification fee in cash there, and writes the credit once as a completed Task on
 * the referrer's Account (their Contact's AccountId), where the billing team sees it in the
 * activity timeline.
 */
const CLIENT = { clientId: 'e2e-sf-credit-client', clientSecret: 'e2e-sf-credit-secret' };

describe('an account credit written to the referrer’s Salesforce Account', () => {
  let salesforce: SalesforceSandbox;
  let tremendous: TremendousSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    tremendous = createTremendousSandbox();
    const env = tremendousEnv(tremendous, await tremendous.listen());
    ({ salesforce, svc, installationId } = await startWithSandboxSalesforce(CLIENT, {}, () => {}, env));
    tremendous.setWebhookUrl(`${svc.url}/webhooks/payouts/tremendous`);
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
    await tremendous?.close();
  });

  it('the credit is a Task on the Account once and its line delivered; the cash fee goes through the provider', async () => {
    // The referrer's Account and Contact in the org.
    const account = salesforce.actions.createAccount({ Name: 'Happy Customer', Website: 'happy-customer.com' });
    salesforce.actions.createContact({ FirstName: 'Cora', LastName: 'Customer', Email: CREDITED_CUSTOMER.email, AccountId: account.Id });
    await grantCreditWhenWon(svc, installationId);

    const pushed = await referAndPush(svc, {
      email: 'jo@credit-prospect.com',
      firstName: 'Jo',
      lastName: 'Lee',
      company: 'Credit Prospect',
    });
    const { opportunityId } = salesforce.actions.convertLead({
      leadId: pushed.crm!.person.id,
      createOpportunity: true,
      opportunityName: 'Credit deal',
    });
    salesforce.actions.updateRecord({ sobject: 'Opportunity', id: opportunityId!, fields: { Amount: 20_000, CloseDate: '2026-03-31' } });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });
    const runId = await sendUntilDelivered(svc, await creditAndFeeOnceWon(svc, pushed.id));

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
    expect((await creditReferral(svc, pushed.id)).rewards.map((r) => r.status)).toEqual(['paid', 'paid']);

    // The send job run again writes no second Task.
    await placePayoutOrders(svc.service.runtime.ctx, runId);
    expect(tasksOnAccount()).toHaveLength(1);
  });
});

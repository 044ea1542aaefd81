import type { CrmObjectType } from '../../connectors/connector.ts';
import { toId18 } from '../../connectors/salesforce/ids.ts';
import { connectSandbox } from '../fixtures/salesforce/harness.ts';
import { describeCrmClientConformance, type DealStage } from './crm-client.ts';

const STAGE: Record<DealStage, string> = { open: 'Prospecting', won: 'Closed Won', lost: 'Closed Lost' };
const SOBJECT = { contact: 'Contact', company: 'Account', deal: 'Opportunity' } as const;
/** Key prefixes of each object's ids. */
const PREFIX: Record<CrmObjectType, string> = { contact: '003', lead: '00Q', company: '001', deal: '006' };

describeCrmClientConformance('the Salesforce sandbox', async () => {
  // Multi-currency, with advanced currency management: CurrencyType and DatedConversionRate.
  const env = await connectSandbox({ multiCurrency: true });
  const { actions } = env.sandbox;
  return {
    client: env.client,
    session: env.session,
    limiter: env.limiter,
    createdPersonType: 'lead',
    seed: {
      company: ({ name, domain, customer }) =>
        actions.createAccount({ Name: name, ...(domain ? { Website: domain } : {}), ...(customer ? { Type: 'Customer' } : {}) })
          .Id as string,
      contact: ({ email, firstName, lastName, companyId, emailOptOut }) =>
        actions.createContact({
          Email: email,
          ...(emailOptOut ? { HasOptedOutOfEmail: true } : {}),
          LastName: lastName,
          ...(firstName ? { FirstName: firstName } : {}),
          ...(companyId ? { AccountId: companyId } : {}),
        }).Id as string,
      deal: ({ name, amount, stage, contactIds, companyId, closeDate }) =>
        actions.createOpportunity({
          ...(closeDate ? { closeDate } : {}),
          name,
          amount,
          stageName: STAGE[stage],
          ...(contactIds ? { contactIds } : {}),
          ...(companyId ? { accountId: companyId } : {}),
        }).opportunityId,
      moveDeal: (id, stage) => void actions.moveStage({ opportunityId: id, stageName: STAGE[stage] }),
      renameContact: (id, lastName) => void actions.updateRecord({ sobject: 'Contact', id, fields: { LastName: lastName } }),
      remove: (objectType, id) => actions.deleteRecord({ sobject: SOBJECT[objectType], id }),
      eurRates: (rates) => {
        actions.addCurrency({ isoCode: 'EUR', conversionRate: Number(rates.at(-1)!.eurPerUsd) });
        for (const r of rates) actions.addDatedRate({ isoCode: 'EUR', conversionRate: Number(r.eurPerUsd), startDate: r.from });
      },
    },
    unknownId: (objectType) => toId18(`${PREFIX[objectType]}5g0000000zzz`),
    noteCount: (person) => env.sandbox.state.records('Task').filter((task) => task.WhoId === person.id).length,
    companyNoteCount: (companyId) => env.sandbox.state.records('Task').filter((task) => task.WhatId === companyId).length,
    faults: {
      expireAccessTokens: () => env.sandbox.faults.expireAccessTokens(),
      revokeRefreshTokens: () => env.sandbox.faults.revokeRefreshTokens(),
      unavailable: () => env.sandbox.faults.failNext(503, 10),
    },
    close: () => env.close(),
  };
});

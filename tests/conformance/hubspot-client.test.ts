import { createHubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { install } from '../fixtures/hubspot/install.ts';
import { describeCrmClientConformance, type DealStage } from './crm-client.ts';

const STAGE: Record<DealStage, string> = { open: 'qualifiedtobuy', won: 'closedwon', lost: 'closedlost' };

describeCrmClientConformance('the HubSpot sandbox', async () => {
  const sandbox = createHubSpotSandbox();
  const { url } = await sandbox.listen();
  const { client, session, limiter } = await install(sandbox, url);
  const { state } = sandbox;
  return {
    client,
    session,
    limiter,
    createdPersonType: 'contact',
    seed: {
      company: ({ name, domain, customer }) =>
        state.create('companies', { name, ...(domain ? { domain } : {}), ...(customer ? { lifecyclestage: 'customer' } : {}) }).id,
      contact: ({ email, firstName, lastName, companyId, emailOptOut }) =>
        state.create(
          'contacts',
          {
            email,
            lastname: lastName,
            ...(firstName ? { firstname: firstName } : {}),
            ...(emailOptOut ? { hs_email_optout: 'true' } : {}),
          },
          companyId ? [{ type: 'companies', id: companyId }] : [],
        ).id,
      deal: ({ name, amount, stage, contactIds = [], companyId, closeDate }) =>
        state.create(
          'deals',
          {
            dealname: name,
            amount: String(amount),
            dealstage: STAGE[stage],
            ...(closeDate ? { closedate: `${closeDate}T12:00:00Z` } : {}),
          },
          [
            ...contactIds.map((id) => ({ type: 'contacts' as const, id })),
            ...(companyId ? [{ type: 'companies' as const, id: companyId }] : []),
          ],
        ).id,
      moveDeal: (id, stage) => void state.update('deals', id, { dealstage: STAGE[stage] }),
      renameContact: (id, lastName) => void state.update('contacts', id, { lastname: lastName }),
      remove: (objectType, id) => state.archive(objectType === 'company' ? 'companies' : objectType === 'deal' ? 'deals' : 'contacts', id),
      eurRates: (rates) => {
        for (const r of rates) state.currencies.addRate('EUR', Number(r.usdPerEur), r.from);
      },
    },
    unknownId: () => '99999999',
    noteCount: (person) => state.associatedIds('contacts', person.id, 'notes').length,
    companyNoteCount: (companyId) => state.associatedIds('companies', companyId, 'notes').length,
    faults: {
      expireAccessTokens: () => sandbox.faults.expireAccessTokens(),
      revokeRefreshTokens: () => sandbox.faults.revokeRefreshTokens(),
      unavailable: () => sandbox.faults.failNext(502, 1, undefined, '/crm/'),
    },
    close: () => sandbox.close(),
  };
});

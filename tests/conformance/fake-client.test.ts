import { createFakeCrm } from '../../connectors/fake/index.ts';
import { TestSession } from '../support/crm-session.ts';
import { RecordingLimiter } from '../support/rate-limiter.ts';
import { describeCrmClientConformance, type DealStage } from './crm-client.ts';

const STAGE: Record<DealStage, string> = { open: 'qualified', won: 'won', lost: 'lost' };

describeCrmClientConformance('the fake CRM', async () => {
  const crm = createFakeCrm();
  const session = new TestSession(crm.accountId, crm.issueTokens());
  const limiter = new RecordingLimiter();
  return {
    client: await crm.connector.client(session, { limiter }),
    session,
    limiter,
    createdPersonType: 'contact',
    seed: {
      company: ({ name, domain, customer }) =>
        crm.createCompany({ name, ...(domain ? { domain } : {}), ...(customer ? { isCustomer: true } : {}) }).id,
      contact: ({ email, firstName, lastName, companyId, emailOptOut }) =>
        crm.createPerson({
          email,
          lastName,
          ...(firstName ? { firstName } : {}),
          ...(companyId ? { companyIds: [companyId] } : {}),
          ...(emailOptOut ? { emailOptOut } : {}),
        }).id,
      deal: ({ name, amount, stage, contactIds, companyId, closeDate }) =>
        crm.createDeal({
          ...(closeDate ? { closeDate } : {}),
          name,
          amountCents: amount * 100,
          stageId: STAGE[stage],
          ...(contactIds ? { contactIds } : {}),
          ...(companyId ? { companyIds: [companyId] } : {}),
        }).id,
      moveDeal: (id, stage) => void crm.moveStage(id, STAGE[stage]),
      renameContact: (id, lastName) => void crm.updatePerson(id, { lastName }),
      remove: (objectType, id) => crm.deleteRecord(objectType, id),
      eurRates: (rates) =>
        crm.setCurrencies({
          companyCurrency: 'USD',
          limitation: null,
          rates: rates.map((r, i) => ({
            currency: 'EUR',
            rate: r.usdPerEur,
            meaning: 'company_per_unit',
            from: r.from,
            until: rates[i + 1]?.from ?? null,
            source: `fake rate ${i + 1}`,
          })),
        }),
    },
    unknownId: (objectType) => `${objectType}-that-never-was`,
    noteCount: (person) => crm.notes(person.id).length,
    companyNoteCount: (companyId) => crm.companyNotes(companyId).length,
    faults: {
      expireAccessTokens: () => crm.expireAccessTokens(),
      revokeRefreshTokens: () => crm.revokeRefreshTokens(),
      unavailable: () => crm.failNext('unavailable'),
    },
    close: async () => undefined,
  };
});

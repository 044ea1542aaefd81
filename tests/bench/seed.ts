/**
 * Seeds the drain scenario: N accepted referrals pushed to N HubSpot contacts, then N deals on
 * those contacts, already closed won in the portal (the webhooks tell the story afterwards).
 *
 * The referrals go through Referloop's own use cases (submitReferral: verdict, referrer, timeline,
 * notifications; pushReferrals: linking the CRM person), with the CRM calls those make answered
 * from the sandbox's memory. Through the HTTP API each submission costs at least one
 * rate-limited CRM call (the conflict check), i.e. 100 s for 1,000 referrals at 110/10 s; this
 * way seeding spends none of the budget the measured drain is judged by.
 */
import type { CrmClient, CrmPerson, EnsuredReferee, RefereeToEnsure, WriteOutcome } from '../../connectors/connector.ts';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import type { Runtime } from '../../src/main.ts';
import type { UseCaseContext } from '../../src/ports/context.ts';
import { pushReferrals } from '../../src/use-cases/push-referrals.ts';
import { submitReferral } from '../../src/use-cases/submit-referral.ts';
import type { Rows } from '../support/store-under-test.ts';

export interface SeededDeal {
  referralId: string;
  contactId: number;
  dealId: number;
}

const pad = (i: number) => String(i).padStart(5, '0');

function sandboxBackedClient(hubspot: HubSpotSandbox): CrmClient {
  const person = (id: string, email: string, firstName: string | null, lastName: string | null): CrmPerson => ({
    objectType: 'contact',
    id,
    email,
    firstName,
    lastName,
    companyIds: [],
    ownerId: null,
    lifecycleStage: null,
    modifiedAt: new Date().toISOString(),
  });
  const unsupported = (name: string) => () => Promise.reject(new Error(`seeding client: ${name} is not expected`));
  return {
    provision: unsupported('provision'),
    listPipelineStages: unsupported('listPipelineStages'),
    // Fresh referees: nobody in the portal yet, so no conflict and nothing to read.
    findPeopleByEmail: async () => [],
    findCompaniesByDomain: async () => [],
    findDealIdsFor: async () => [],
    getDeals: async () => ({ records: [], gone: [] }),
    getPeople: unsupported('getPeople'),
    ownerEmails: async () => ({}),
    currencies: async () => ({ companyCurrency: 'USD', rates: [], limitation: null }),
    getCompanies: unsupported('getCompanies'),
    describeAccountFields: unsupported('describeAccountFields'),
    changedSince: unsupported('changedSince'),
    addTimelineNote: unsupported('addTimelineNote'),
    addCompanyNote: unsupported('addCompanyNote'),
    primaryContact: unsupported('primaryContact'),
    closedWonDeals: unsupported('closedWonDeals'),
    countCustomerAccounts: unsupported('countCustomerAccounts'),
    async ensureReferees(referees: RefereeToEnsure[]): Promise<EnsuredReferee[]> {
      return referees.map((r) => {
        const email = r.email.trim().toLowerCase();
        const existing = hubspot.state.model.findBy('contacts', 'email', email);
        const record = existing
          ? hubspot.state.get('contacts', existing.id)!
          : hubspot.state.create('contacts', { email, firstname: r.firstName ?? '', lastname: r.lastName ?? '', company: r.company ?? '' });
        return { key: r.key, person: person(record.id, email, r.firstName ?? null, r.lastName ?? null), created: !existing, company: null };
      });
    },
    async write(writes): Promise<WriteOutcome[]> {
      return writes.map((_, index) => ({ index, ok: true }));
    },
  };
}

export async function seedDrainScenario(
  runtime: Runtime,
  rows: Rows,
  hubspot: HubSpotSandbox,
  installationId: string,
  count: number,
): Promise<SeededDeal[]> {
  const client = sandboxBackedClient(hubspot);
  const ctx: UseCaseContext = {
    ...runtime.ctx,
    crm: { connector: (kind) => runtime.ctx.crm.connector(kind), client: async () => client },
    // The push below runs inline; nothing for the real workers to pick up.
    scheduler: { schedule: async () => undefined, available: () => true },
  };
  const installation = await runtime.store.installations.get(installationId);
  if (!installation) throw new Error('installation not found');

  const referralIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const result = await submitReferral(ctx, {
      installation,
      // 100 customer referrers, ten referrals each.
      referrer: { email: `referrer${pad(i % 100)}@customer-${pad(i % 100)}.test`, name: `Referrer ${pad(i % 100)}`, type: 'customer' },
      referee: { email: `lead${pad(i)}@prospect-${pad(i)}.test`, firstName: 'Lead', lastName: pad(i), company: `Prospect ${pad(i)}` },
      submittedBy: { kind: 'rep', id: 'rep-bench' },
      source: 'bench-seed',
    });
    if (result.outcome !== 'accepted')
      throw new Error(`seed referral ${i} was ${result.outcome}: ${JSON.stringify('verdict' in result ? result.verdict : result.reason)}`);
    referralIds.push(result.referral.id);
  }
  // A running worker's sweeper may push them meanwhile; on PostgreSQL the two pushes' transactions
  // can refuse each other, so a refused push is tried again. What counts is that each is in the portal.
  for (let attempt = 1; ; attempt++) {
    try {
      await pushReferrals(ctx, installationId);
      break;
    } catch (error) {
      if (attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const unpushed = [];
  for (const id of referralIds) if (!(await runtime.store.referrals.get(id))?.crmPersonId) unpushed.push(id);
  if (unpushed.length) throw new Error(`${unpushed.length} of ${count} seed referrals were not pushed to the portal`);
  // The seeded submissions' own notices (received, accepted) count as sent before the drain, so
  // the notifier's backlog from seeding does not compete with the drain being measured.
  await rows(
    "UPDATE outbox SET status = 'delivered', delivered_at = ? WHERE installation_id = ? AND status = 'pending'",
    new Date().toISOString(),
    installationId,
  );

  // The deals come strictly after the referrals (attribution wants the referral first).
  await new Promise((resolve) => setTimeout(resolve, 5));
  const seeded: SeededDeal[] = [];
  for (const [i, referralId] of referralIds.entries()) {
    const referral = (await runtime.store.referrals.get(referralId))!;
    const contactId = referral.crmPersonId!;
    const deal = hubspot.state.create(
      'deals',
      {
        dealname: `Prospect ${pad(i)} — platform`,
        pipeline: 'default',
        dealstage: 'closedwon',
        amount: '25000',
        closedate: '2026-03-31T12:00:00Z',
      },
      [{ type: 'contacts', id: contactId }],
    );
    seeded.push({ referralId, contactId: Number(contactId), dealId: Number(deal.id) });
  }
  return seeded;
}

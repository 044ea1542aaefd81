import type { CrmClient, CrmPerson } from '../../../connectors/connector.ts';
import { normalizeEmail } from '../../domain/normalize.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { InstallationRow } from '../../store/installations.repo.ts';
import type { ReferralRow } from '../../store/referrals.repo.ts';
import { BATCH, chunks, type RecordGuard } from './record-batches.ts';

/** What the people applied point at: their deals may have changed too. */
export interface PeopleApplied {
  /** Contacts (and conversion targets) now linked to a referral. */
  contactIds: string[];
  /** Companies of linked people. */
  companyIds: string[];
  /** Deals that lead conversions created. */
  dealIds: string[];
  /** People whose record carries a referral link's code (a form captured it). */
  coded: CrmPerson[];
}

/** People: link referrals to their CRM person, follow merges and lead conversions. */
export async function applyPeople(
  ctx: UseCaseContext,
  client: CrmClient,
  installation: InstallationRow,
  ids: { contact: string[]; lead: string[] },
  guard: RecordGuard,
): Promise<PeopleApplied> {
  const applied: PeopleApplied = { contactIds: [], companyIds: [], dealIds: [], coded: [] };
  for (const type of ['contact', 'lead'] as const) {
    for (const chunk of chunks(ids[type], BATCH)) {
      const { records } = await client.getPeople(type, chunk);
      for (const person of records) {
        await guard({ objectType: type, id: person.id }, async () => {
          const touched = await linkPerson(ctx, installation, person);
          if (touched && person.objectType === 'contact') applied.contactIds.push(person.id);
          if (touched) applied.companyIds.push(...person.companyIds);
          if (person.converted?.dealId) applied.dealIds.push(person.converted.dealId);
          if (person.converted?.contactId && touched) applied.contactIds.push(person.converted.contactId);
          if (person.referralCode) applied.coded.push(person);
        });
      }
    }
  }
  return applied;
}

/** Links open referrals of this person's email (and merge/conversion targets); true when any is linked. */
export async function linkPerson(ctx: UseCaseContext, installation: InstallationRow, person: CrmPerson): Promise<boolean> {
  const { referrals } = ctx.store;
  const linked = await referrals.linkedTo(installation.id, [{ objectType: person.objectType, ids: [person.id] }]);
  const byEmail = person.email
    ? await referrals.priorFor(installation.id, normalizeEmail(person.email, { plusAddressing: 'strip' }), null)
    : [];
  const all = uniqueById([...linked, ...byEmail]).filter((r) => r.status !== 'rejected');
  for (const referral of all) {
    await referrals.link(installation.id, referral.id, person.objectType, person.id);
    for (const companyId of person.companyIds) await referrals.link(installation.id, referral.id, 'company', companyId);
    if (person.mergedIntoId) await referrals.link(installation.id, referral.id, person.objectType, person.mergedIntoId);
    if (person.converted) {
      const { contactId, companyId, dealId } = person.converted;
      if (contactId) await referrals.link(installation.id, referral.id, 'contact', contactId);
      if (companyId) await referrals.link(installation.id, referral.id, 'company', companyId);
      if (dealId) await referrals.link(installation.id, referral.id, 'deal', dealId);
    }
  }
  return all.length > 0;
}

function uniqueById(rows: ReferralRow[]): ReferralRow[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}

import type { CrmObjectType, CrmPerson } from '../../connectors/connector.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import { applyCompanies } from './apply-crm-changes/apply-companies.ts';
import { applyDeals } from './apply-crm-changes/apply-deals.ts';
import { applyPeople } from './apply-crm-changes/apply-people.ts';
import { recordGuard, type RecordFailure, type RecordRef } from './apply-crm-changes/record-batches.ts';
import { writeBack } from './apply-crm-changes/write-back.ts';

export type { RecordRef } from './apply-crm-changes/record-batches.ts';

export interface ApplyResult {
  /** Records whose application threw; their events are retried, the rest are done. */
  failed: RecordFailure[];
  /** People whose record carries a referral link's code: the caller captures them (`captureLinkReferrals`). */
  coded: CrmPerson[];
}

/**
 * The one path from "these CRM records changed" to stored decisions, used by webhook sync and
 * reconciliation alike. Events are hints: the current state of each record is fetched in batches,
 * then applied idempotently (every transition, reward and notification has a key). People first
 * (they link referrals to CRM records), then companies, then every deal those changes touch, and
 * one write-back at the end.
 */
export async function applyCrmChanges(ctx: UseCaseContext, installation: InstallationRow, refs: RecordRef[]): Promise<ApplyResult> {
  const client = await ctx.crm.client(installation);
  const result: ApplyResult = { failed: [], coded: [] };
  const guard = recordGuard(ctx, result.failed);
  const ids = (type: CrmObjectType) => [...new Set(refs.filter((r) => r.objectType === type).map((r) => r.id))];

  const people = await applyPeople(ctx, client, installation, { contact: ids('contact'), lead: ids('lead') }, guard);
  result.coded = people.coded;
  const companies = await applyCompanies(ctx, client, installation, ids('company'), guard);

  const dealIds = new Set([...ids('deal'), ...people.dealIds]);
  // A referred person or company changed: their deals may have too (new association).
  const contactIds = [...new Set(people.contactIds)];
  const companyIds = [...new Set([...people.companyIds, ...companies.linkedCompanyIds])];
  if (contactIds.length || companyIds.length) {
    for (const id of await client.findDealIdsFor({ contactIds, companyIds })) dealIds.add(id);
  }
  const dealWrites = await applyDeals(ctx, client, installation, [...dealIds], guard);

  await writeBack(ctx, client, installation, [...companies.writes, ...dealWrites]);
  return result;
}

import type { CrmDeal } from '../../../connectors/connector.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { DealRow } from '../../store/deals.repo.ts';
import type { InstallationRow } from '../../store/installations.repo.ts';
import type { ProgramVersion } from '../../store/programs.repo.ts';
import type { ReferralRow } from '../../store/referrals.repo.ts';

/**
 * What applying a batch of deals reads of the store before each deal's transaction, read once for
 * the batch with one query per kind: on PostgreSQL every read is a round trip, and reading them
 * deal by deal was most of a sync's time. Within the batch only a deal's own transaction changes
 * its mirror, and the linked referrals are kept as the batch's transactions move them, so a deal
 * later in the batch sees what an earlier one did.
 */
export interface DealBatch {
  /** The installation's default program, as the batch began. */
  current: ProgramVersion | undefined;
  /** The deal's mirror as last applied. */
  previous(dealId: string): DealRow | undefined;
  /** Whether rewards of the deal wait for an exchange rate. */
  waitsForRate(dealId: string): boolean;
  /** Referrals linked to the deal's contacts, its companies or the deal itself, by id (as `linkedTo` answers). */
  linked(deal: CrmDeal): ReferralRow[];
  /** Rows a deal's committed transaction left: later deals of the batch see them. */
  moved(rows: ReferralRow[]): void;
}

export async function readDealBatch(ctx: UseCaseContext, installation: InstallationRow, deals: readonly CrmDeal[]): Promise<DealBatch> {
  const { store } = ctx;
  const [current, mirrors, needingRate, links] = await Promise.all([
    store.programs.currentDefault(installation.id),
    store.deals.getMany(
      installation.id,
      deals.map((d) => d.id),
    ),
    store.rewards.dealsNeedingRate(installation.id),
    store.referrals.linksWithReferrals(installation.id, [
      { objectType: 'contact', ids: [...new Set(deals.flatMap((d) => d.contactIds))] },
      { objectType: 'company', ids: [...new Set(deals.flatMap((d) => d.companyIds))] },
      { objectType: 'deal', ids: deals.map((d) => d.id) },
    ]),
  ]);
  const previous = new Map(mirrors.map((m) => [m.dealId, m]));
  const waiting = new Set(needingRate);
  const referrals = new Map(links.map((l) => [l.referral.id, l.referral]));
  const linkedTo = new Map<string, Set<string>>();
  for (const { objectType, objectId, referral } of links) {
    const key = `${objectType}:${objectId}`;
    linkedTo.set(key, (linkedTo.get(key) ?? new Set()).add(referral.id));
  }
  return {
    current,
    previous: (dealId) => previous.get(dealId),
    waitsForRate: (dealId) => waiting.has(dealId),
    linked(deal) {
      const keys = [...deal.contactIds.map((id) => `contact:${id}`), ...deal.companyIds.map((id) => `company:${id}`), `deal:${deal.id}`];
      const ids = new Set(keys.flatMap((key) => [...(linkedTo.get(key) ?? [])]));
      return [...ids].sort().map((id) => referrals.get(id)!);
    },
    moved(rows) {
      for (const row of rows) referrals.set(row.id, row);
    },
  };
}

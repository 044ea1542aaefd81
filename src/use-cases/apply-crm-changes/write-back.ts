import type { CrmClient, CrmWrite } from '../../../connectors/connector.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { InstallationRow } from '../../store/installations.repo.ts';
import { BATCH, chunks } from './record-batches.ts';

/**
 * Writes in CRM-sized batches of one record type each (a batch mixing contacts and deals would be
 * two half-full calls); a record that refuses a write is logged, not retried forever.
 */
export async function writeBack(ctx: UseCaseContext, client: CrmClient, installation: InstallationRow, writes: CrmWrite[]): Promise<void> {
  const byType = new Map<string, CrmWrite[]>();
  for (const write of dedupeWrites(writes)) {
    const type = write.target === 'referral' ? `referral:${write.person.objectType}` : write.target;
    byType.set(type, [...(byType.get(type) ?? []), write]);
  }
  for (const chunk of [...byType.values()].flatMap((group) => chunks(group, BATCH))) {
    const outcomes = await client.write(chunk);
    for (const outcome of outcomes.filter((o) => !o.ok)) {
      ctx.log.warn(
        { installationId: installation.id, write: chunk[outcome.index]?.target, err: outcome.error?.message },
        'CRM write-back refused',
      );
    }
  }
}

/** The last write per target record wins: a batch never updates one record twice. */
function dedupeWrites(writes: CrmWrite[]): CrmWrite[] {
  const byTarget = new Map<string, CrmWrite>();
  for (const w of writes) {
    const key =
      w.target === 'deal' ? `deal:${w.dealId}` : w.target === 'company' ? `company:${w.companyId}` : `referral:${w.fields.referralId}`;
    byTarget.set(key, w);
  }
  return [...byTarget.values()];
}

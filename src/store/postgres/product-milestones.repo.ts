import { and, desc, eq } from 'drizzle-orm';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import type { Query } from './query.ts';
import { productMilestones } from './schema.ts';

/** Product milestones on PostgreSQL: the SQLite repository's behaviour method by method. */
export function productMilestonesRepo(q: Query, _cipher?: Cipher): Store['productMilestones'] {
  return {
    async byKey(installationId, idempotencyKey) {
      const rows = await q()
        .select()
        .from(productMilestones)
        .where(and(eq(productMilestones.installationId, installationId), eq(productMilestones.idempotencyKey, idempotencyKey)))
        .limit(1);
      return rows[0];
    },

    async insert(values) {
      const [row] = await q().insert(productMilestones).values(values).returning();
      return row!;
    },

    async setAsk(id, askId) {
      await q().update(productMilestones).set({ askId }).where(eq(productMilestones.id, id));
    },

    async forCompany(installationId, companyId) {
      return await q()
        .select()
        .from(productMilestones)
        .where(and(eq(productMilestones.installationId, installationId), eq(productMilestones.companyId, companyId)))
        .orderBy(desc(productMilestones.occurredAt), desc(productMilestones.id));
    },
  };
}

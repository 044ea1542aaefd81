import { and, desc, eq } from 'drizzle-orm';
import type { Db } from './db.ts';
import { productMilestones } from './schema.ts';

export type ProductMilestoneRow = typeof productMilestones.$inferSelect;

export function productMilestonesRepo(db: Db) {
  return {
    byKey(installationId: string, idempotencyKey: string): ProductMilestoneRow | undefined {
      return db
        .select()
        .from(productMilestones)
        .where(and(eq(productMilestones.installationId, installationId), eq(productMilestones.idempotencyKey, idempotencyKey)))
        .get();
    },

    insert(values: typeof productMilestones.$inferInsert): ProductMilestoneRow {
      return db.insert(productMilestones).values(values).returning().get();
    },

    setAsk(id: string, askId: string): void {
      db.update(productMilestones).set({ askId }).where(eq(productMilestones.id, id)).run();
    },

    forCompany(installationId: string, companyId: string): ProductMilestoneRow[] {
      return db
        .select()
        .from(productMilestones)
        .where(and(eq(productMilestones.installationId, installationId), eq(productMilestones.companyId, companyId)))
        .orderBy(desc(productMilestones.occurredAt))
        .all();
    },
  };
}

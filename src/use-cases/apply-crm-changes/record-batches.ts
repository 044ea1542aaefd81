import type { CrmObjectType } from '../../../connectors/connector.ts';
import type { UseCaseContext } from '../../ports/context.ts';

export interface RecordRef {
  objectType: CrmObjectType;
  id: string;
}

export interface RecordFailure {
  ref: RecordRef;
  error: string;
}

/** Applies one record; a record that throws is logged and recorded as failed, the rest go on. */
export type RecordGuard = (ref: RecordRef, apply: () => Promise<void>) => Promise<void>;

export function recordGuard(ctx: UseCaseContext, failed: RecordFailure[]): RecordGuard {
  return async (ref, apply) => {
    try {
      await apply();
    } catch (err) {
      ctx.log.error({ err, ref }, 'applying a CRM record failed');
      failed.push({ ref, error: err instanceof Error ? err.message : String(err) });
    }
  };
}

/** The CRM's batch size for reads and writes. */
export const BATCH = 100;

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

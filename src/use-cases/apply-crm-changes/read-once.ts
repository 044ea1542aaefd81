import type { Program } from '../../domain/program.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { ReferralRow, ReferrerRow } from '../../store/referrals.repo.ts';
import { lockedProgram } from '../reward-ledger.ts';

/**
 * What applying one deal reads repeatedly and nothing in it changes: referrers, and the program
 * versions referrals are locked to (a version is never edited).
 */
export function readOnce(ctx: UseCaseContext) {
  const referrers = new Map<string, ReferrerRow>();
  const programs = new Map<string, Program>();
  return {
    referrer(id: string): ReferrerRow {
      return cached(referrers, id, () => ctx.store.referrals.referrer(id)!);
    },
    lockedProgram(referral: ReferralRow): Program {
      return cached(programs, `${referral.programId}:${referral.programVersion}`, () => lockedProgram(ctx, referral));
    },
  };
}

export type ReadOnce = ReturnType<typeof readOnce>;

function cached<V>(values: Map<string, V>, key: string, read: () => V): V {
  let value = values.get(key);
  if (value === undefined) {
    value = read();
    values.set(key, value);
  }
  return value;
}

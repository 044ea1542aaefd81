import type { Program } from '../../domain/program.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { ReferralRow, ReferrerRow } from '../../store/referrals.repo.ts';
import { lockedProgram } from '../reward-ledger.ts';

/**
 * What applying one deal reads repeatedly and nothing in it changes: referrers, and the program
 * versions referrals are locked to (a version is never edited).
 */
export function readOnce(ctx: UseCaseContext) {
  const referrers = new Map<string, Promise<ReferrerRow>>();
  const programs = new Map<string, Promise<Program>>();
  return {
    referrer(id: string): Promise<ReferrerRow> {
      return cached(referrers, id, async () => (await ctx.store.referrals.referrer(id))!);
    },
    lockedProgram(referral: ReferralRow): Promise<Program> {
      return cached(programs, `${referral.programId}:${referral.programVersion}`, () => lockedProgram(ctx, referral));
    },
  };
}

export type ReadOnce = ReturnType<typeof readOnce>;

/** The first read's promise is kept, so reads of one key made at once share it. */
function cached<V>(values: Map<string, Promise<V>>, key: string, read: () => Promise<V>): Promise<V> {
  let value = values.get(key);
  if (value === undefined) {
    value = read();
    values.set(key, value);
  }
  return value;
}

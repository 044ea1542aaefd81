import { toDateOnly } from '../domain/dates.ts';
import { financeDigest } from '../domain/payouts.ts';
import { programNotice } from '../notify/notices.ts';
import type { UseCaseContext } from '../ports/context.ts';

/**
 * Tells each program's finance address which rewards wait for approval or are overdue: one
 * digest a day (the outbox key holds the date), nothing when nothing waits. Runs with the
 * reconcile job, which comes round several times a day.
 */
/** Returns how many programs had something to tell (a repeat on the same day is absorbed by the outbox key). */
export async function sendFinanceDigests(ctx: UseCaseContext, installationId: string): Promise<number> {
  const now = ctx.now();
  const today = toDateOnly(now.toISOString());
  let sent = 0;
  const rewards = await ctx.store.rewards.forInstallation(installationId);
  for (const row of await ctx.store.programs.list(installationId)) {
    const program = (await ctx.store.programs.current(row.id))?.program;
    if (!program?.financeEmail) continue;
    const digest = financeDigest(
      rewards.filter((r) => r.programId === row.id),
      today,
    );
    if (!digest) continue;
    const financeEmail = program.financeEmail;
    await ctx.store.transaction(
      async () =>
        await ctx.notify(
          {
            installationId,
            topic: 'finance.rewards_digest',
            sourceKey: `${row.id}:finance_digest:${today}`,
            recipient: { name: `${program.name} finance`, email: financeEmail },
            data: { finance: digest },
            program: programNotice(program),
          },
          now,
        ),
    );
    sent += 1;
  }
  return sent;
}

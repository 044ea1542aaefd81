import type { UseCaseContext } from '../ports/context.ts';

/**
 * Re-runs stored inbox events received since `since`. Effects are keyed, so a replay changes
 * nothing that already happened: no new rewards, no second notification.
 */
export async function replayEvents(ctx: UseCaseContext, since: Date, installationId?: string): Promise<{ requeued: number }> {
  const requeued = await ctx.store.inbox.requeueSince(since, installationId);
  const ids = installationId ? [installationId] : (await ctx.store.installations.list()).map((i) => i.id);
  for (const id of ids) await ctx.scheduler.schedule('sync', id);
  return { requeued };
}

import type { HttpReply, InboundRequest } from '../../connectors/connector.ts';
import type { RegisteredConnector } from '../../connectors/registry.ts';
import type { UseCaseContext } from '../ports/context.ts';

export interface ReceiveOutcome {
  reply: HttpReply;
  stored: number;
  duplicates: number;
  /** Why the request was refused, for logs and metrics. */
  refused?: string;
  unknownAccount?: boolean;
}

/**
 * Store, then acknowledge: a CRM webhook is verified over its raw bytes, parsed into hints and
 * committed to the inbox (in one transaction with the requests that arrived alongside it) before
 * the answer goes out. No CRM call happens here; the sync job is scheduled and does the fetching.
 */
export async function receiveWebhook(
  ctx: UseCaseContext,
  connector: RegisteredConnector,
  request: InboundRequest,
): Promise<ReceiveOutcome> {
  const hooks = connector.webhooks;
  const refuse = (status: number, reason: string): ReceiveOutcome => ({
    reply: hooks.refuse(status, reason),
    stored: 0,
    duplicates: 0,
    refused: reason,
  });

  const verdict = hooks.verify(request, ctx.now());
  if (!verdict.ok) return refuse(401, verdict.reason);
  const parsed = hooks.parse(request);
  if (!parsed.ok) return refuse(400, parsed.reason);

  const byAccount = new Map<string, typeof parsed.events>();
  for (const event of parsed.events) {
    const events = byAccount.get(event.accountId);
    if (events) events.push(event);
    else byAccount.set(event.accountId, [event]);
  }
  // Every sender is checked, not only those with events Referloop follows: an unknown account is
  // refused (or recorded) whatever its message carries.
  const senders = await Promise.all(
    [...new Set([...parsed.accountIds, ...byAccount.keys()])].map(async (accountId) => ({
      accountId,
      installation: await ctx.store.installations.routeFor(connector.kind, accountId),
    })),
  );
  const unknown = senders.filter((a) => !a.installation);
  if (unknown.length && hooks.unknownAccount === 'refuse') {
    return { ...refuse(403, `no connected installation for account ${unknown.map((a) => a.accountId).join(', ')}`), unknownAccount: true };
  }
  const accounts = senders.filter((a) => byAccount.has(a.accountId));

  const { stored, duplicates } = await ctx.store.inbox.store({
    crm: connector.kind,
    groups: accounts.map(({ accountId, installation }) => ({
      installationId: installation?.id ?? null,
      events: byAccount.get(accountId)!,
    })),
    now: ctx.now(),
  });
  // Not awaited: the events are durable already, and a queue that is slow or down must not delay
  // the acknowledgement; the sweeper schedules whatever this misses.
  for (const { installation } of accounts) {
    if (installation?.status !== 'active') continue;
    ctx.scheduler.schedule('sync', installation.id).catch((err: unknown) => ctx.log.warn({ err }, 'sync not scheduled; the sweeper will'));
  }
  return { reply: hooks.acknowledge(), stored, duplicates, unknownAccount: unknown.length > 0 };
}

import { captureLinkReferrals } from './referral-links.ts';
import { CrmError } from '../../connectors/connector.ts';
import type { CrmObjectType } from '../../connectors/connector.ts';
import type { InboxRow, SyncWindow } from '../store/inbox.repo.ts';
import { applyCrmChanges, type ApplyResult, type RecordRef } from './apply-crm-changes.ts';
import type { UseCaseContext } from '../ports/context.ts';

/** Records claimed per run: twenty CRM batches. More waiting → the job schedules itself again. */
const RECORDS_PER_RUN = 2_000;

export interface SyncOptions extends SyncWindow {
  maxAttempts: number;
  leaseMs: number;
}

/**
 * Processes an installation's pending inbox events once its webhooks pause (see `SyncWindow`):
 * the hints are coalesced per record, the records' current state is fetched in batches and
 * applied. A record that fails spends an attempt of its events (dead after `maxAttempts`) while
 * the others complete; a CRM failure returns every claimed event to the inbox and lets the queue
 * retry the job.
 */
export async function syncInstallation(ctx: UseCaseContext, installationId: string, options: SyncOptions): Promise<void> {
  const { store } = ctx;
  const installation = await store.installations.get(installationId);
  if (installation?.status !== 'active') return;
  const rows = await store.inbox.claim(installationId, {
    records: RECORDS_PER_RUN,
    leaseMs: options.leaseMs,
    quietMs: options.quietMs,
    maxDelayMs: options.maxDelayMs,
    now: ctx.now(),
  });
  if (rows.length === 0) return scheduleNextDue(ctx, installationId, options);

  // The claim is renewed while we work, so a short lease only matters when this process dies.
  const ids = rows.map((r) => r.id);
  const renew = setInterval(
    async () => {
      try {
        await store.inbox.extendLease(ids, new Date(ctx.now().getTime() + options.leaseMs));
      } catch (err) {
        ctx.log.warn({ err, installationId }, 'inbox lease not renewed');
      }
    },
    Math.max(options.leaseMs / 3, 50),
  );
  let result: ApplyResult;
  try {
    result = await applyCrmChanges(ctx, installation, refsOf(rows));
    // A form that carried a referral code makes a referral of the link's referrer (pushed and linked like any other).
    await captureLinkReferrals(ctx, installation, result.coded);
  } catch (err) {
    // A CRM that is busy, down or disconnected is not the events' fault: they wait without
    // spending an attempt. Only a failure that retrying cannot fix counts against them.
    if (err instanceof CrmError && (err.retryable || err.code === 'auth_revoked')) await store.inbox.release(rows);
    else await store.inbox.markFailed(rows, err instanceof Error ? err.message : String(err), options.maxAttempts);
    throw err;
  } finally {
    clearInterval(renew);
  }

  const failedKeys = new Set(result.failed.map((f) => `${f.ref.objectType}:${f.ref.id}`));
  const failedRows = rows.filter((r) => refsOfRow(r).some((ref) => failedKeys.has(`${ref.objectType}:${ref.id}`)));
  const failed = new Set(failedRows);
  await store.inbox.markDone(
    rows.filter((r) => !failed.has(r)).map((r) => r.id),
    ctx.now(),
  );
  if (failedRows.length) await store.inbox.markFailed(failedRows, result.failed.map((f) => f.error).join('; '), options.maxAttempts);
  const claimedRecords = new Set(rows.map((r) => `${r.objectType}:${r.objectId}`)).size;
  if (claimedRecords === RECORDS_PER_RUN || failedRows.some((r) => r.attempts < options.maxAttempts)) {
    await ctx.scheduler.schedule('sync', installationId, { delayMs: failedRows.length ? 1_000 : 0 });
  } else {
    await scheduleNextDue(ctx, installationId, options);
  }
}

/** Events still in their quiet window get a run when they fall due. */
async function scheduleNextDue(ctx: UseCaseContext, installationId: string, window: SyncWindow): Promise<void> {
  const now = ctx.now();
  const due = await ctx.store.inbox.nextDueAt(installationId, { ...window, now });
  if (due) await ctx.scheduler.schedule('sync', installationId, { delayMs: Math.max(0, due.getTime() - now.getTime()) });
}

function refsOfRow(row: InboxRow): RecordRef[] {
  const own = { objectType: row.objectType as CrmObjectType, id: row.objectId };
  return [own, ...(row.related ?? []).map((r) => ({ objectType: r.objectType as CrmObjectType, id: r.objectId }))];
}

/** Coalesces: ten events about deal 42 are one fetch of deal 42. */
function refsOf(rows: InboxRow[]): RecordRef[] {
  const unique = new Map<string, RecordRef>();
  for (const ref of rows.flatMap(refsOfRow)) unique.set(`${ref.objectType}:${ref.id}`, ref);
  return [...unique.values()];
}

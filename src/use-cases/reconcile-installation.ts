import { captureLinkReferrals } from './referral-links.ts';
import { expiryDecision } from '../domain/referral-lifecycle.ts';
import { payableDecision } from '../domain/rewards.ts';
import { toDateOnly } from '../domain/dates.ts';
import { applyCrmChanges } from './apply-crm-changes.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { programNotice, referralNotice } from '../notify/notices.ts';
import { expireClaims } from './decide-claim.ts';
import { sendFinanceDigests } from './finance-digest.ts';
import { reconcileEligibility } from './reevaluate-accounts.ts';
import { lockedProgram } from './reward-ledger.ts';

/** On the first run, look back this far for changes. */
const FIRST_LOOKBACK_MS = 24 * 60 * 60_000;
export const RECONCILE_CURSOR = 'reconcile';

/**
 * Repairs what webhooks missed: asks the CRM for records modified since the stored cursor and
 * feeds them through the same path as webhook events. Also the daily housekeeping that needs no
 * CRM: referrals past their window and claims past theirs expire, approved rewards past their due date become payable,
 * and finance gets its daily digest of rewards waiting for approval or overdue.
 * Deals whose rewards wait in needs_rate are applied again, with the CRM's current exchange rates.
 * Accounts are evaluated again when their tenure crossed the program's minimum (once a day) or when
 * a mapping or rule change found no queue to re-evaluate them.
 */
export async function reconcileInstallation(ctx: UseCaseContext, installationId: string): Promise<{ records: number }> {
  const { store } = ctx;
  const installation = await store.installations.get(installationId);
  if (installation?.status !== 'active') return { records: 0 };
  const client = await ctx.crm.client(installation);
  let cursor = await store.deals.cursor(installationId, RECONCILE_CURSOR);
  const since = new Date(ctx.now().getTime() - FIRST_LOOKBACK_MS);
  let records = 0;
  let pending = client.changedSince(cursor, since);
  for (;;) {
    const page = await pending;
    // The next search page is fetched while this one is applied: searches have their own rate limit
    // in the CRM, so the two run side by side. The cursor still moves only once a page is applied.
    if (page.hasMore) {
      pending = client.changedSince(page.nextCursor, since);
      // Awaited on the next turn; a failure of this page must not leave it unhandled meanwhile.
      pending.catch(() => undefined);
    }
    if (page.records.length) {
      const result = await applyCrmChanges(
        ctx,
        installation,
        page.records.map((r) => ({ objectType: r.objectType, id: r.id })),
      );
      if (result.failed.length) ctx.log.warn({ installationId, failed: result.failed }, 'reconciliation could not apply some records');
      // A form's referral code whose webhook was missed is captured here.
      await captureLinkReferrals(ctx, installation, result.coded);
      records += page.records.length;
    }
    cursor = page.nextCursor;
    await store.deals.setCursor(installationId, RECONCILE_CURSOR, cursor, ctx.now());
    if (!page.hasMore) break;
  }
  // Rewards waiting for an exchange rate are settled once the CRM has one.
  const waiting = await store.rewards.dealsNeedingRate(installationId);
  if (waiting.length) {
    const result = await applyCrmChanges(
      ctx,
      installation,
      waiting.map((id) => ({ objectType: 'deal' as const, id })),
    );
    if (result.failed.length) ctx.log.warn({ installationId, failed: result.failed }, 'rewards waiting for a rate could not be settled');
  }
  await reconcileEligibility(ctx, installation);
  await expireReferrals(ctx, installationId);
  await expireClaims(ctx, installationId);
  await makeRewardsPayable(ctx, installationId);
  await sendFinanceDigests(ctx, installationId);
  return { records };
}

/** Each referral expires by the window of the program version it is locked to. */
async function expireReferrals(ctx: UseCaseContext, installationId: string): Promise<void> {
  const programs = await ctx.store.programs.list(installationId);
  const versions = (await Promise.all(programs.map(async (program) => await ctx.store.programs.history(program.id)))).flat();
  if (versions.length === 0) return;
  const now = ctx.now();
  // The shortest window of any version bounds which referrals may have expired.
  const shortest = Math.min(...versions.map((v) => v.program.attribution.windowDays));
  const cutoff = new Date(now.getTime() - shortest * 86_400_000).toISOString();
  for (const referral of await ctx.store.referrals.openWithoutDeal(installationId, cutoff)) {
    const { windowDays } = (await lockedProgram(ctx, referral)).attribution;
    const decision = expiryDecision(
      { status: referral.status, submittedAt: referral.submittedAt, hasDeal: false },
      now.toISOString(),
      windowDays,
    );
    if (!decision.expire) continue;
    await ctx.store.transaction(async () => {
      const key = `${referral.id}:expired`;
      const added = await ctx.store.referrals.addEvent({
        referralId: referral.id,
        fromStatus: referral.status,
        toStatus: 'expired',
        reasons: [decision.reason],
        source: 'job:reconcile',
        idempotencyKey: key,
        occurredAt: now.toISOString(),
      });
      await ctx.store.referrals.setStatus(referral.id, 'expired', now);
      const referrer = (await ctx.store.referrals.referrer(referral.referrerId))!;
      if (added) {
        const notice = programNotice(await lockedProgram(ctx, referral));
        await ctx.notify(referralNotice({ ...referral, status: 'expired' }, referrer, notice, 'referral.lost', key, decision.reason), now);
      }
    });
  }
}

async function makeRewardsPayable(ctx: UseCaseContext, installationId: string): Promise<void> {
  const now = ctx.now();
  const today = toDateOnly(now.toISOString());
  for (const reward of await ctx.store.rewards.dueForPayout(installationId, today)) {
    if (!payableDecision({ status: reward.status, dueDate: reward.dueDate }, today).payable) continue;
    await ctx.store.transaction(async () => {
      await ctx.store.rewards.setStatus(reward.id, 'payable', now);
      await ctx.store.rewards.addEntry({
        rewardId: reward.id,
        kind: 'status',
        amountCents: 0,
        fromStatus: reward.status,
        toStatus: 'payable',
        actor: 'job:reconcile',
        reason: `due on ${reward.dueDate}`,
        idempotencyKey: `${reward.id}:payable`,
      });
    });
  }
}

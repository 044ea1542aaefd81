import { hash } from 'node:crypto';
import { toDateOnly } from '../domain/dates.ts';
import { tenureCrossingDue } from '../domain/eligibility.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import { applyCompanies, type EligibilityDecision } from './apply-crm-changes/apply-companies.ts';
import { chunks, recordGuard, type RecordFailure } from './apply-crm-changes/record-batches.ts';
import { writeBack } from './apply-crm-changes/write-back.ts';

/** The basis the stored eligibility decisions were made on (see `eligibilityBasis`). */
const BASIS_CURSOR = 'eligibility-basis';
/** The day of the last nightly tenure pass. */
const TENURE_CURSOR = 'tenure-pass';
/** Companies read, evaluated and written back per step: a few CRM batches, then the next step. */
const STEP = 500;

/**
 * What eligibility is decided on besides the CRM's data: the installation's field mapping and the
 * default program's rules. A short digest of both, so a re-evaluation is keyed per basis and a
 * program change that leaves the rules alone changes nothing.
 */
export async function eligibilityBasis(ctx: UseCaseContext, installationId: string): Promise<string> {
  const installation = await ctx.store.installations.get(installationId);
  const mapping = installation ? ((await ctx.store.installations.settings(installation)).eligibilityFields ?? null) : null;
  const rules = (await ctx.store.programs.currentDefault(installationId))?.program.eligibility.rules ?? null;
  return hash('sha256', JSON.stringify({ mapping, rules }), 'base64url').slice(0, 16);
}

/**
 * After the eligibility mapping or rules changed: every known account is evaluated again in the
 * background. Keyed per basis, so repeated saves of one mapping run once. A failure to schedule is
 * logged, not raised (the change itself is saved): reconciliation notices the basis changed.
 */
export async function scheduleReevaluation(ctx: UseCaseContext, installationId: string): Promise<void> {
  const basis = await eligibilityBasis(ctx, installationId);
  if ((await ctx.store.deals.cursor(installationId, BASIS_CURSOR)) === basis) return;
  // Without a queue right now the admin's request does not wait for one.
  if (!ctx.scheduler.available()) {
    ctx.log.warn({ installationId }, 'accounts not re-evaluated yet (no queue); reconciliation will');
    return;
  }
  await ctx.scheduler
    .schedule('reevaluate-accounts', installationId, { key: basis })
    .catch((err: unknown) => ctx.log.warn({ err, installationId }, 'accounts not re-evaluated yet; reconciliation will'));
}

/**
 * Every account with an eligibility decision is read from the CRM and evaluated on the current
 * basis; what changed is written back to the record and decided as a webhook's change would be
 * (an account that became eligible tells its CS owner). Idempotent: an unchanged result writes
 * nothing.
 */
export async function reevaluateAccounts(ctx: UseCaseContext, installationId: string): Promise<{ accounts: number; failed: number }> {
  const installation = await ctx.store.installations.get(installationId);
  if (installation?.status !== 'active') return { accounts: 0, failed: 0 };
  const basis = await eligibilityBasis(ctx, installationId);
  const ids = (await ctx.store.audit.latestDecisions(installationId, 'company', 'eligibility')).map((d) => d.subjectId);
  const failed = await evaluateCompanies(ctx, installation, ids);
  if (failed.length) ctx.log.warn({ installationId, failed }, 'some accounts could not be re-evaluated');
  // Only a complete pass settles the basis; otherwise reconciliation schedules it again.
  else await ctx.store.deals.setCursor(installationId, BASIS_CURSOR, basis, ctx.now());
  return { accounts: ids.length, failed: failed.length };
}

/**
 * Part of reconciliation. Schedules a re-evaluation the mapping or rule change did not get, and,
 * once a day, evaluates the accounts whose tenure crossed the program's minimum since their last
 * evaluation: time alone changed them, and no CRM sends a change for that.
 */
export async function reconcileEligibility(ctx: UseCaseContext, installation: InstallationRow): Promise<{ tenureCrossed: number }> {
  await scheduleReevaluation(ctx, installation.id);

  const today = toDateOnly(ctx.now().toISOString());
  if ((await ctx.store.deals.cursor(installation.id, TENURE_CURSOR)) === today) return { tenureCrossed: 0 };
  const crossed = (await ctx.store.audit.latestDecisions(installation.id, 'company', 'eligibility'))
    .filter((d) => {
      // Decisions from before tenure was kept say nothing about it; a CRM change re-evaluates them.
      const { tenureCrossesOn = null, evaluatedOn = toDateOnly(d.createdAt) } = d.outcome as Partial<EligibilityDecision>;
      return tenureCrossingDue({ crossesOn: tenureCrossesOn, evaluatedOn }, today).due;
    })
    .map((d) => d.subjectId);
  const failed = await evaluateCompanies(ctx, installation, crossed);
  if (failed.length) ctx.log.warn({ installationId: installation.id, failed }, 'some accounts past their tenure could not be evaluated');
  // A pass with failures runs again at the next reconciliation; one that succeeded waits for tomorrow.
  else await ctx.store.deals.setCursor(installation.id, TENURE_CURSOR, today, ctx.now());
  return { tenureCrossed: crossed.length };
}

async function evaluateCompanies(ctx: UseCaseContext, installation: InstallationRow, ids: string[]): Promise<RecordFailure[]> {
  const client = await ctx.crm.client(installation);
  const failed: RecordFailure[] = [];
  const guard = recordGuard(ctx, failed);
  for (const step of chunks(ids, STEP)) {
    const { writes } = await applyCompanies(ctx, client, installation, step, guard);
    await writeBack(ctx, client, installation, writes);
  }
  return failed;
}

import type { EligibilityResult } from '../domain/eligibility.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import { applyCrmChanges } from './apply-crm-changes.ts';
import type { UseCaseContext } from '../ports/context.ts';

/**
 * Whether an account may refer, and why: the company is read from the CRM now and goes through
 * the same path as a webhook (evaluated, stored, written back to the record when it changed).
 */
export async function accountEligibility(
  ctx: UseCaseContext,
  installation: InstallationRow,
  companyId: string,
): Promise<(EligibilityResult & { evaluatedAt: string }) | null> {
  await applyCrmChanges(ctx, installation, [{ objectType: 'company', id: companyId }]);
  const latest = (await ctx.store.audit.decisionsFor(installation.id, 'company', companyId)).find((d) => d.kind === 'eligibility');
  if (!latest) return null;
  // The stored decision also keeps what the nightly pass needs; the answer is the result.
  const { eligible, reasons, summary } = latest.outcome as EligibilityResult;
  return { eligible, reasons, summary, evaluatedAt: latest.createdAt };
}

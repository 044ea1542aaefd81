import type { CrmClient, CrmCompany, CrmWrite } from '../../../connectors/connector.ts';
import { toDateOnly, type DateOnly } from '../../domain/dates.ts';
import { becameEligible, type EligibilityResult, evaluateEligibility, tenureCrossesOn } from '../../domain/eligibility.ts';
import { accountFactsThrough } from '../../domain/eligibility-fields.ts';
import { askPolicyOf } from '../../domain/referral-ask.ts';
import { programNotice } from '../../notify/notices.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { InstallationRow } from '../../store/installations.repo.ts';
import { askForReferral } from '../ask-for-referral.ts';
import { BATCH, chunks, type RecordGuard } from './record-batches.ts';

export interface CompaniesApplied {
  /** Eligibility written back to each changed company. */
  writes: CrmWrite[];
  /** Companies a referral is linked to: their deals may have changed too. */
  linkedCompanyIds: string[];
}

/** Companies: eligibility to refer, written back to the record. */
export async function applyCompanies(
  ctx: UseCaseContext,
  client: CrmClient,
  installation: InstallationRow,
  ids: string[],
  guard: RecordGuard,
): Promise<CompaniesApplied> {
  const applied: CompaniesApplied = { writes: [], linkedCompanyIds: [] };
  for (const chunk of chunks(ids, BATCH)) {
    const { records } = await client.getCompanies(chunk);
    const owners = await ownersOfNewlyEligible(ctx, client, installation, records);
    const newlyEligible: string[] = [];
    for (const company of records)
      await guard({ objectType: 'company', id: company.id }, async () => {
        const { writes, becameEligible } = await applyCompany(ctx, installation, company, owners);
        applied.writes.push(...writes);
        if (becameEligible) newlyEligible.push(company.id);
      });
    await askAutomatically(ctx, installation, newlyEligible);
    for (const company of records)
      if ((await ctx.store.referrals.linkedTo(installation.id, [{ objectType: 'company', ids: [company.id] }])).length)
        applied.linkedCompanyIds.push(company.id);
  }
  return applied;
}

/**
 * What an eligibility decision stores: the result, the day it was evaluated for (the decision's
 * own timestamp is the database's clock), and the day tenure alone changes the tenure rule.
 */
export type EligibilityDecision = EligibilityResult & { evaluatedOn: DateOnly; tenureCrossesOn: DateOnly | null };

/** A company whose eligibility to refer changed since the last decision; null when it did not. */
async function eligibilityChange(ctx: UseCaseContext, installation: InstallationRow, company: CrmCompany) {
  const program = (await ctx.store.programs.currentDefault(installation.id))?.program;
  if (!program) return null;
  // Read through the installation's field mapping; installations from before mappings existed keep the connector's reading.
  const mapping = (await ctx.store.installations.settings((await ctx.store.installations.get(installation.id)) ?? installation))
    .eligibilityFields;
  const facts = mapping ? accountFactsThrough(mapping, company.fields ?? {}) : company;
  const today = toDateOnly(ctx.now().toISOString());
  const result = evaluateEligibility(facts, program.eligibility.rules, today);
  const previous = (await ctx.store.audit.decisionsFor(installation.id, 'company', company.id)).find((d) => d.kind === 'eligibility');
  const before = (previous?.outcome as { eligible: boolean; summary: string } | undefined) ?? null;
  if (before && before.eligible === result.eligible && before.summary === result.summary) return null;
  // Kept with the decision so the nightly pass knows when time alone changes the tenure rule.
  const crossesOn = tenureCrossesOn(facts, program.eligibility.rules);
  return { program, result, today, crossesOn, before, newlyEligible: becameEligible(before, result) };
}

/** The CS owners to tell: the owners of accounts that just became eligible to refer. */
async function ownersOfNewlyEligible(
  ctx: UseCaseContext,
  client: CrmClient,
  installation: InstallationRow,
  companies: CrmCompany[],
): Promise<Owners> {
  const ownerIds: string[] = [];
  for (const company of companies)
    if (company.ownerId && (await eligibilityChange(ctx, installation, company))?.newlyEligible) ownerIds.push(company.ownerId);
  return ownerIds.length ? client.ownerEmails(ownerIds) : {};
}

type Owners = Awaited<ReturnType<CrmClient['ownerEmails']>>;

/**
 * Accounts that just became eligible are asked for referrals when the program says so (at most once
 * a day by key, and once per the program's period by rule). An ask that fails is logged: the
 * eligibility it follows is recorded, and the CS owner was told, so the sync goes on.
 */
async function askAutomatically(ctx: UseCaseContext, installation: InstallationRow, companyIds: string[]): Promise<void> {
  const program = (await ctx.store.programs.currentDefault(installation.id))?.program;
  if (!program || !askPolicyOf(program).automatic) return;
  const day = toDateOnly(ctx.now().toISOString());
  for (const companyId of companyIds) {
    try {
      const result = await askForReferral(ctx, {
        installation,
        companyId,
        trigger: 'automatic',
        caller: 'program',
        idempotencyKey: `automatic:${companyId}:${day}`,
      });
      ctx.log.info({ installationId: installation.id, companyId, outcome: result.outcome }, 'automatic referral ask');
    } catch (err) {
      ctx.log.warn({ err, installationId: installation.id, companyId }, 'automatic referral ask failed');
    }
  }
}

async function applyCompany(
  ctx: UseCaseContext,
  installation: InstallationRow,
  company: CrmCompany,
  owners: Owners,
): Promise<{ writes: CrmWrite[]; becameEligible: boolean }> {
  const change = await eligibilityChange(ctx, installation, company);
  if (!change) return { writes: [], becameEligible: false };
  const { program, result } = change;
  const now = ctx.now();
  await ctx.store.transaction(async () => {
    await ctx.store.audit.decide({
      installationId: installation.id,
      subjectType: 'company',
      subjectId: company.id,
      kind: 'eligibility',
      outcome: { ...result, evaluatedOn: change.today, tenureCrossesOn: change.crossesOn } satisfies EligibilityDecision,
    });
    if (change.newlyEligible) {
      // The account's owner (its CS owner) is told; without one, the program's own address.
      const owner = company.ownerId ? owners[company.ownerId] : undefined;
      await ctx.notify(
        {
          installationId: installation.id,
          topic: 'account.eligible',
          sourceKey: `${installation.id}:company:${company.id}:eligible:${toDateOnly(now.toISOString())}`,
          recipient: owner
            ? { email: owner.email, name: owner.name ?? owner.email }
            : { email: program.senderEmail, name: program.senderName },
          data: { account: { name: company.name ?? company.domain ?? company.id, reasons: result.reasons.map((r) => r.detail) } },
          program: programNotice(program),
        },
        now,
      );
    }
  });
  return {
    writes: [{ target: 'company', companyId: company.id, fields: { eligible: result.eligible, eligibilityReason: result.summary } }],
    becameEligible: change.newlyEligible,
  };
}

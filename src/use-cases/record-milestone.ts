import { CrmError } from '../../connectors/connector.ts';
import { askPolicyOf } from '../domain/referral-ask.ts';
import { programNotice } from '../notify/notices.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ProductMilestoneRow } from '../store/product-milestones.repo.ts';
import type { ReferralAskRow } from '../store/referral-asks.repo.ts';
import { newId } from '../store/referrals.repo.ts';
import { accountEligibility } from './account-eligibility.ts';
import { askForReferral } from './ask-for-referral.ts';

export interface RecordMilestoneInput {
  installation: InstallationRow;
  companyId: string;
  milestone: string;
  occurredAt: string;
  /** The person in the product who reached it: asked instead of the account's champion when the program asks. */
  contactEmail?: string | undefined;
  /** The product's key: the same key records (and asks) once. */
  idempotencyKey: string;
}

export type RecordMilestoneResult =
  | { outcome: 'recorded'; milestone: ProductMilestoneRow; ask: ReferralAskRow | null; replay: boolean }
  | { outcome: 'unknown_account' };

/**
 * A milestone the vendor's product reports for an account ("onboarding completed", "first payroll
 * run"): kept on the account, and, when the program names it, an ask to the account (to the
 * person who reached it, if they are one of its contacts) that shares the automatic asks' period
 * and is recorded as refused with its reasons when it may not go out.
 */
export async function recordMilestone(ctx: UseCaseContext, input: RecordMilestoneInput): Promise<RecordMilestoneResult> {
  const { store } = ctx;
  const { installation } = input;
  const replay = await store.productMilestones.byKey(installation.id, input.idempotencyKey);
  if (replay)
    return {
      outcome: 'recorded',
      milestone: replay,
      ask: replay.askId ? ((await store.referralAsks.get(replay.askId)) ?? null) : null,
      replay: true,
    };

  const client = await ctx.crm.client(installation);
  const [company] = (await client.getCompanies([input.companyId])).records;
  if (!company) return { outcome: 'unknown_account' };
  const at = ctx.now();
  const now = at.toISOString();
  const program = (await store.programs.currentDefault(installation.id))?.program;
  const recorded = await store.transaction(async () => {
    const raced = await store.productMilestones.byKey(installation.id, input.idempotencyKey);
    if (raced) return { row: raced, fresh: false };
    const row = await store.productMilestones.insert({
      id: newId('ms'),
      installationId: installation.id,
      companyId: company.id,
      milestone: input.milestone,
      occurredAt: input.occurredAt,
      contactEmail: input.contactEmail ?? null,
      idempotencyKey: input.idempotencyKey,
      askId: null,
      createdAt: now,
    });
    await store.audit.record({
      installationId: installation.id,
      actor: 'product',
      action: 'account.milestone',
      subjectType: 'company',
      subjectId: company.id,
      after: { milestone: row.milestone, occurredAt: row.occurredAt },
      at: now,
    });
    // Shown on the company's CRM timeline, where the account's team looks.
    if (program)
      await ctx.notify(
        {
          installationId: installation.id,
          topic: 'account.milestone',
          sourceKey: `milestone:${row.id}`,
          crmCompany: { id: company.id },
          data: { milestone: { name: row.milestone, occurredAt: row.occurredAt, contactEmail: row.contactEmail } },
          program: programNotice(program),
        },
        at,
      );
    return { row, fresh: true };
  });
  if (!recorded.fresh) return { outcome: 'recorded', milestone: recorded.row, ask: null, replay: true };

  if (!program || !(askPolicyOf(program).milestones ?? []).includes(input.milestone))
    return { outcome: 'recorded', milestone: recorded.row, ask: null, replay: false };
  // An account never evaluated is evaluated first, as a person's ask does.
  if (!(await store.audit.decisionsFor(installation.id, 'company', company.id)).some((d) => d.kind === 'eligibility'))
    await accountEligibility(ctx, installation, company.id);
  const contactId = input.contactEmail ? await contactOf(ctx, installation, company.id, input.contactEmail) : undefined;
  const asked = await askForReferral(ctx, {
    installation,
    companyId: company.id,
    contactId,
    trigger: 'milestone',
    caller: 'program',
    message: undefined,
    idempotencyKey: `milestone:${recorded.row.id}`,
  });
  const ask = asked.ask;
  if (ask) await store.productMilestones.setAsk(recorded.row.id, ask.id);
  return { outcome: 'recorded', milestone: { ...recorded.row, askId: ask?.id ?? null }, ask, replay: false };
}

/** The contact with this email, when it is one of the company's; else the ask goes to the account's champion. */
async function contactOf(
  ctx: UseCaseContext,
  installation: InstallationRow,
  companyId: string,
  email: string,
): Promise<string | undefined> {
  try {
    const people = await (await ctx.crm.client(installation)).findPeopleByEmail([email]);
    return people.find((p) => p.objectType === 'contact' && p.companyIds.includes(companyId))?.id;
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    return undefined;
  }
}

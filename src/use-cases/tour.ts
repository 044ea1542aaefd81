import { randomBytes } from 'node:crypto';
import { SandboxDealError, type SandboxSalesTeam } from '../../connectors/registry.ts';
import type { EligibilityResult } from '../domain/eligibility.ts';
import type { ReferrerType } from '../domain/program.ts';
import { renderEmail } from '../notify/templates.ts';
import type { EmailPayload } from '../notify/topics.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ReferralRow, ReferrerRow } from '../store/referrals.repo.ts';
import { accountEligibility } from './account-eligibility.ts';
import { submitReferral, type SubmitReferralResult } from './submit-referral.ts';

/**
 * The first-run tour on a sandbox CRM: sample referrers, a referral from one of them, and the
 * sales team's moves (a deal, its stages, its close, an account's NPS) played in the sandbox, so
 * the webhooks and the whole pipeline behind them run as they would for a real CRM.
 */

/** The sample referrers, one of each kind the default program pays differently. */
export const TOUR_REFERRERS = {
  partner: { email: 'pia@partner-firm.example', name: 'Pia Partner', type: 'partner', company: 'Partner Firm' },
  customer: { email: 'cody@loyal-customer.example', name: 'Cody Customer', type: 'customer', company: 'Loyal Customer Co' },
} as const satisfies Record<string, { email: string; name: string; type: ReferrerType; company: string }>;

export type TourReferrer = keyof typeof TOUR_REFERRERS;

/** The customer account whose NPS the visitor changes: below the default rule's 9 at first. */
export const TOUR_ACCOUNT = { name: 'Loyal Customer Co', domain: 'loyal-customer.example', nps: 6 };

export interface TourAccount {
  companyId: string;
  nps: number | null;
}

/** Creates the sample referrers and the customer account once; later calls find them. */
export async function seedTour(ctx: UseCaseContext, installation: InstallationRow, team: SandboxSalesTeam): Promise<TourAccount> {
  const { store } = ctx;
  const now = ctx.now().toISOString();
  await store.transaction(async () => {
    const program = (await store.programs.defaultProgram(installation.id))!;
    for (const referrer of Object.values(TOUR_REFERRERS)) {
      if (await store.referrals.referrerByEmail(installation.id, referrer.email)) continue;
      const row = await store.referrals.insertReferrer({ installationId: installation.id, ...referrer, createdAt: now });
      await store.programs.join(program, row.id);
    }
  });
  return team.ensureCustomerAccount(TOUR_ACCOUNT);
}

export interface TourReferralInput {
  referrer: TourReferrer;
  firstName: string;
  company: string;
}

/**
 * A sample referrer refers a friend, through the use case the API and the portal use. The friend's
 * email and domain are new each time, so every click is a fresh referral rather than a duplicate.
 */
export async function referAFriend(
  ctx: UseCaseContext,
  installation: InstallationRow,
  input: TourReferralInput,
  requestId: string,
): Promise<SubmitReferralResult> {
  const sample = TOUR_REFERRERS[input.referrer];
  const referrer = await ctx.store.referrals.referrerByEmail(installation.id, sample.email);
  if (!referrer) throw new Error(`the tour's ${input.referrer} referrer was not seeded in ${installation.id}`);
  const suffix = randomBytes(3).toString('hex');
  const slug =
    input.company
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'friend';
  return submitReferral(ctx, {
    installation,
    referrer: { email: referrer.email, name: referrer.name, type: referrer.type, company: referrer.company ?? undefined },
    referee: {
      email: `${input.firstName.toLowerCase().replace(/[^a-z0-9]+/g, '') || 'friend'}@${slug}-${suffix}.example`,
      firstName: input.firstName,
      company: input.company,
    },
    submittedBy: { kind: 'referrer', id: referrer.id, name: referrer.name },
    source: `tour:${requestId}`,
  });
}

/** The sample referrers of this installation (the tour shows and acts on theirs only). */
export async function tourReferrers(ctx: UseCaseContext, installation: InstallationRow): Promise<ReferrerRow[]> {
  const samples: string[] = Object.values(TOUR_REFERRERS).map((r) => r.email);
  return (await ctx.store.referrals.listReferrers(installation.id)).filter((r) => samples.includes(r.email));
}

/** A referral of this installation from a sample referrer, or undefined: the tour leaves other referrals alone. */
export async function tourReferral(
  ctx: UseCaseContext,
  installation: InstallationRow,
  referralId: string,
): Promise<ReferralRow | undefined> {
  const referral = await ctx.store.referrals.get(referralId);
  if (referral?.installationId !== installation.id) return undefined;
  return (await tourReferrers(ctx, installation)).some((r) => r.id === referral.referrerId) ? referral : undefined;
}

/**
 * A deal for the referee, in the sandbox's first open stage. The referee's contact exists once the
 * referral was pushed to the CRM; before that the sandbox refuses (a SandboxDealError).
 */
export async function createTourDeal(team: SandboxSalesTeam, referral: ReferralRow, amount: number): Promise<{ dealId: string }> {
  const name = `${referral.refereeCompany ?? referral.refereeEmail} (referred)`;
  return team.createDeal({ email: referral.refereeEmail, amount, name });
}

export async function moveTourDeal(team: SandboxSalesTeam, dealId: string, stage: string): Promise<void> {
  const known = [...team.stages.open, team.stages.won, team.stages.lost];
  if (!known.includes(stage)) throw new SandboxDealError(`Unknown deal stage ${stage}: the stages are ${known.join(', ')}.`);
  await team.moveDeal(dealId, stage);
}

/** Sets the sample account's NPS in the sandbox and evaluates its eligibility now, as a webhook would. */
export async function changeTourAccountNps(
  ctx: UseCaseContext,
  installation: InstallationRow,
  team: SandboxSalesTeam,
  nps: number,
): Promise<{ account: TourAccount; eligibility: (EligibilityResult & { evaluatedAt: string }) | null }> {
  const { companyId } = await team.ensureCustomerAccount(TOUR_ACCOUNT);
  await team.setAccountNps(companyId, nps);
  return { account: { companyId, nps }, eligibility: await accountEligibility(ctx, installation, companyId) };
}

/**
 * A referral's emails as the referrer receives them: rendered by the notifier's templates (HTML
 * escaped there), without the per-referrer unsubscribe and portal links, which carry secrets.
 */
export async function tourEmails(ctx: UseCaseContext, referralId: string) {
  return (await ctx.store.outbox.emailsOfReferral(referralId)).map((row) => {
    const payload = row.payload as EmailPayload;
    const { subject, html } = renderEmail(payload, undefined);
    return { id: row.id, topic: row.topic, status: row.status, to: payload.to.email, subject, html, createdAt: row.createdAt };
  });
}

import type { CrmClient, CrmCompany, CrmPerson } from '../../connectors/connector.ts';
import type { EligibilityResult } from '../domain/eligibility.ts';
import { refereeIdentity } from '../domain/normalize.ts';
import { type AskRefusal, type AskTrigger, askPolicyOf, decideAsk } from '../domain/referral-ask.ts';
import { programNotice } from '../notify/notices.ts';
import type { AskData } from '../notify/topics.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ReferralAskRow } from '../store/referral-asks.repo.ts';
import { newId } from '../store/referrals.repo.ts';

export interface AskForReferralInput {
  installation: InstallationRow;
  companyId: string;
  /** The champion: a contact of the company; by default its primary contact. */
  contactId?: string | undefined;
  /** Who signs the ask; by default the company's owner (its CS owner), else the program's sender. */
  askedBy?: { name: string; email: string } | undefined;
  /** A personal line from the asker. */
  message?: string | undefined;
  trigger: AskTrigger;
  /** Who asks: an admin (API token), a CRM user (record card), or the program by itself (automatic). */
  caller: 'admin' | 'crm_user' | 'program';
  /** Same key, same ask: a retry returns the first one. */
  idempotencyKey?: string | undefined;
}

export type AskRefusalCode = AskRefusal | 'unknown_company' | 'unknown_contact' | 'key_reused';

export type AskForReferralResult =
  | { outcome: 'sent'; ask: ReferralAskRow; replay: boolean }
  /** `ask`: the recorded refusal (automatic asks, or the replay of one); null when nothing was written. */
  | { outcome: 'refused'; refusal: AskRefusalCode; reasons: string[]; ask: ReferralAskRow | null };

/**
 * Asks an eligible account's champion for referrals: a personal email signed by the CSM, with a
 * link that signs them in to the ask's page in the referrer portal, and a note on the company's
 * CRM timeline. The champion becomes (or is found as) a customer referrer. A person asking is
 * answered when the ask may not go out and nothing is written; an automatic ask that may not go
 * out is recorded as refused, with the reasons, so an admin sees why.
 */
export async function askForReferral(ctx: UseCaseContext, input: AskForReferralInput): Promise<AskForReferralResult> {
  const { store } = ctx;
  const { installation } = input;
  const replay = input.idempotencyKey ? await store.referralAsks.byKey(installation.id, input.idempotencyKey) : undefined;
  if (replay) return replayOf(replay, input.companyId);

  const current = await store.programs.currentDefault(installation.id);
  if (!current) throw new Error(`installation ${installation.id} has no program`);
  const { program } = current;
  const client = await ctx.crm.client(installation);
  const [company] = (await client.getCompanies([input.companyId])).records;
  if (!company) return refused('unknown_company', [`the CRM has no company ${input.companyId}`]);
  const champion = await championOf(client, company, input.contactId);
  if (champion === 'not_of_company')
    return refused('unknown_contact', [`the CRM has no contact ${input.contactId} of company ${company.name ?? company.id}`]);

  const eligibility = await latestEligibility(ctx, installation, company.id);
  const owner = company.ownerId ? (await client.ownerEmails([company.ownerId]))[company.ownerId] : undefined;
  const askedBy =
    input.askedBy ??
    (owner ? { name: owner.name ?? owner.email, email: owner.email } : { name: program.senderName, email: program.senderEmail });
  const championEmail = champion?.email
    ? refereeIdentity({ email: champion.email }, { plusAddressing: program.dedupe.plusAddressing }).email
    : null;
  const referrer = championEmail ? await store.referrals.referrerByEmail(installation.id, championEmail) : undefined;
  const now = ctx.now();
  const decision = decideAsk(
    {
      trigger: input.trigger,
      eligibility: eligibility && {
        eligible: eligibility.eligible,
        failing: eligibility.reasons.filter((r) => !r.passed).map((r) => r.detail),
      },
      champion: champion && {
        email: championEmail,
        emailOptOut: champion.emailOptOut ?? false,
        // The outbox would suppress the email to a referrer who unsubscribed.
        unsubscribed: referrer?.emailOptOut ?? false,
      },
      signedByOwner: owner !== undefined && owner.email.toLowerCase() === askedBy.email.toLowerCase(),
      askedByAdmin: input.caller !== 'crm_user',
      lastAutomaticAskAt: (await store.referralAsks.lastAutomaticSent(installation.id, company.id))?.createdAt ?? null,
      now: now.toISOString(),
    },
    askPolicyOf(program),
  );

  const accountName = company.name ?? company.domain ?? company.id;
  const championName = champion ? personName(champion) : null;
  const idempotencyKey = input.idempotencyKey ?? newId('askkey');
  const row = {
    installationId: installation.id,
    companyId: company.id,
    companyName: accountName,
    championType: champion?.objectType ?? null,
    championId: champion?.id ?? null,
    championEmail,
    championName,
    askedByName: askedBy.name,
    askedByEmail: askedBy.email,
    message: input.message ?? null,
    trigger: input.trigger,
    idempotencyKey,
    createdAt: now.toISOString(),
  };

  if (!decision.send) {
    if (input.trigger === 'manual') return refused(decision.refusal, decision.reasons);
    return await store.transaction(async () => {
      const raced = await store.referralAsks.byKey(installation.id, idempotencyKey);
      if (raced) return replayOf(raced, input.companyId);
      const ask = await store.referralAsks.insert({ ...row, status: 'refused', refusal: decision.refusal, reasons: decision.reasons });
      return { outcome: 'refused', refusal: decision.refusal, reasons: decision.reasons, ask };
    });
  }

  const email = championEmail!;
  return await store.transaction(async (): Promise<AskForReferralResult> => {
    // The same key may have been taken while the CRM answered: that first ask is the answer.
    const raced = await store.referralAsks.byKey(installation.id, idempotencyKey);
    if (raced) return replayOf(raced, input.companyId);
    const found = await store.referrals.referrerByEmail(installation.id, email);
    const asked =
      found ??
      (await store.referrals.insertReferrer({
        installationId: installation.id,
        email,
        name: championName ?? email,
        type: 'customer',
        company: accountName,
        crmPersonType: champion!.objectType,
        crmPersonId: champion!.id,
      }));
    if (!found)
      await store.audit.record({
        installationId: installation.id,
        actor: 'system',
        action: 'referrer.created',
        subjectType: 'referrer',
        subjectId: asked.id,
        after: { type: asked.type, from: 'referral ask' },
        at: now.toISOString(),
      });
    // Asks are the default program's (its ask policy sends them): a new champion joins it.
    if (!found) await store.programs.join((await store.programs.defaultProgram(installation.id))!, asked.id);
    const sent = await store.referralAsks.insert({ ...row, referrerId: asked.id, status: 'sent', refusal: null, reasons: [] });
    const data: AskData = {
      id: sent.id,
      accountName,
      championName: championName ?? email,
      askedBy: { name: askedBy.name, email: askedBy.email },
      message: sent.message,
      programText: askPolicyOf(program).template ?? null,
    };
    const notice = programNotice(program);
    await ctx.notify(
      {
        installationId: installation.id,
        topic: 'referral.ask',
        sourceKey: `ask:${sent.id}`,
        referrerId: asked.id,
        data: { ask: data },
        program: notice,
      },
      now,
    );
    await ctx.notify(
      {
        installationId: installation.id,
        topic: 'account.asked',
        sourceKey: `ask:${sent.id}:company_note`,
        crmCompany: { id: company.id },
        data: { ask: data },
        program: notice,
      },
      now,
    );
    await store.audit.record({
      installationId: installation.id,
      actor: input.caller === 'program' ? 'system' : askedBy.email,
      action: 'referral_ask.sent',
      subjectType: 'company',
      subjectId: company.id,
      after: { askId: sent.id, trigger: sent.trigger, championId: sent.championId },
      at: now.toISOString(),
    });
    return { outcome: 'sent', ask: sent, replay: false };
  });
}

/** An ask recorded before, answered as it was. */
function asResult(ask: ReferralAskRow, replay: boolean): AskForReferralResult {
  return ask.status === 'sent'
    ? { outcome: 'sent', ask, replay }
    : { outcome: 'refused', refusal: ask.refusal as AskRefusalCode, reasons: ask.reasons, ask };
}

/**
 * The answer to a key already used: the ask it was first used for, or a refusal when that was an
 * ask to another account (never that account's answer).
 */
function replayOf(ask: ReferralAskRow, companyId: string): AskForReferralResult {
  if (ask.companyId !== companyId) return refused('key_reused', [`the idempotency key was used for an ask to company ${ask.companyId}`]);
  return asResult(ask, true);
}

function refused(refusal: AskRefusalCode, reasons: string[]): AskForReferralResult {
  return { outcome: 'refused', refusal, reasons, ask: null };
}

/** The contact named (it must be one of the company's), else the company's primary contact. */
async function championOf(
  client: CrmClient,
  company: CrmCompany,
  contactId: string | undefined,
): Promise<CrmPerson | null | 'not_of_company'> {
  if (!contactId) return client.primaryContact(company.id);
  const [person] = (await client.getPeople('contact', [contactId])).records;
  return person && !person.mergedIntoId && person.companyIds.includes(company.id) ? person : 'not_of_company';
}

/** The account's latest eligibility decision (callers evaluate an account never evaluated first: `accountEligibility`). */
async function latestEligibility(ctx: UseCaseContext, installation: InstallationRow, companyId: string): Promise<EligibilityResult | null> {
  const latest = (await ctx.store.audit.decisionsFor(installation.id, 'company', companyId)).find((d) => d.kind === 'eligibility');
  return latest ? (latest.outcome as EligibilityResult) : null;
}

function personName(person: CrmPerson): string {
  return [person.firstName, person.lastName].filter(Boolean).join(' ') || person.email || person.id;
}

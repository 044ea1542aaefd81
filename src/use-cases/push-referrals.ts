import type { CrmWrite } from '../../connectors/connector.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { arrivalNotice, programNotice } from '../notify/notices.ts';
import { lockedProgram } from './reward-ledger.ts';

const BATCH = 100;

/**
 * Puts accepted referrals into the CRM: finds each referee by email or creates them (one batch
 * call per 100), links the person and the company found by domain, writes the referral's fields,
 * and remembers referrers who are CRM contacts (for timeline notes). Re-running is harmless:
 * finding comes before creating, and writes set the same values.
 */
export async function pushReferrals(ctx: UseCaseContext, installationId: string): Promise<{ pushed: number }> {
  const { store } = ctx;
  const installation = await store.installations.get(installationId);
  if (installation?.status !== 'active') return { pushed: 0 };
  const client = await ctx.crm.client(installation);
  let pushed = 0;
  for (;;) {
    const batch = await store.referrals.unsynced(installationId, BATCH);
    if (batch.length === 0) break;
    const ensured = await client.ensureReferees(
      batch.map((r) => ({
        key: r.id,
        email: r.refereeEmail,
        firstName: r.refereeFirstName,
        lastName: r.refereeLastName,
        company: r.refereeCompany,
        domain: r.refereeDomain,
      })),
    );
    const referrers = await Promise.all(batch.map(async (r) => (await store.referrals.referrer(r.referrerId))!));
    const unknownReferrers = [...new Set(referrers.filter((r) => !r.crmPersonId).map((r) => r.email))];
    const referrerPeople = unknownReferrers.length ? await client.findPeopleByEmail(unknownReferrers) : [];
    // Referrals from outside the CRM are announced to the owner of the referee's record.
    const ownerOf = (result: (typeof ensured)[number]) => result.person.ownerId ?? result.company?.ownerId ?? null;
    const arrivals = ensured.filter((e) => batch.find((r) => r.id === e.key)?.submittedByKind !== 'rep');
    const arrivalOwnerIds = arrivals.map(ownerOf).filter((id): id is string => id !== null);
    const owners = arrivalOwnerIds.length ? await client.ownerEmails(arrivalOwnerIds) : {};

    let writes: CrmWrite[] = [];
    let linked = 0;
    const now = ctx.now();
    // Run again whole after a PostgreSQL serialization failure: what it gathers starts afresh each time.
    await store.transaction(async () => {
      writes = [];
      linked = 0;
      for (const result of ensured) {
        const referral = batch.find((r) => r.id === result.key);
        if (!referral) continue;
        const referrer = (await store.referrals.referrer(referral.referrerId))!;
        await store.referrals.link(installationId, referral.id, result.person.objectType, result.person.id);
        for (const companyId of result.person.companyIds) await store.referrals.link(installationId, referral.id, 'company', companyId);
        if (result.company) await store.referrals.link(installationId, referral.id, 'company', result.company.id);
        await store.referrals.update(referral.id, {
          crmPersonType: result.person.objectType,
          crmPersonId: result.person.id,
          crmCompanyId: result.company?.id ?? result.person.companyIds[0] ?? null,
          crmSyncedAt: now.toISOString(),
          updatedAt: now.toISOString(),
        });
        // A referral logged on a deal (a claim) is linked to it before it reaches the CRM.
        const dealId = (await store.referrals.links(referral.id)).find((l) => l.objectType === 'deal')?.objectId;
        writes.push({
          target: 'referral',
          person: { objectType: result.person.objectType, id: result.person.id },
          ...(dealId ? { dealId } : {}),
          fields: {
            referralId: referral.id,
            // The row as it is now: a deal applied while the referees were looked up may have moved it (to closed_won, say).
            status: ((await store.referrals.get(referral.id)) ?? referral).status,
            referrerName: referrer.name,
            referrerEmail: referrer.email,
            referrerType: referrer.type,
          },
        });
        if (arrivals.includes(result)) {
          const program = programNotice(await lockedProgram(ctx, referral));
          const owner = owners[ownerOf(result) ?? ''];
          const recipient = owner
            ? { email: owner.email, name: owner.name ?? owner.email }
            : { email: program.senderEmail, name: program.senderName };
          await ctx.notify(arrivalNotice(referral, referrer, program, recipient), now);
        }
        linked += 1;
      }
      for (const person of referrerPeople) {
        const referrer = referrers.find((r) => person.email && r.email === person.email.toLowerCase());
        if (referrer && !referrer.crmPersonId)
          await store.referrals.updateReferrer(referrer.id, { crmPersonType: person.objectType, crmPersonId: person.id });
      }
    });
    pushed += linked;
    for (const outcome of await client.write(writes)) {
      if (!outcome.ok) ctx.log.warn({ installationId, err: outcome.error?.message }, 'referral write-back refused');
    }
    if (ensured.length < batch.length) {
      ctx.log.warn({ installationId, missing: batch.length - ensured.length }, 'the CRM did not return every referee');
      break;
    }
  }
  return { pushed };
}

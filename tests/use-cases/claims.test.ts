import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Program } from '../../src/domain/program.ts';
import { decideClaim, expireClaims } from '../../src/use-cases/decide-claim.ts';
import { reconcileInstallation } from '../../src/use-cases/reconcile-installation.ts';
import { submitReferral, type SubmitReferralInput } from '../../src/use-cases/submit-referral.ts';
import { createWorld, CUSTOMER, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const SAM = { id: 'owner-sam', email: 'sam.rep@vendor.example', name: 'Sam Rep' };

/**
 * Deal claims through the use cases, on the fake CRM and the real store: a rep logs a partner's
 * referral for someone already in an open deal, an approver decides, the deal closes.
 */
describe('deal claims', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
    world.crm.addOwner(SAM);
  });
  afterEach(async () => await world.close());

  const submit = (referee: string, extra: Partial<SubmitReferralInput> = {}, referrer: SubmitReferralInput['referrer'] = PARTNER) =>
    submitReferral(world.ctx, {
      installation: world.installation,
      referrer,
      referee: { email: referee },
      submittedBy: { kind: 'rep', id: 'rep-7', name: 'Riley Rep' },
      source: 'test',
      ...extra,
    });
  /** A person in an open deal (stage Qualified, owner Sam Rep), as the rep finds them on a call. */
  const openDeal = (email = 'alex@globex.example', name = 'Globex platform') => {
    const person = world.crm.createPerson({ email, firstName: 'Alex' });
    const deal = world.crm.createDeal({
      name,
      stageId: 'qualified',
      ownerId: SAM.id,
      amountCents: 4_000_000,
      contactIds: [person.id],
      closeDate: '2026-03-31',
    });
    world.crm.takeEvents();
    world.advance(MINUTE);
    return { person, deal };
  };
  const approve = (referralId: string) =>
    decideClaim(world.ctx, {
      referralId,
      installationIds: [world.installation.id],
      decision: { action: 'approve', approvedBy: 'Ada Admin' },
    });
  const topics = async () => (await world.column('SELECT topic FROM outbox ORDER BY id')) as string[];
  const decisions = async (referralId: string, kind: string) =>
    (await world.store.audit.decisionsFor(world.installation.id, 'referral', referralId))
      .filter((d) => d.kind === kind)
      .map((d) => d.outcome as { reasons?: string[]; notes?: string[]; dealId?: string; attributed?: boolean });

  it('a claim waits for approval, is credited on approval although made after the deal, and earns the partner its commission', async () => {
    const { deal } = openDeal();
    const claimed = await submit('alex@globex.example');
    expect(claimed.outcome).toBe('claim_pending');
    if (claimed.outcome !== 'claim_pending') return;
    expect(claimed.verdict.reasons[0]).toBe(
      'Claim on deal "Globex platform" (stage Qualified, owner Sam Rep) recorded; waiting for approval by the program\'s approvers.',
    );
    expect(claimed.referral.status).toBe('claim_pending');
    // The deal's owner is told; the referrer hears once the claim is decided.
    expect(await topics()).toEqual(['referral.received', 'deal.claimed']);

    // Until approved, the deal explains why the claim earns nothing.
    world.crm.moveStage(deal.id, 'proposal');
    await world.sync();
    expect((await decisions(claimed.referral.id, 'attribution'))[0]).toMatchObject({
      dealId: deal.id,
      attributed: false,
      reasons: ['the referral is claim pending'],
    });

    const approved = await approve(claimed.referral.id);
    expect(approved).toMatchObject({ outcome: 'approved', referral: { status: 'in_sales_process' } });
    expect((await world.store.audit.forSubject('referral', claimed.referral.id)).map((a) => [a.action, a.actor])).toEqual(
      expect.arrayContaining([
        ['claim.created', 'Riley Rep'],
        ['claim.approved', 'Ada Admin'],
      ]),
    );
    expect(await topics()).toContain('referral.accepted');

    world.advance(MINUTE);
    world.crm.moveStage(deal.id, 'won');
    await world.sync();
    const referral = (await world.store.referrals.get(claimed.referral.id))!;
    expect(referral.status).toBe('closed_won');
    const [attribution] = await world.store.referrals.attributionsForReferral(referral.id);
    expect(attribution).toMatchObject({ dealId: deal.id, role: 'sourced', sharePpm: 1_000_000 });
    expect(attribution!.evidence).toContainEqual({
      via: 'claim',
      id: deal.id,
      by: 'Riley Rep',
      at: claimed.referral.submittedAt,
      approvedBy: 'Ada Admin',
    });
    expect((await world.store.rewards.forReferral(referral.id)).map((r) => [r.kind, r.amountCents, r.status])).toEqual([
      ['commission', 400_000, 'pending'],
    ]);
    // A partner earns nothing at qualified, and the referral says why.
    expect((await decisions(referral.id, 'reward_plan')).flatMap((d) => d.notes ?? [])).toContain(
      'no reward rule pays partner referrers at qualified',
    );
  });

  it('approving twice changes nothing the second time; rejecting an approved claim is refused', async () => {
    openDeal();
    const claimed = await submit('alex@globex.example');
    if (claimed.outcome !== 'claim_pending') throw new Error(claimed.outcome);
    await approve(claimed.referral.id);
    const before = await world.footprint();
    expect(await approve(claimed.referral.id)).toMatchObject({
      outcome: 'unchanged',
      reasons: ['The claim was already approved; nothing changed.'],
    });
    expect(
      await decideClaim(world.ctx, {
        referralId: claimed.referral.id,
        installationIds: [world.installation.id],
        decision: { action: 'reject', rejectedBy: 'Ada', reason: 'x' },
      }),
    ).toMatchObject({ outcome: 'refused' });
    expect(await world.footprint()).toEqual(before);
  });

  it('a rejected claim releases the deal, with the reason told to the referrer', async () => {
    openDeal();
    const claimed = await submit('alex@globex.example');
    if (claimed.outcome !== 'claim_pending') throw new Error(claimed.outcome);
    const rejected = await decideClaim(world.ctx, {
      referralId: claimed.referral.id,
      installationIds: [world.installation.id],
      decision: { action: 'reject', rejectedBy: 'Ada Admin', reason: 'the rep sourced this deal at a trade show' },
    });
    expect(rejected).toMatchObject({ outcome: 'rejected', referral: { status: 'rejected' } });
    const [declined] = await world.column<string>("SELECT payload FROM outbox WHERE topic = 'referral.declined' AND channel = 'email'");
    expect(declined).toContain('the rep sourced this deal at a trade show');
    expect(declined).not.toContain('Ada Admin');
    // Released: another referrer may claim the deal now (the rejected referral holds nothing).
    expect((await submit('alex@globex.example', {}, CUSTOMER)).outcome).toBe('claim_pending');
  });

  it('a deal another referrer holds is a conflict naming them, and nothing is written', async () => {
    const { deal } = openDeal();
    const first = await submit('alex@globex.example');
    if (first.outcome !== 'claim_pending') throw new Error(first.outcome);
    // A colleague at another domain of the group, so the referee dedupe does not answer first.
    world.crm.createPerson({ email: 'bo@globex-labs.example' });
    const before = await world.footprint();
    const referrals = (await world.store.referrals.list({ installationIds: [world.installation.id], limit: 50 })).items.length;

    const other = await submit('bo@globex-labs.example', { deal: { id: deal.id } }, CUSTOMER);
    expect(other.outcome).toBe('not_recorded');
    if (other.outcome !== 'not_recorded') return;
    expect(other.verdict).toMatchObject({
      outcome: 'rejected',
      code: 'conflict',
      collidesWith: { dealId: deal.id, referralId: first.referral.id, referrerName: 'Pia Partner' },
    });
    expect(other.verdict.reasons[0]).toContain("is already held by Pia Partner's referral");

    const again = await submit('bo@globex-labs.example', { deal: { id: deal.id } });
    expect(again).toMatchObject({ outcome: 'not_recorded', verdict: { outcome: 'rejected', code: 'duplicate' } });

    expect(await world.footprint()).toEqual(before);
    expect((await world.store.referrals.list({ installationIds: [world.installation.id], limit: 50 })).items).toHaveLength(referrals);
  });

  it('bad claims write nothing: a deal the CRM does not have, a closed deal, several deals to choose from', async () => {
    const { person, deal } = openDeal();
    const second = world.crm.createDeal({ name: 'Globex add-on', contactIds: [person.id] });
    const closed = world.crm.createDeal({ name: 'Globex pilot', stageId: 'won', contactIds: [person.id] });
    const before = await world.footprint();

    expect(await submit('alex@globex.example', { deal: { id: 'dl_missing' } })).toEqual({
      outcome: 'deal_not_found',
      reason: "Deal dl_missing does not exist in this installation's CRM.",
    });
    const onClosed = await submit('alex@globex.example', { deal: { id: closed.id } });
    expect(onClosed).toMatchObject({ outcome: 'not_recorded', verdict: { code: 'conflict' } });
    if (onClosed.outcome === 'not_recorded') expect(onClosed.verdict.reasons[0]).toContain('is already closed won');

    const choose = await submit('alex@globex.example');
    expect(choose.outcome).toBe('not_recorded');
    if (choose.outcome !== 'not_recorded' || choose.verdict.outcome !== 'choose_deal') throw new Error('expected choose_deal');
    expect(choose.verdict.deals.map((d) => d.id)).toEqual([deal.id, second.id]);
    expect(await world.footprint()).toEqual(before);

    // Naming one of them records the claim.
    expect((await submit('alex@globex.example', { deal: { id: second.id } })).outcome).toBe('claim_pending');
  });

  it('a claim nobody approves expires after the claim window and releases the deal', async () => {
    openDeal();
    const claimed = await submit('alex@globex.example');
    if (claimed.outcome !== 'claim_pending') throw new Error(claimed.outcome);
    world.advance(89 * DAY);
    expect(await expireClaims(world.ctx, world.installation.id)).toBe(0);
    world.advance(DAY);
    expect(await expireClaims(world.ctx, world.installation.id)).toBe(1);
    expect((await world.store.referrals.get(claimed.referral.id))!.status).toBe('expired');
    expect((await world.store.referrals.timeline(claimed.referral.id)).at(-1)!.reasons[0]).toContain(
      "not approved within the program's 90-day claim window",
    );
  });

  it('a program without claims keeps the conflict, with its reason', async () => {
    const program = (await world.store.programs.currentDefault(world.installation.id))!.program;
    await world.store.programs.addVersion(
      (await world.store.programs.defaultProgram(world.installation.id))!,
      { ...program, claims: { ...program.claims, allowed: false } },
      'test',
    );
    openDeal();
    const result = await submit('alex@globex.example');
    expect(result.outcome).toBe('rejected');
    if (result.outcome === 'rejected')
      expect(result.verdict.reasons[0]).toContain('the program does not allow referrals to claim existing deals');
  });
});

describe('account-level matching, channel conflict and locked program versions', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  const saveProgram = async (change: (p: Program) => Program) =>
    await world.store.programs.addVersion(
      (await world.store.programs.defaultProgram(world.installation.id))!,
      change((await world.store.programs.currentDefault(world.installation.id))!.program),
      'test',
    );
  const attributions = async (referralId: string) => await world.store.referrals.attributionsForReferral(referralId);
  const lastDecision = async (referralId: string) =>
    (await world.store.audit.decisionsFor(world.installation.id, 'referral', referralId)).find((d) => d.kind === 'attribution')?.outcome as
      | { attributed: boolean; reasons: string[] }
      | undefined;

  it("a referral for jordan@acme.example with no company link is credited by a later deal on a colleague's contact, via the domain", async () => {
    const jordan = await world.refer({ email: 'jordan@acme.example', firstName: 'Jordan' });
    expect((await world.store.referrals.links(jordan.id)).some((l) => l.objectType === 'company')).toBe(false);
    world.advance(MINUTE);
    const acme = world.crm.createCompany({ name: 'Acme', domain: 'acme.example' });
    const pat = world.crm.createPerson({ email: 'pat@acme.example', companyIds: [acme.id] });
    const deal = world.crm.createDeal({
      name: 'Acme platform',
      amountCents: 2_500_000,
      contactIds: [pat.id],
      companyIds: [acme.id],
      stageId: 'won',
      closeDate: '2026-03-31',
    });
    await world.sync();
    expect(await attributions(jordan.id)).toEqual([
      expect.objectContaining({ dealId: deal.id, role: 'sourced', evidence: [{ via: 'domain', id: 'acme.example' }] }),
    ]);
    expect((await world.store.referrals.get(jordan.id))!.status).toBe('closed_won');
  });

  it.each<[Program['attribution']['channelConflict'], number | null, string]>([
    ['ignore', 1_000_000, 'the channel-conflict policy ignore credits the partner in full'],
    ['split_with_rep', 500_000, 'the channel-conflict policy split_with_rep'],
    ['influenced_only', 0, 'the channel-conflict policy influenced_only'],
    ['rep_sourced_blocks_partner', null, 'the channel-conflict policy rep_sourced_blocks_partner'],
  ])('a partner referral on a rep-sourced deal under %s', async (policy, sharePpm, reason) => {
    await saveProgram((p) => ({ ...p, attribution: { ...p.attribution, channelConflict: policy } }));
    // The team records outbound deals in its own "Deal source" field; the installation maps it.
    await world.store.installations.updateSettings(
      world.installation.id,
      { dealSources: { fields: [{ field: 'deal_source', values: { Outbound: 'rep' } }] } },
      new Date(),
    );
    const referral = await world.refer({ email: 'pat@acme.example' }, PARTNER);
    world.advance(MINUTE);
    world.crm.createDeal({
      amountCents: 2_500_000,
      contactIds: [referral.crmPersonId!],
      sources: [{ field: 'deal_source', value: 'Outbound' }],
      stageId: 'won',
      closeDate: '2026-03-31',
    });
    await world.sync();
    const decision = (await lastDecision(referral.id))! as { reasons: string[]; attributed: boolean; dealReasons: string[] };
    expect(decision.reasons.join(' ')).toContain(reason);
    expect(decision.dealReasons).toContain(
      'the CRM records the deal as rep-sourced (deal_source is "Outbound", which the installation maps to rep)',
    );
    if (sharePpm === null) {
      expect(decision.attributed).toBe(false);
      expect(await attributions(referral.id)).toEqual([]);
    } else {
      expect(await attributions(referral.id)).toEqual([expect.objectContaining({ sharePpm })]);
    }
  });

  it('a v1 referral is judged by v1 after v2 is saved', async () => {
    const v1 = await world.refer({ email: 'pat@acme.example' });
    // v2 shortens the attribution window to one day; the v1 referral keeps its 365 days.
    await saveProgram((p) => ({ ...p, attribution: { ...p.attribution, windowDays: 1 } }));
    const v2 = await world.refer({ email: 'lee@initech.example' });
    world.advance(3 * DAY);
    world.crm.createDeal({ amountCents: 1_000_000, contactIds: [v1.crmPersonId!], stageId: 'won', closeDate: '2026-03-31' });
    world.crm.createDeal({ amountCents: 1_000_000, contactIds: [v2.crmPersonId!], stageId: 'won', closeDate: '2026-03-31' });
    await world.sync();
    expect(v1.programVersion).toBe(1);
    expect(await attributions(v1.id)).toHaveLength(1);
    expect(await attributions(v2.id)).toEqual([]);
    expect((await lastDecision(v2.id))!.reasons[0]).toContain('more than 1 days after the referral');
  });

  it('a referral expires by the window of its own version: v1 (365 days) stays, v2 (30 days) expires', async () => {
    const v1 = await world.refer({ email: 'pat@acme.example' });
    await saveProgram((p) => ({ ...p, attribution: { ...p.attribution, windowDays: 30 } }));
    const v2 = await world.refer({ email: 'lee@initech.example' });
    world.advance(40 * DAY);
    await reconcileInstallation(world.ctx, world.installation.id);
    expect((await world.store.referrals.get(v1.id))!.status).toBe('accepted');
    expect((await world.store.referrals.get(v2.id))!.status).toBe('expired');
  });
});

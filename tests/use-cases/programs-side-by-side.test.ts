/**
 * Two programs in one installation (issue #19): a customer program (fixed fees, paid 90 days after
 * close, sent from the customer team) and a partner program (20% of first-year value, approval over
 * $1,000, paid 30 days after close, sent from the partner team). A customer's referral and a
 * partner's referral of the same week each follow their own program's rules, emails and payouts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultProgram, type Program } from '../../src/domain/program.ts';
import { renderEmail } from '../../src/notify/templates.ts';
import type { EmailPayload } from '../../src/notify/topics.ts';
import type { ProgramRow } from '../../src/store/programs.repo.ts';
import { changeReward } from '../../src/use-cases/manage-rewards.ts';
import { createPayoutRun } from '../../src/use-cases/payout-runs.ts';
import { addToProgram, createProgram, removeFromProgram, saveProgram } from '../../src/use-cases/program-settings.ts';
import { ensureReferralLink, visitReferralLink } from '../../src/use-cases/referral-links.ts';
import { buildReport } from '../../src/use-cases/reports.ts';
import { submitReferral } from '../../src/use-cases/submit-referral.ts';
import { createWorld, CUSTOMER, PARTNER, type World } from './world.ts';

const DAY = 86_400_000;

const customerProgram = (): Program => ({
  ...defaultProgram(),
  name: 'Customer referrals',
  senderName: 'Acme customer team',
  senderEmail: 'customers@acme.example',
});

const partnerProgram = (): Program => ({
  ...defaultProgram(),
  name: 'Partner program',
  senderName: 'Acme partner team',
  senderEmail: 'partners@acme.example',
  referrerTypes: ['partner', 'consultant'],
  rewardRules: [
    {
      id: 'partner-acv',
      kind: 'percent',
      description: '20% of first-year value',
      referrerTypes: ['partner', 'consultant'],
      milestone: 'closed_won',
      rateBasisPoints: 2_000,
    },
  ],
  payoutDays: 30,
  approvalThresholdCents: 100_000,
});

describe('two programs in one installation', () => {
  let world: World;
  let partners: ProgramRow;

  beforeEach(async () => {
    world = await createWorld('2026-03-02T09:00:00.000Z');
    await saveProgram(world.ctx, world.program, customerProgram(), 'test');
    partners = (
      await createProgram(world.ctx, { installationId: world.installation.id, name: 'Partner program', from: 'blank', actor: 'test' })
    ).program;
    await saveProgram(world.ctx, partners, partnerProgram(), 'test');
  });
  afterEach(async () => await world.close());

  /** The referral's deal of $30,000 closes won on the CRM, and the sync applies it. */
  async function wins(referral: { crmPersonId: string | null }, name: string) {
    const deal = world.crm.createDeal({ name, amountCents: 3_000_000, contactIds: [referral.crmPersonId!], closeDate: '2026-03-06' });
    world.crm.moveStage(deal.id, 'won');
    await world.sync();
    return deal.id;
  }
  const emailsOf = async (referralId: string) =>
    (
      (await world.rows("SELECT payload FROM outbox WHERE channel = 'email' AND referral_id = ? ORDER BY id", referralId)) as {
        payload: string;
      }[]
    ).map((row) => JSON.parse(row.payload) as EmailPayload);

  it('a customer’s and a partner’s referral of one week follow their own program’s rules, emails and payouts', async () => {
    const customerReferral = await world.refer({ email: 'dana@prospect-one.example', firstName: 'Dana' }, CUSTOMER);
    world.advance(2 * DAY);
    const partnerReferral = await world.refer({ email: 'eli@prospect-two.example', firstName: 'Eli' }, PARTNER, partners.id);
    expect(customerReferral.programId).toBe(world.program.id);
    expect(partnerReferral.programId).toBe(partners.id);
    // The partner joined the program they were referred into, and only that one.
    expect((await world.store.programs.programsOf(partnerReferral.referrerId)).map((p) => p.id)).toEqual([partners.id]);

    world.advance(DAY);
    await wins(customerReferral, 'Prospect One');
    await wins(partnerReferral, 'Prospect Two');

    // Rules: the customer program pays its fees ($50 qualified, $500 won), due 90 days after qualifying and
    // closing; the partner program 20% of $30,000, due 30 days after the close, after an approval.
    const customerRewards = await world.store.rewards.forReferral(customerReferral.id);
    expect(customerRewards.map((r) => [r.milestone, r.netCents, r.programId, r.dueDate, r.status]).sort()).toEqual([
      ['closed_won', 50_000, world.program.id, '2026-06-04', 'approved'],
      ['qualified', 5_000, world.program.id, '2026-06-03', 'approved'],
    ]);
    const partnerRewards = await world.store.rewards.forReferral(partnerReferral.id);
    expect(partnerRewards.map((r) => [r.milestone, r.netCents, r.programId, r.dueDate, r.status, r.requiresApproval])).toEqual([
      ['closed_won', 600_000, partners.id, '2026-04-05', 'pending', true],
    ]);

    // Emails: each referral's messages come from its program's sender and speak in its name.
    const customerEmails = await emailsOf(customerReferral.id);
    const partnerEmails = await emailsOf(partnerReferral.id);
    expect(customerEmails.map((e) => e.topic)).toContain('referral.won');
    expect(partnerEmails.map((e) => e.topic)).toContain('referral.won');
    expect(new Set(customerEmails.map((e) => e.program.senderEmail))).toEqual(new Set(['customers@acme.example']));
    expect(new Set(partnerEmails.map((e) => e.program.senderEmail))).toEqual(new Set(['partners@acme.example']));
    const wonText = (emails: EmailPayload[]) => renderEmail(emails.find((e) => e.topic === 'referral.won')!, undefined).text;
    expect(wonText(customerEmails)).toContain('signed with Customer referrals');
    expect(wonText(partnerEmails)).toContain('signed with Partner program');

    // Payouts: a run per program, each with its own payees and rewards only.
    const approved = await changeReward(world.ctx, { reward: partnerRewards[0]!, action: 'approve', actor: 'finance' });
    expect(approved.ok).toBe(true);
    const partnerRun = await createPayoutRun(world.ctx, {
      installation: world.installation,
      program: partners,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    const customerRun = await createPayoutRun(world.ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    if (!partnerRun.ok || !customerRun.ok) throw new Error(JSON.stringify({ partnerRun, customerRun }));
    expect(partnerRun.run.programId).toBe(partners.id);
    expect(partnerRun.run.lines.map((l) => [l.payeeEmail, l.amountCents, l.rewardIds])).toEqual([
      [PARTNER.email, 600_000, [partnerRewards[0]!.id]],
    ]);
    expect(customerRun.run.programId).toBe(world.program.id);
    expect(customerRun.run.lines.map((l) => [l.payeeEmail, l.amountCents, [...l.rewardIds].sort()])).toEqual([
      [CUSTOMER.email, 55_000, customerRewards.map((r) => r.id).sort()],
    ]);

    // Reports: filtered by program, each counts its own referral and the rewards it brought.
    const report = async (programId: string) =>
      await buildReport(world.ctx, world.installation, { from: '2026-03-01', to: '2026-03-31', granularity: 'month', programId });
    const customerReport = await report(world.program.id);
    const partnerReport = await report(partners.id);
    expect([customerReport.referrals, customerReport.won, partnerReport.referrals, partnerReport.won]).toEqual([1, 1, 1, 1]);
    expect(customerReport.rewards).not.toEqual(partnerReport.rewards);
  });

  it('refuses a program the referrer does not belong to, or one of no installation of theirs, and writes nothing', async () => {
    await world.refer({ email: 'first@prospect.example' }, CUSTOMER);
    const before = await world.footprint();
    const submit = (programId: string) =>
      submitReferral(world.ctx, {
        installation: world.installation,
        referrer: CUSTOMER,
        referee: { email: 'second@prospect.example' },
        submittedBy: { kind: 'rep', id: 'rep-1' },
        source: 'test',
        programId,
      });
    expect(await submit(partners.id)).toEqual({
      outcome: 'program_refused',
      code: 'not_member',
      reason: `The referrer ${CUSTOMER.email} does not belong to program ${partners.id}; their programs: ${world.program.id} (Customer referrals).`,
    });
    expect(await submit('prg_nowhere')).toEqual({
      outcome: 'program_refused',
      code: 'program_not_found',
      reason: 'There is no program prg_nowhere in this installation.',
    });
    expect(await world.footprint()).toEqual(before);
    expect(
      await world.store.referrals.byReferrer((await world.store.referrals.referrerByEmail(world.installation.id, CUSTOMER.email))!.id),
    ).toHaveLength(1);
  });

  it('a link belongs to its program: its visits land on that program’s page, and the referrals it brings are that program’s', async () => {
    const links = (landingUrl: string, requireApproval: boolean) => ({ landingUrl, allowedDomains: ['acme.example'], requireApproval });
    await saveProgram(world.ctx, world.program, { ...customerProgram(), links: links('https://acme.example/customers', false) }, 'test');
    await saveProgram(world.ctx, partners, { ...partnerProgram(), links: links('https://acme.example/partners', true) }, 'test');
    await world.refer({ email: 'first@prospect-one.example' }, PARTNER, partners.id);
    const partner = (await world.store.referrals.referrerByEmail(world.installation.id, PARTNER.email))!;

    expect(await ensureReferralLink(world.ctx, partner, world.program)).toEqual({
      outcome: 'not_member',
      reason: `Referrer ${partner.id} does not belong to program ${world.program.id}.`,
    });
    const made = await ensureReferralLink(world.ctx, partner, partners);
    if (made.outcome !== 'ok') throw new Error(made.outcome);
    expect(made.link.programId).toBe(partners.id);
    const visit = await visitReferralLink(world.ctx, {
      code: made.link.code,
      visitorAddress: '203.0.113.9',
      visitorReferrerId: null,
      query: {},
      visitorHashKey: Buffer.alloc(32),
    });
    expect(visit.location).toBe(`https://acme.example/partners?referloop_code=${made.link.code}`);

    world.advance(DAY);
    world.crm.createPerson({ email: 'gia@prospect-three.example', referralCode: made.link.code });
    await world.sync();
    const captured = (await world.store.referrals.byReferrer(partner.id)).find((r) => r.refereeEmail === 'gia@prospect-three.example')!;
    // The partner program approves link referrals (the customer program does not): it waits.
    expect([captured.programId, captured.status]).toEqual([partners.id, 'submitted']);
  });

  it('a referrer removed from a program is no longer referred into it and its link is retired; what they referred keeps its program', async () => {
    await saveProgram(
      world.ctx,
      partners,
      { ...partnerProgram(), links: { landingUrl: 'https://acme.example/partners', allowedDomains: ['acme.example'] } },
      'test',
    );
    const before = await world.refer({ email: 'first@prospect-one.example' }, PARTNER, partners.id);
    const partner = (await world.store.referrals.referrerByEmail(world.installation.id, PARTNER.email))!;
    const made = await ensureReferralLink(world.ctx, partner, partners);
    if (made.outcome !== 'ok') throw new Error(made.outcome);

    // Their only program: refused, and nothing changes.
    expect(await removeFromProgram(world.ctx, partners, partner.id, 'user:ada')).toEqual({
      outcome: 'refused',
      reason: 'It is the referrer’s only program: add them to another before removing them from this one.',
    });
    expect((await world.store.referralLinks.activeFor(partner.id, partners.id))?.code).toBe(made.link.code);

    await addToProgram(world.ctx, world.program, partner.id, 'user:ada');
    world.advance(DAY);
    expect(await removeFromProgram(world.ctx, partners, partner.id, 'user:ada')).toEqual({ outcome: 'removed', linkRetired: true });
    expect(await removeFromProgram(world.ctx, partners, partner.id, 'user:ada')).toEqual({ outcome: 'not_member' });
    expect((await world.store.programs.programsOf(partner.id)).map((p) => p.id)).toEqual([world.program.id]);
    expect((await world.store.referralLinks.byCode(made.link.code))!.revokedAt).toBe(world.ctx.now().toISOString());
    expect(await world.rows("SELECT actor, before, after FROM audit_log WHERE action = 'program.referrer_removed'")).toEqual([
      { actor: 'user:ada', before: JSON.stringify({ programId: partners.id }), after: JSON.stringify({ linkRetired: made.link.code }) },
    ]);

    const named = await submitReferral(world.ctx, {
      installation: world.installation,
      referrer: PARTNER,
      referee: { email: 'second@prospect-two.example' },
      submittedBy: { kind: 'rep', id: 'rep-1' },
      source: 'test',
      programId: partners.id,
    });
    expect(named).toMatchObject({ outcome: 'program_refused', code: 'not_member' });
    // Named none, a new referral goes to the program they are still in.
    expect((await world.refer({ email: 'third@prospect-three.example' }, PARTNER)).programId).toBe(world.program.id);
    expect((await world.store.referrals.get(before.id))!.programId).toBe(partners.id);
    // A prospect arriving with the retired, never-visited link makes no referral.
    world.crm.createPerson({ email: 'late@prospect-four.example', referralCode: made.link.code });
    await world.sync();
    expect((await world.store.referrals.byReferrer(partner.id)).map((r) => r.refereeEmail).sort()).toEqual([
      'first@prospect-one.example',
      'third@prospect-three.example',
    ]);
  });

  it('a referrer only in the partner program is referred into it when no program is named', async () => {
    await world.refer({ email: 'first@prospect-one.example' }, PARTNER, partners.id);
    world.advance(DAY);
    const unnamed = await world.refer({ email: 'second@prospect-two.example' }, PARTNER);
    expect(unnamed.programId).toBe(partners.id);
  });
});

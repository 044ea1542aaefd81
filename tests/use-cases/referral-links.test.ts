/**
 * Referral links over the fake CRM and the real store: visits counted (or not), and CRM people
 * whose form carried a code becoming referrals of the link's referrer, with the usual checks.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectInstallation } from '../../src/use-cases/install-crm.ts';
import { decideLinkReferral } from '../../src/use-cases/decide-link-referral.ts';
import { ensureReferralLink, visitReferralLink } from '../../src/use-cases/referral-links.ts';
import type { ReferrerRow } from '../../src/store/referrals.repo.ts';
import { CUSTOMER, createWorld, type World } from './world.ts';

const LANDING = 'https://www.vendor.example/signup';

describe('referral links', () => {
  let world: World;
  let referrer: ReferrerRow;
  const key = randomBytes(32);

  beforeEach(async () => {
    world = await createWorld();
    const { store, installation } = world;
    await store.programs.addVersion(
      (await store.programs.defaultProgram(installation.id))!,
      {
        ...(await store.programs.currentDefault(installation.id))!.program,
        links: { landingUrl: LANDING, allowedDomains: ['vendor.example'] },
      },
      'test',
    );
    referrer = await store.referrals.insertReferrer({
      installationId: installation.id,
      email: CUSTOMER.email,
      name: CUSTOMER.name,
      type: 'customer',
    });
    await store.programs.join(world.program, referrer.id);
  });
  afterEach(async () => await world.close());

  const linkOf = async (landingUrl?: string) => {
    const result = await ensureReferralLink(world.ctx, referrer, world.program, landingUrl);
    if (result.outcome !== 'ok') throw new Error(result.outcome);
    return result.link;
  };
  const visit = async (code: string, visitorReferrerId: string | null = null) =>
    await visitReferralLink(world.ctx, {
      code,
      visitorAddress: '203.0.113.7',
      visitorReferrerId,
      query: { utm_source: 'mail' },
      visitorHashKey: key,
    });
  const visits = async () => (await world.rows('SELECT * FROM referral_link_visits')) as { visitor_key: string; utm: string }[];
  const referralsOf = async () => await world.store.referrals.byReferrer(referrer.id);

  it('gives a referrer one link until another page is asked for; a page off the allowed domains is refused', async () => {
    const first = await linkOf();
    expect((await linkOf()).code).toBe(first.code);
    const docs = await linkOf('https://docs.vendor.example/start');
    expect(docs.code).not.toBe(first.code);
    expect((await world.store.referralLinks.byCode(first.code))!.revokedAt).not.toBeNull();
    expect(docs.code.slice(0, 4)).toBe(first.code.slice(0, 4));
    expect(await ensureReferralLink(world.ctx, referrer, world.program, 'https://evil.test/')).toEqual({
      outcome: 'landing_not_allowed',
      reason: "The landing URL is on evil.test, which is not one of the program's allowed domains.",
    });
  });

  it('counts a visit by a keyed hash of the address, not the address; the referrer’s own visit and a wrong code count nothing', async () => {
    const { code } = await linkOf();
    expect((await visit(code)).location).toBe(`${LANDING}?utm_source=mail&referloop_code=${code}`);
    expect(await visits()).toHaveLength(1);
    expect(JSON.stringify(await visits())).not.toContain('203.0.113');
    expect(JSON.parse((await visits())[0]!.utm)).toEqual({ utm_source: 'mail' });

    expect((await visit(code, referrer.id)).location).toBe(`${LANDING}?utm_source=mail&referloop_code=${code}`);
    const wrong = `${code.slice(0, 4)}${'x'.repeat(code.length - 4)}`;
    expect((await visit(wrong)).location).toBe(LANDING);
    expect((await visit('nonsense')).location).toBeNull();
    await world.store.referralLinks.revoke(code, new Date().toISOString());
    expect((await visit(code)).location).toBe(LANDING);
    expect(await visits()).toHaveLength(1);
  });

  it('a person whose form carried the code becomes one referral of the referrer, submitted at the visit, however often it changes', async () => {
    const { code } = await linkOf();
    await visit(code);
    const visitedAt = world.ctx.now().toISOString();
    world.advance(3_600_000);
    const person = world.crm.createPerson({ email: 'sam@prospect.example', firstName: 'Sam', referralCode: code });
    await world.sync();
    world.crm.updatePerson(person.id, { lifecycleStage: 'lead' });
    await world.sync();
    const [referral, ...more] = await referralsOf();
    expect(more).toEqual([]);
    expect(referral).toMatchObject({
      status: 'accepted',
      refereeEmail: 'sam@prospect.example',
      submittedAt: visitedAt,
      linkEvidence: { via: 'link', code, visitedAt },
    });
    expect(await world.store.referralLinks.stats(code)).toEqual({ clicks: 1, signUps: 1, deals: 0 });
  });

  it('a program that approves link referrals holds them as submitted until an approver decides', async () => {
    const { store, installation } = world;
    await store.programs.addVersion(
      (await store.programs.defaultProgram(installation.id))!,
      {
        ...(await store.programs.currentDefault(installation.id))!.program,
        links: { landingUrl: LANDING, allowedDomains: ['vendor.example'], requireApproval: true },
      },
      'test',
    );
    const { code } = await linkOf();
    world.crm.createPerson({ email: 'ann@prospect.example', referralCode: code });
    world.crm.createPerson({ email: 'bo@another-prospect.example', referralCode: code });
    await world.sync();
    const [ann, bo] = await referralsOf();
    expect([ann!.status, bo!.status]).toEqual(['submitted', 'submitted']);
    expect(await store.referrals.unsynced(installation.id, 10)).toEqual([]);
    const topics = async () => await world.column('SELECT DISTINCT topic FROM outbox');
    expect(await topics()).toEqual(['referral.received']);

    const ids = [installation.id];
    const approved = await decideLinkReferral(world.ctx, {
      referralId: ann!.id,
      installationIds: ids,
      decision: { action: 'approve', approvedBy: 'Ada Admin' },
    });
    expect(approved).toMatchObject({ outcome: 'approved', referral: { status: 'accepted' } });
    expect((await store.referrals.unsynced(installation.id, 10)).map((r) => r.id)).toEqual([ann!.id]);
    const rejected = await decideLinkReferral(world.ctx, {
      referralId: bo!.id,
      installationIds: ids,
      decision: { action: 'reject', rejectedBy: 'Ada Admin', reason: 'a reseller, not a customer' },
    });
    expect(rejected).toMatchObject({ outcome: 'rejected', referral: { status: 'rejected' } });
    expect((await store.referrals.timeline(bo!.id)).at(-1)!.reasons).toEqual([
      'link referral rejected by Ada Admin: a reseller, not a customer',
    ]);
    expect(await topics()).toEqual(expect.arrayContaining(['referral.accepted', 'referral.declined']));

    // Decided once: a second decision, or one from another installation's caller, changes nothing.
    expect(
      await decideLinkReferral(world.ctx, { referralId: ann!.id, installationIds: ids, decision: { action: 'approve', approvedBy: 'x' } }),
    ).toMatchObject({
      outcome: 'refused',
    });
    expect(
      await decideLinkReferral(world.ctx, {
        referralId: bo!.id,
        installationIds: ['other'],
        decision: { action: 'approve', approvedBy: 'x' },
      }),
    ).toEqual({
      outcome: 'not_found',
    });
  });

  it('a link retired after a visit still credits that visit', async () => {
    const first = await linkOf();
    await visit(first.code);
    const visitedAt = world.ctx.now().toISOString();
    world.advance(60_000);
    // Another page for the referrer retires the first link.
    await linkOf('https://docs.vendor.example/start');
    world.advance(60_000);
    world.crm.createPerson({ email: 'late@prospect.example', referralCode: first.code });
    await world.sync();
    expect(await referralsOf()).toEqual([expect.objectContaining({ status: 'accepted', submittedAt: visitedAt })]);
  });

  it('the usual checks apply: a referrer referring themselves by their own link is rejected', async () => {
    const { code } = await linkOf();
    world.crm.createPerson({ email: CUSTOMER.email, firstName: 'Carla', referralCode: code });
    await world.sync();
    expect((await referralsOf()).map((r) => r.status)).toEqual(['rejected']);
  });

  it('a code of another installation, a revoked code or an unknown one makes no referral', async () => {
    const { installation: other } = await connectInstallation(
      world.ctx,
      'fake',
      { accountId: 'another-account', tokens: world.crm.issueTokens() },
      'test',
    );
    await world.store.programs.addVersion(
      (await world.store.programs.defaultProgram(other.id))!,
      {
        ...(await world.store.programs.currentDefault(other.id))!.program,
        links: { landingUrl: LANDING, allowedDomains: ['vendor.example'] },
      },
      'test',
    );
    const otherReferrer = await world.store.referrals.insertReferrer({
      installationId: other.id,
      email: 'o@other.example',
      name: 'O',
      type: 'customer',
    });
    const otherProgram = (await world.store.programs.defaultProgram(other.id))!;
    await world.store.programs.join(otherProgram, otherReferrer.id);
    const foreign = await ensureReferralLink(world.ctx, otherReferrer, otherProgram);
    if (foreign.outcome !== 'ok') throw new Error(foreign.outcome);
    const revoked = await linkOf();
    // Each installation's codes start with its own tag.
    expect(foreign.link.code.slice(0, 4)).not.toBe(revoked.code.slice(0, 4));
    await world.store.referralLinks.revoke(revoked.code, new Date().toISOString());
    world.crm.takeEvents();
    for (const [i, code] of [foreign.link.code, revoked.code, `${revoked.code.slice(0, 4)}${'Z'.repeat(13)}`].entries())
      world.crm.createPerson({ email: `p${i}@prospect.example`, referralCode: code });
    const before = await world.footprint();
    await world.sync();
    expect((await world.column('SELECT count(*) FROM referrals'))[0]).toBe(0);
    expect(await world.footprint()).toEqual(before);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrmClient } from '../../connectors/connector.ts';
import type { UseCaseContext } from '../../src/ports/context.ts';
import { applyCrmChanges } from '../../src/use-cases/apply-crm-changes.ts';
import { createWorld, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;

describe('applyCrmChanges, on the fake CRM and the real store in SQLite :memory:', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  /** A referral pushed to the CRM and a deal for its contact, applied at the pipeline's first stage. */
  async function referredDeal(options: { amountCents?: number; referrer?: typeof PARTNER } = {}) {
    const pushed = await world.refer({ email: 'pat@acme.example', firstName: 'Pat', lastName: 'Lee' }, options.referrer);
    world.advance(MINUTE);
    const deal = world.crm.createDeal({
      name: 'Acme platform',
      amountCents: options.amountCents ?? 2_500_000,
      contactIds: [pushed.crmPersonId!],
      closeDate: '2026-03-31',
    });
    await world.sync();
    return { referralId: pushed.id, contactId: pushed.crmPersonId!, dealId: deal.id };
  }

  async function win(dealId: string): Promise<void> {
    world.advance(MINUTE);
    world.crm.moveStage(dealId, 'won');
    expect((await world.sync()).failed).toEqual([]);
  }

  const referral = async (id: string) => (await world.store.referrals.get(id))!;
  /** The referral's rewards, qualified first, then in the order their keys were taken (`key`, `key#2`). */
  const rewards = async (referralId: string) =>
    (await world.store.rewards.forReferral(referralId))
      .sort(
        (a, b) =>
          Number(a.milestone !== 'qualified') - Number(b.milestone !== 'qualified') || a.idempotencyKey.length - b.idempotencyKey.length,
      )
      .map((r) => ({ milestone: r.milestone, kind: r.kind, amountCents: r.amountCents, netCents: r.netCents, status: r.status }));
  const outboxTopics = async () => (await world.column('SELECT topic FROM outbox ORDER BY id')) as string[];

  it('a deal closing won attributes it to the referral, rewards the referrer and writes both back', async () => {
    const { referralId, contactId, dealId } = await referredDeal();
    expect((await referral(referralId)).status).toBe('contacted');
    await win(dealId);

    expect((await referral(referralId)).status).toBe('closed_won');
    expect((await world.store.referrals.timeline(referralId)).map((e) => e.toStatus)).toEqual([
      'submitted',
      'accepted',
      'contacted',
      'qualified',
      'in_sales_process',
      'closed_won',
    ]);
    expect(await world.store.referrals.attributionsForReferral(referralId)).toMatchObject([
      { dealId, sharePpm: 1_000_000, role: 'sourced', status: 'active', model: 'first_touch' },
    ]);
    // The default program: $50 when qualified, $500 when the customer's referral closes won, both under the approval threshold.
    expect(await rewards(referralId)).toEqual([
      { milestone: 'qualified', kind: 'milestone', amountCents: 5_000, netCents: 5_000, status: 'approved' },
      { milestone: 'closed_won', kind: 'milestone', amountCents: 50_000, netCents: 50_000, status: 'approved' },
    ]);
    expect((await world.store.rewards.forReferral(referralId)).find((r) => r.milestone === 'closed_won')).toMatchObject({
      dealId,
      dueDate: '2026-06-29',
      currency: 'USD',
    });
    expect(world.crm.written(dealId)?.deal).toEqual({
      referralId,
      referrerName: 'Carla Customer',
      attributedAmountCents: 2_500_000,
      currency: 'USD',
    });
    expect(world.crm.written(contactId)?.referral).toMatchObject({ referralId, status: 'closed_won' });
    expect(await outboxTopics()).toContain('referral.won');
  });

  it("a partner's deal earns 10% of its first-year value, held for approval above $1,000", async () => {
    const { referralId, dealId } = await referredDeal({ referrer: PARTNER, amountCents: 2_500_000 });
    await win(dealId);
    expect(await rewards(referralId)).toEqual([
      { milestone: 'closed_won', kind: 'commission', amountCents: 250_000, netCents: 250_000, status: 'pending' },
    ]);
  });

  it('an older read of a deal arriving after a newer one is ignored', async () => {
    const { referralId, dealId } = await referredDeal();
    const client = await world.ctx.crm.client(world.installation);
    // One sync run reads the open deal; before it applies what it read, the deal is won and applied.
    const early = await client.getDeals([dealId]);
    await win(dealId);
    const before = await world.footprint();
    const rewardsBefore = await rewards(referralId);

    const lateRead: UseCaseContext = {
      ...world.ctx,
      crm: { connector: world.ctx.crm.connector, client: async (): Promise<CrmClient> => ({ ...client, getDeals: async () => early }) },
    };
    expect(await applyCrmChanges(lateRead, world.installation, [{ objectType: 'deal', id: dealId }])).toEqual({ failed: [], coded: [] });

    expect((await referral(referralId)).status).toBe('closed_won');
    expect(await rewards(referralId)).toEqual(rewardsBefore);
    expect(await world.store.deals.get(world.installation.id, dealId)).toMatchObject({ isWon: true, stageId: 'won' });
    expect(await world.footprint()).toEqual(before);
  });

  it('a deal read again without a change in its facts changes nothing and writes nothing', async () => {
    const { dealId } = await referredDeal();
    await win(dealId);
    const before = await world.footprint();
    const callsBefore = world.crm.calls.length;

    await world.apply([{ objectType: 'deal', id: dealId }]);
    // A rename moves the deal's modification time but none of the facts attribution reads.
    world.advance(MINUTE);
    world.crm.updateDeal(dealId, { name: 'Acme platform, renamed' });
    await world.sync();

    expect(await world.footprint()).toEqual(before);
    expect(world.crm.calls.slice(callsBefore)).not.toContain('write');
  });

  it('a won deal deleted in the CRM reverses its attribution and claws back its reward', async () => {
    const { referralId, dealId } = await referredDeal();
    await win(dealId);
    world.advance(MINUTE);
    world.crm.deleteRecord('deal', dealId);
    await world.sync();

    expect((await referral(referralId)).status).toBe('accepted');
    expect((await world.store.referrals.timeline(referralId)).at(-1)).toMatchObject({
      fromStatus: 'closed_won',
      toStatus: 'accepted',
      reasons: [`deal ${dealId} was deleted in the CRM`],
    });
    expect(await world.store.referrals.attributionsForReferral(referralId)).toMatchObject([
      { status: 'reversed', reversalReason: 'the won deal was deleted in the CRM' },
    ]);
    expect(await rewards(referralId)).toEqual([
      { milestone: 'qualified', kind: 'milestone', amountCents: 5_000, netCents: 5_000, status: 'approved' },
      { milestone: 'closed_won', kind: 'milestone', amountCents: 50_000, netCents: 0, status: 'reversed' },
    ]);
    expect((await world.store.deals.get(world.installation.id, dealId))?.deleted).toBe(true);

    const before = await world.footprint();
    await world.apply([{ objectType: 'deal', id: dealId }]);
    expect(await world.footprint()).toEqual(before);
  });

  it('a won deal reopened claws back the win; won again, it earns a new reward', async () => {
    const { referralId, dealId } = await referredDeal();
    await win(dealId);
    world.advance(MINUTE);
    world.crm.moveStage(dealId, 'proposal');
    await world.sync();

    expect((await referral(referralId)).status).toBe('in_sales_process');
    expect(await world.store.referrals.attributionsForReferral(referralId)).toMatchObject([
      { status: 'reversed', reversalReason: 'the won deal was reopened' },
    ]);
    const wonReward = (await world.store.rewards.forReferral(referralId)).find((r) => r.milestone === 'closed_won')!;
    expect(wonReward).toMatchObject({ status: 'reversed', netCents: 0 });
    expect((await world.store.rewards.ledger(wonReward.id)).map((e) => [e.kind, e.amountCents])).toEqual([
      ['accrued', 50_000],
      ['clawback', -50_000],
    ]);
    expect((await outboxTopics()).filter((t) => t === 'referral.in_sales_process')).toHaveLength(2); // on the way up, and back from won

    await win(dealId);
    expect((await referral(referralId)).status).toBe('closed_won');
    expect((await rewards(referralId)).filter((r) => r.milestone === 'closed_won')).toEqual([
      { milestone: 'closed_won', kind: 'milestone', amountCents: 50_000, netCents: 0, status: 'reversed' },
      { milestone: 'closed_won', kind: 'milestone', amountCents: 50_000, netCents: 50_000, status: 'approved' },
    ]);
  });

  it('a converted lead carries its referral to the new contact, company and deal', async () => {
    const lead = world.crm.createPerson({ objectType: 'lead', email: 'lee@globex.example', firstName: 'Lee', lastName: 'Chen' });
    const pushed = await world.refer({ email: 'lee@globex.example', firstName: 'Lee', lastName: 'Chen' });
    expect(pushed).toMatchObject({ crmPersonType: 'lead', crmPersonId: lead.id });
    world.advance(MINUTE);
    const converted = world.crm.convertLead(lead.id, { deal: { amountCents: 4_000_000, closeDate: '2026-03-31' } });
    world.crm.takeEvents();

    // Only the lead's own change is known: the conversion points at everything else.
    await world.apply([{ objectType: 'lead', id: lead.id }]);

    const links = (await world.store.referrals.links(pushed.id)).map((l) => `${l.objectType}:${l.objectId}`);
    expect(links).toEqual(
      expect.arrayContaining([
        `lead:${lead.id}`,
        `contact:${converted.contactId}`,
        `company:${converted.companyId}`,
        `deal:${converted.dealId}`,
      ]),
    );
    expect((await referral(pushed.id)).status).toBe('contacted');

    await win(converted.dealId!);
    expect((await referral(pushed.id)).status).toBe('closed_won');
    expect(await world.store.referrals.attributionsForReferral(pushed.id)).toMatchObject([
      { dealId: converted.dealId, role: 'sourced', status: 'active' },
    ]);
  });

  it("a converted lead's deal found with no event about the lead is linked through its contact's email", async () => {
    const lead = world.crm.createPerson({ objectType: 'lead', email: 'sam@initech.example', firstName: 'Sam', lastName: 'Ito' });
    const pushed = await world.refer({ email: 'sam@initech.example', firstName: 'Sam', lastName: 'Ito' });
    world.advance(MINUTE);
    const converted = world.crm.convertLead(lead.id, { deal: { amountCents: 1_000_000, closeDate: '2026-03-31' } });
    world.crm.takeEvents();

    // Salesforce sends no Outbound Message for a conversion: only the won deal is heard of.
    world.advance(MINUTE);
    world.crm.moveStage(converted.dealId!, 'won');
    world.crm.takeEvents();
    await world.apply([{ objectType: 'deal', id: converted.dealId! }]);

    expect((await world.store.referrals.links(pushed.id)).map((l) => `${l.objectType}:${l.objectId}`)).toContain(
      `contact:${converted.contactId}`,
    );
    expect((await referral(pushed.id)).status).toBe('closed_won');
    expect((await rewards(pushed.id)).map((r) => r.milestone)).toEqual(['qualified', 'closed_won']);
  });

  it("a company's eligibility to refer is decided, written back, and its owner told when it becomes eligible", async () => {
    world.crm.addOwner({ id: 'owner-7', email: 'cs@vendor.example', name: 'Casey Success' });
    const company = world.crm.createCompany({
      name: 'Hooli',
      domain: 'hooli.example',
      isCustomer: true,
      customerSince: '2025-01-15',
      lifecycleStage: 'customer',
      nps: 10,
      ownerId: 'owner-7',
    });
    await world.sync();
    // Eligible from the first decision: not "newly" eligible, so no one is asked yet.
    expect(world.crm.written(company.id)?.company).toMatchObject({ eligible: true });
    expect(await outboxTopics()).not.toContain('account.eligible');

    world.advance(MINUTE);
    world.crm.updateCompany(company.id, { nps: 6 });
    await world.sync();
    expect(world.crm.written(company.id)?.company).toMatchObject({ eligible: false, eligibilityReason: expect.stringMatching(/NPS/) });

    world.advance(MINUTE);
    world.crm.updateCompany(company.id, { nps: 9 });
    await world.sync();
    expect(world.crm.written(company.id)?.company).toMatchObject({ eligible: true });
    const told = (await world.column("SELECT payload FROM outbox WHERE topic = 'account.eligible'")) as string[];
    expect(told.map((p) => JSON.parse(p))).toMatchObject([{ to: { email: 'cs@vendor.example' } }]);

    const before = await world.footprint();
    await world.apply([{ objectType: 'company', id: company.id }]);
    expect(await world.footprint()).toEqual(before);
  });

  it('a record that fails to apply is reported and the others are still applied', async () => {
    const { referralId, dealId } = await referredDeal();
    const other = await world.refer({ email: 'kim@umbrella.example', firstName: 'Kim', lastName: 'Park' });
    world.advance(MINUTE);
    const otherDeal = world.crm.createDeal({
      amountCents: 1_000_000,
      contactIds: [other.crmPersonId!],
      stageId: 'won',
      closeDate: '2026-03-31',
    });
    world.advance(MINUTE);
    world.crm.moveStage(dealId, 'won');
    world.crm.takeEvents();
    // The first deal's referral is locked to a program version the store lacks: applying that deal throws.
    await world.rows('UPDATE referrals SET program_version = 999 WHERE id = ?', referralId);

    const result = await world.apply([
      { objectType: 'deal', id: dealId },
      { objectType: 'deal', id: otherDeal.id },
    ]);
    expect(result.failed).toEqual([
      { ref: { objectType: 'deal', id: dealId }, error: expect.stringMatching(/program version 999 .* is missing/) },
    ]);
    expect((await referral(other.id)).status).toBe('closed_won');
  });
});

/**
 * The reports use case over the fake CRM and the real store, on a fixed clock: referrals from
 * the store, the CRM's other won deals and customer accounts read through the client and cached
 * for a bounded time, and a stated limitation when the CRM cannot answer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildReport, CRM_BASELINE_TTL_MS, type ReportQuery } from '../../src/use-cases/reports.ts';
import { createWorld, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const MARCH: ReportQuery = { from: '2026-03-01', to: '2026-03-31', granularity: 'week' };

describe('reports', () => {
  let world: World;
  let wonDealId: string;

  beforeEach(async () => {
    // 2026-03-02, a Monday, 09:00.
    world = await createWorld();
    const { crm } = world;
    for (const name of ['Acme', 'Globex', 'Initech', 'Umbrella']) crm.createCompany({ name, isCustomer: true, lifecycleStage: 'customer' });
    crm.createCompany({ name: 'Prospect Ltd', isCustomer: false });

    // A customer's referral whose deal (created on 03-02) closes won on 03-31: 29 days.
    const carla = await world.refer({ email: 'pat@acme-prospect.example', firstName: 'Pat' });
    world.advance(MINUTE);
    wonDealId = crm.createDeal({
      name: 'Acme platform',
      amountCents: 2_500_000,
      contactIds: [carla.crmPersonId!],
      closeDate: '2026-03-31',
    }).id;
    await world.sync();
    world.advance(MINUTE);
    crm.moveStage(wonDealId, 'won');
    await world.sync();
    // Two deals nobody referred, won in 10 and 18 days; one won in April is out of the range.
    crm.createDeal({ name: 'Direct A', stageId: 'won', amountCents: 100_000, closeDate: '2026-03-12' });
    crm.createDeal({ name: 'Direct B', stageId: 'won', amountCents: 100_000, closeDate: '2026-03-20' });
    crm.createDeal({ name: 'Direct C', stageId: 'won', amountCents: 100_000, closeDate: '2026-04-02' });
    crm.takeEvents();

    // A week later, a partner's referral that has no deal yet.
    world.advance(7 * DAY);
    await world.refer({ email: 'lou@globex-prospect.example', firstName: 'Lou' }, PARTNER);
  });
  afterEach(async () => await world.close());

  const report = (query: Partial<ReportQuery> = {}) => buildReport(world.ctx, world.installation, { ...MARCH, ...query });

  it('counts referrals per week and through the funnel, with conversion, revenue and top referrers', async () => {
    const r = await report();
    expect(r.referralsOverTime).toEqual([
      { periodStart: '2026-02-23', referrals: 0 },
      { periodStart: '2026-03-02', referrals: 1 },
      { periodStart: '2026-03-09', referrals: 1 },
      { periodStart: '2026-03-16', referrals: 0 },
      { periodStart: '2026-03-23', referrals: 0 },
      { periodStart: '2026-03-30', referrals: 0 },
    ]);
    expect(r.funnel.map((row) => [row.step, row.count])).toEqual([
      ['submitted', 2],
      ['accepted', 2],
      ['contacted', 1],
      ['qualified', 1],
      ['in_sales_process', 1],
      ['closed_won', 1],
    ]);
    expect(r.conversionRate).toBe(0.5);
    expect(r.revenueAttributed).toEqual([{ currency: 'USD', amountCents: 2_500_000, deals: 1 }]);
    expect(r.topReferrers.map((t) => [t.name, t.type, t.referrals, t.won])).toEqual([
      ['Carla Customer', 'customer', 1, 1],
      ['Pia Partner', 'partner', 1, 0],
    ]);
    expect(r.asks).toEqual({ sent: 0, referralsFromAsks: 0 });
  });

  it('compares the referred deal’s time to close with the CRM’s other won deals, and the referring accounts with its customers', async () => {
    const r = await report();
    expect(r.timeToClose).toEqual({
      referredMedianDays: 29,
      referredDeals: 1,
      otherMedianDays: 14,
      otherDeals: 2,
      asOf: '2026-03-09T09:02:00.000Z',
      limitation: null,
    });
    expect(r.referralRate).toEqual({
      referringAccounts: 1,
      customerAccounts: 4,
      rate: 0.25,
      asOf: '2026-03-09T09:02:00.000Z',
      limitation: null,
    });
  });

  it('filters by referrer type and by pipeline', async () => {
    const partners = await report({ referrerType: 'partner' });
    expect([partners.referrals, partners.won, partners.revenueAttributed, partners.timeToClose.referredDeals]).toEqual([1, 0, [], 0]);
    expect(partners.topReferrers.map((t) => t.name)).toEqual(['Pia Partner']);

    const sales = await report({ pipeline: 'sales' });
    expect([sales.referrals, sales.won, sales.timeToClose.otherDeals]).toEqual([1, 1, 2]);
    const partnerPipeline = await report({ pipeline: 'partners' });
    expect([partnerPipeline.referrals, partnerPipeline.revenueAttributed, partnerPipeline.timeToClose.otherDeals]).toEqual([0, [], 0]);
  });

  it('reports the rewards of the range’s referrals per currency and status, as the ledger nets them', async () => {
    const r = await report();
    const rewards = await world.store.rewards.forInstallation(world.installation.id);
    expect(rewards.length).toBeGreaterThan(0);
    const sum = (statuses: string[]) => rewards.filter((w) => statuses.includes(w.status)).reduce((n, w) => n + w.netCents, 0);
    expect(r.rewards).toEqual([
      { currency: 'USD', pendingCents: sum(['pending']), approvedCents: sum(['approved', 'payable']), paidCents: sum(['paid']) },
    ]);
    expect(r.rewards[0]!.pendingCents + r.rewards[0]!.approvedCents).toBeGreaterThan(0);
    expect((await report({ from: '2026-04-01', to: '2026-04-30' })).rewards).toEqual([]);
  });

  it('reads the CRM once per 15 minutes, and after a failed read says so, with the last answer or none', async () => {
    const crmReads = () => world.crm.calls.filter((c) => c === 'closedWonDeals' || c === 'countCustomerAccounts').length;
    await report();
    await report();
    expect(crmReads()).toBe(2);

    world.advance(CRM_BASELINE_TTL_MS + MINUTE);
    world.crm.failNext('unavailable', 2);
    const stale = await report();
    expect(crmReads()).toBe(4);
    expect(stale.timeToClose.otherMedianDays).toBe(14);
    expect(stale.timeToClose.asOf).toBe('2026-03-09T09:02:00.000Z');
    expect(stale.timeToClose.limitation).toMatch(
      /^the CRM could not be read for its won deals \(unavailable: .*\); showing what it answered at 2026-03-09T09:02:00.000Z$/,
    );
    expect(stale.referralRate.customerAccounts).toBe(4);
    expect(stale.referralRate.limitation).toMatch(/its customer accounts/);

    // Another range was never read: nothing to fall back on.
    world.crm.failNext('unavailable', 1);
    const february = await report({ from: '2026-02-01', to: '2026-02-28' });
    expect(february.timeToClose).toMatchObject({ otherMedianDays: null, otherDeals: null, asOf: null });
    expect(february.timeToClose.limitation).toMatch(/^the CRM could not be read for its won deals/);

    // Once the CRM answers again, the numbers are fresh and the limitation gone.
    const fresh = await report();
    expect(fresh.timeToClose.limitation).toBeNull();
    expect(fresh.timeToClose.asOf).toBe(world.ctx.now().toISOString());
  });
});

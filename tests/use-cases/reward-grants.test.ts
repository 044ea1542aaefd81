import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PayoutProvider } from '../../connectors/payouts/provider.ts';
import type { Grant, RuleGrant } from '../../src/domain/grants.ts';
import { renderEmail } from '../../src/notify/templates.ts';
import type { EmailPayload } from '../../src/notify/topics.ts';
import { createPayoutRun } from '../../src/use-cases/payout-runs.ts';
import { payoutOrderKey, placePayoutOrders, reconcilePayoutEvent, sendPayoutRun } from '../../src/use-cases/send-payouts.ts';
import { acceptingProvider, createWorld, CUSTOMER, type World } from './world.ts';

const MINUTE = 60_000;

/**
 * A customer's referral is won; the program pays $50 cash on qualification (the default) and a
 * closed-won rule whose grant each test picks. From the won deal to the reward, the payout line, the
 * provider's product or the CRM note, and the referrer's notice.
 */
describe('what a rule grants, from won deal to payout', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  async function winWith(grant: RuleGrant | undefined, amountCents: number) {
    const current = (await world.store.programs.currentDefault(world.installation.id))!.program;
    await world.store.programs.addVersion(
      world.program,
      {
        ...current,
        rewardRules: [
          ...current.rewardRules.filter((r) => r.milestone === 'qualified'),
          { id: 'won', kind: 'fixed', referrerTypes: ['customer'], milestone: 'closed_won', amountCents, ...(grant ? { grant } : {}) },
        ],
      },
      'test',
    );
    const referral = await world.refer({ email: 'pat@acme.example', firstName: 'Pat' });
    world.advance(MINUTE);
    const deal = world.crm.createDeal({
      name: 'Acme',
      amountCents: 2_000_000,
      contactIds: [referral.crmPersonId!],
      closeDate: '2026-03-31',
    });
    world.crm.moveStage(deal.id, 'won');
    expect((await world.sync()).failed).toEqual([]);
    const rewards = await world.store.rewards.forReferral(referral.id);
    return {
      referral,
      cash: rewards.find((r) => r.milestone === 'qualified')!,
      won: rewards.find((r) => r.milestone === 'closed_won')!,
    };
  }

  async function sentRun(provider: PayoutProvider) {
    const ctx = { ...world.ctx, payoutProvider: provider };
    const created = await createPayoutRun(ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    if (!created.ok) throw new Error(created.reason);
    expect(await sendPayoutRun(ctx, created.run, 'test')).toMatchObject({ ok: true });
    await placePayoutOrders(ctx, created.run.id);
    return { ctx, run: (await world.store.payouts.get(created.run.id))! };
  }

  /** The reward.paid emails about a reward, as queued. */
  const toldPaid = async (rewardId: string) =>
    (
      await world.rows<{ payload: string }>(
        `SELECT payload FROM outbox WHERE topic = 'reward.paid' AND channel = 'email' AND delivery_key LIKE ?`,
        `%${rewardId}%`,
      )
    ).map((row) => renderEmail(JSON.parse(row.payload) as EmailPayload, undefined).text);

  const grantOfLine = (line: { grantKey: string; grant: Grant | null }) => [line.grantKey, line.grant];

  it.each([
    ['gift card', { kind: 'gift_card' } as const, 'gift_card', 'gift_card', undefined],
    ['donation', { kind: 'donation', charity: 'Red Cross' } as const, 'donation:Red Cross', 'donation', 'Red Cross'],
  ])(
    'a %s: approved, its own line beside the cash one, sent as the provider product of its kind, paid when delivered',
    async (_name, grant, lineKey, product, charity) => {
      const { cash, won } = await winWith(grant, 20_000);
      expect(won).toMatchObject({ status: 'approved', amountCents: 20_000, grant, netCents: 20_000 });
      expect(won.reasons.join(' ')).toMatch(grant.kind === 'gift_card' ? /gift card of \$200\.00/ : /donation of \$200\.00 to Red Cross/);
      expect(cash).toMatchObject({ status: 'approved', grant: null, netCents: 5_000 });

      const { provider, orders } = acceptingProvider();
      const { ctx, run } = await sentRun(provider);
      expect(run.lines.map((l) => [...grantOfLine(l), l.amountCents, l.rewardIds])).toEqual([
        ['cash', null, 5_000, [cash.id]],
        [lineKey, grant, 20_000, [won.id]],
      ]);
      expect(orders.map((o) => [o.product, o.amountCents, o.charity])).toEqual([
        ['cash', 5_000, undefined],
        [product, 20_000, charity],
      ]);
      // Two lines of one payee and currency, two orders: their keys differ by the grant.
      expect(orders.map((o) => o.idempotencyKey)).toEqual(run.lines.map((l) => payoutOrderKey(run.id, l)));
      expect(new Set(orders.map((o) => o.idempotencyKey)).size).toBe(2);

      const giftLine = run.lines[1]!;
      const event = { kind: 'delivered', eventId: 'evt-1', providerRewardId: giftLine.providerRewardId!, occurredAt: '' } as const;
      expect(await reconcilePayoutEvent(ctx, event)).toBe('reconciled');
      expect(await world.store.rewards.get(won.id)).toMatchObject({ status: 'paid', paidCents: 20_000 });
      // The cash line is not delivered yet: its reward is still in the run, unpaid.
      expect(await world.store.rewards.get(cash.id)).toMatchObject({ status: 'approved', paidCents: null });
      const told = await toldPaid(won.id);
      expect(told).toHaveLength(1);
      expect(told[0]).toContain('We paid your reward of $200.00 for referring Pat.');
      expect(told[0]).toContain(grant.kind === 'gift_card' ? 'Given as: Gift card.' : 'Given as: Donation to Red Cross.');
    },
  );

  it("an account credit: written as a note on the referrer's company in the CRM, once, then delivered and paid", async () => {
    const company = world.crm.createCompany({ name: 'Customer Co', domain: 'customer-co.example' });
    world.crm.createPerson({ email: CUSTOMER.email, firstName: 'Carla', companyIds: [company.id] });
    const { won } = await winWith({ kind: 'account_credit' }, 30_000);
    expect(won).toMatchObject({ status: 'approved', grant: { kind: 'account_credit' } });
    expect(won.reasons.join(' ')).toMatch(/account credit of \$300\.00, written on the referrer's company in the CRM/);

    const { provider, orders } = acceptingProvider();
    const { ctx, run } = await sentRun(provider);
    // Only the cash line went to the provider; the credit went to the CRM.
    expect(orders.map((o) => o.product)).toEqual(['cash']);
    const credit = run.lines.find((l) => l.grantKey === 'account_credit')!;
    expect(credit).toMatchObject({ sendStatus: 'delivered', amountCents: 30_000, rewardIds: [won.id] });
    const notes = world.crm.companyNotes(company.id);
    expect(notes).toEqual([
      expect.objectContaining({
        title: 'Referral reward: account credit of $300.00',
        idempotencyKey: payoutOrderKey(run.id, credit),
        body: expect.stringContaining('Carla Customer (carla@customer-co.example) earned an account credit of $300.00'),
      }),
    ]);
    expect(await world.store.rewards.get(won.id)).toMatchObject({ status: 'paid', paidCents: 30_000 });

    // The send job run again after a crash writes no second note and pays nothing twice.
    await world.store.payouts.recordOrder(credit.id, { providerOrderId: 'x', providerRewardId: 'y' });
    await placePayoutOrders(ctx, run.id);
    expect(world.crm.companyNotes(company.id)).toHaveLength(1);
    expect(orders).toHaveLength(1);
  });

  it('an account credit for a referrer the CRM has no company for fails its line, with why; the reward is payable again', async () => {
    const { won } = await winWith({ kind: 'account_credit' }, 30_000);
    const { run } = await sentRun(acceptingProvider().provider);
    const credit = run.lines.find((l) => l.grantKey === 'account_credit')!;
    expect(credit).toMatchObject({
      sendStatus: 'failed',
      failureReason: 'the CRM has no company for carla@customer-co.example (no contact with a company, no company of its domain)',
    });
    expect(await world.store.rewards.get(won.id)).toMatchObject({ status: 'approved', paidCents: null });
    expect(await world.store.payouts.inOpenRuns([won.id])).toEqual([]);
  });

  it('recognition: no approval, paid at once with a zero ledger effect, never in a payout run, and the referrer is told', async () => {
    const grant = { kind: 'recognition', badge: 'Champion', message: 'Thank you for bringing Acme to us!' } as const;
    const { cash, won } = await winWith(grant, 0);
    expect(won).toMatchObject({ status: 'paid', amountCents: 0, netCents: 0, requiresApproval: false, grant });
    expect(won.reasons.join(' ')).toMatch(/given as recognition \(badge "Champion"/);
    expect((await world.store.rewards.ledger(won.id)).map((e) => [e.kind, e.amountCents, e.toStatus])).toEqual([['accrued', 0, 'paid']]);

    const { run } = await sentRun(acceptingProvider().provider);
    expect(run.lines.map((l) => [l.grantKey, l.rewardIds])).toEqual([['cash', [cash.id]]]);

    const told = await toldPaid(won.id);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('Recognition: Champion.');
    expect(told[0]).toContain('Thank you for bringing Acme to us!');
    expect(told[0]).not.toMatch(/\$0\.00|We paid/);

    // The deal reopened: the recognition is withdrawn (reversed), with nothing to claw back.
    const deal = (await world.store.rewards.forReferral(won.referralId)).find((r) => r.id === won.id)!.dealId!;
    world.advance(MINUTE);
    world.crm.moveStage(deal, 'proposal');
    expect((await world.sync()).failed).toEqual([]);
    expect(await world.store.rewards.get(won.id)).toMatchObject({ status: 'reversed', netCents: 0 });
  });

  it('without a grant a rule pays cash as before: one line, no grant', async () => {
    const { won } = await winWith(undefined, 20_000);
    expect(won).toMatchObject({ grant: null, status: 'approved' });
    expect(won.reasons.join(' ')).not.toMatch(/given as/);
    const { run } = await sentRun(acceptingProvider().provider);
    expect(run.lines.map((l) => [l.grantKey, l.grant, l.amountCents])).toEqual([['cash', null, 25_000]]);
  });
});

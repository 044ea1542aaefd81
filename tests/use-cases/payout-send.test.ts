import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPayoutRun, exportPayoutRun, markPayoutRunPaid, referrerBalance } from '../../src/use-cases/payout-runs.ts';
import { placePayoutOrders, reconcilePayoutEvent, sendPayoutRun } from '../../src/use-cases/send-payouts.ts';
import { acceptingProvider, createWorld, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;

describe('sending a payout run with a receivable: the ledger stays right when a line fails', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  async function wonDeal(email: string, amountCents: number) {
    const pushed = await world.refer({ email }, PARTNER);
    world.advance(MINUTE);
    const deal = world.crm.createDeal({ name: email, amountCents, contactIds: [pushed.crmPersonId!], closeDate: '2026-03-31' });
    world.crm.moveStage(deal.id, 'won');
    await world.sync();
    return { dealId: deal.id, reward: (await world.store.rewards.forReferral(pushed.id)).find((r) => r.netCents > 0)! };
  }
  const runOf = async (id: string) => (await world.store.payouts.get(id))!;

  it('a failed line recovers nothing and leaves its rewards payable; the next run sent and delivered settles them', async () => {
    // $500 paid, then clawed back: $500 owed back.
    const first = await wonDeal('pat@acme.example', 500_000);
    const run1 = await createPayoutRun(world.ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    if (!run1.ok) throw new Error(run1.reason);
    await exportPayoutRun(world.ctx, run1.run, 'test');
    await markPayoutRunPaid(world.ctx, await runOf(run1.run.id), 'WIRE-1', 'test');
    world.advance(MINUTE);
    world.crm.moveStage(first.dealId, 'proposal');
    await world.sync();
    const referrerId = first.reward.referrerId;
    const referrer = { id: referrerId, installationId: world.installation.id };
    expect(await referrerBalance(world.ctx, referrer)).toMatchObject([{ receivableCents: 50_000, recoveringCents: 0 }]);

    // $800 won: the run pays $300, recovering $500.
    const second = await wonDeal('sam@globex.example', 800_000);
    const { provider, orders } = acceptingProvider();
    const jobs: { kind: string; key?: string }[] = [];
    const scheduler = {
      ...world.ctx.scheduler,
      schedule: async (kind: string, _id: string, options?: { key?: string }) =>
        void jobs.push({ kind, ...(options?.key ? { key: options.key } : {}) }),
    };
    const ctx = { ...world.ctx, scheduler, payoutProvider: provider };
    const run2 = await createPayoutRun(ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    if (!run2.ok) throw new Error(run2.reason);
    expect(await sendPayoutRun(ctx, run2.run, 'test')).toMatchObject({ ok: true, run: { status: 'sent' } });
    expect(jobs).toEqual([{ kind: 'send-payouts', key: run2.run.id }]);
    // Until its orders are placed, the sweeper gives the run its job again should the job be lost.
    expect(await world.store.payouts.runsAwaitingOrders()).toEqual([{ id: run2.run.id, installationId: world.installation.id }]);
    await placePayoutOrders(ctx, run2.run.id);
    await placePayoutOrders(ctx, run2.run.id);
    expect(await world.store.payouts.runsAwaitingOrders()).toEqual([]);
    expect(orders.map((o) => o.amountCents)).toEqual([30_000]);
    const line2 = (await runOf(run2.run.id)).lines[0]!;
    expect(line2).toMatchObject({ sendStatus: 'sent', recoveredCents: 50_000 });
    expect(await referrerBalance(world.ctx, referrer)).toMatchObject([
      { owedCents: 80_000, receivableCents: 50_000, recoveringCents: 50_000 },
    ]);

    const failed = {
      kind: 'failed',
      eventId: 'evt-1',
      providerRewardId: line2.providerRewardId!,
      occurredAt: '',
      reason: 'invalid_email',
      retryable: false,
    } as const;
    expect(await reconcilePayoutEvent(ctx, failed)).toBe('reconciled');
    expect(await reconcilePayoutEvent(ctx, failed)).toBe('duplicate');
    // A contradicting event after the line settled changes nothing.
    expect(
      await reconcilePayoutEvent(ctx, { kind: 'delivered', eventId: 'evt-2', providerRewardId: line2.providerRewardId!, occurredAt: '' }),
    ).toBe('ignored');
    expect((await runOf(run2.run.id)).lines[0]).toMatchObject({
      sendStatus: 'failed',
      failureReason: 'failed at the payout provider: invalid_email',
    });
    expect(await world.store.rewards.get(second.reward.id)).toMatchObject({ status: 'approved', paidCents: null });
    // Nothing was recovered: still $500 owed back, none of it being recovered, $800 owed.
    expect(await referrerBalance(world.ctx, referrer)).toEqual([
      { currency: 'USD', owedCents: 80_000, paidOutCents: 50_000, receivableCents: 50_000, recoveringCents: 0 },
    ]);

    // The next run gathers the reward again, recovers again, and is delivered.
    const run3 = await createPayoutRun(ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-12-31',
      actor: 'test',
    });
    if (!run3.ok) throw new Error(run3.reason);
    expect(run3.run.lines.map((l) => [l.grossCents, l.recoveredCents, l.amountCents])).toEqual([[80_000, 50_000, 30_000]]);
    await sendPayoutRun(ctx, run3.run, 'test');
    await placePayoutOrders(ctx, run3.run.id);
    const line3 = (await runOf(run3.run.id)).lines[0]!;
    expect(
      await reconcilePayoutEvent(ctx, { kind: 'delivered', eventId: 'evt-3', providerRewardId: line3.providerRewardId!, occurredAt: '' }),
    ).toBe('reconciled');
    expect(await world.store.rewards.get(second.reward.id)).toMatchObject({ status: 'paid', paidCents: 80_000 });
    // $500 + $800 handed over less the $500 recovered; nothing owed either way.
    expect(await referrerBalance(world.ctx, referrer)).toEqual([
      { currency: 'USD', owedCents: 0, paidOutCents: 80_000, receivableCents: 0, recoveringCents: 0 },
    ]);
  });
});

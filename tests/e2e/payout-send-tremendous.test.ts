import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_PRODUCTS, type TremendousSandbox } from '../../connectors/payouts/tremendous/sandbox/index.ts';
import type { RuleGrant } from '../../src/domain/grants.ts';
import { SIGNATURE_HEADER, signTremendousBody } from '../../connectors/payouts/tremendous/verify-webhook.ts';
import { SESSION_COOKIE } from '../../src/http/sessions.ts';
import { payoutOrderKey, placePayoutOrders, sendPayoutRun } from '../../src/use-cases/send-payouts.ts';
import { eventually, installSandbox, startTestService, type TestService } from '../support/service.ts';

/**
 * Payout runs sent through the sandbox Tremendous: orders placed by the send job, delivered or
 * failed by signed webhooks, reconciled into the rewards and the ledger.
 */
interface RunBody {
  id: string;
  status: string;
  lines: { payeeId: string; amountCents: number; rewardIds: string[]; sendStatus: string | null; failureReason: string | null }[];
}
interface BalanceBody {
  balance: { currency: string; owedCents: number; paidOutCents: number; receivableCents: number; recoveringCents: number }[];
}

describe('payout runs sent through Tremendous (sandbox), end to end', () => {
  let svc: TestService;
  let sandbox: TremendousSandbox;
  let installationId: string;

  beforeAll(async () => {
    svc = await startTestService({ PAYOUT_PROVIDER: 'tremendous' });
    sandbox = svc.service.runtime.payouts!.sandbox!;
    installationId = await installSandbox(svc);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const json = async <T>(res: Response, status: number): Promise<T> => {
    const body = await res.text();
    expect(res.status, body).toBe(status);
    return JSON.parse(body) as T;
  };
  const store = () => svc.service.runtime.store;
  /** The rewards the referrer sees in the portal, signed in as them. */
  const portalRewards = async (referrerId: string) => {
    const { token } = await store().sessions.open({
      subjectKind: 'referrer',
      subjectId: referrerId,
      installationId,
      role: 'referrer',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const portal = await fetch(`${svc.url}/api/v1/portal/${installationId}/rewards`, { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    return (await json<{ items: { id: string; status: string; givenAs: string }[] }>(portal, 200)).items;
  };

  /** A referral by a new referrer with one approved $`cents` reward (or one given as `grant`, waiting for approval), accrued as the rules would. */
  async function approvedReward(name: string, cents: number, grant?: RuleGrant): Promise<{ rewardId: string; referrerId: string }> {
    const slug = name.toLowerCase();
    const created = await json<{ id: string }>(
      await svc.api('/referrals', {
        method: 'POST',
        json: {
          referrer: { email: `${slug}@partner.example`, name, type: 'partner' },
          referee: { email: `lee@${slug}-prospect.example`, firstName: 'Lee' },
          submittedBy: { kind: 'rep', id: 'rep-1' },
        },
      }),
      201,
    );
    const referral = (await store().referrals.get(created.id))!;
    const reward = (await store().rewards.accrue(
      {
        installationId,
        referralId: referral.id,
        referrerId: referral.referrerId,
        kind: 'milestone',
        beneficiary: 'referrer',
        milestone: 'closed_won',
        amountCents: cents,
        currency: 'USD',
        status: grant ? 'pending' : 'approved',
        dueDate: '2026-03-01',
        requiresApproval: grant !== undefined,
        grant: grant ?? null,
        programId: referral.programId,
        programVersion: referral.programVersion,
        reasons: ['closed won'],
        idempotencyKey: `e2e-send:${referral.id}`,
        updatedAt: new Date().toISOString(),
      },
      'test',
    ))!;
    return { rewardId: reward.id, referrerId: referral.referrerId };
  }
  const newRun = (rewardIds: string[]) =>
    svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31', rewardIds } }).then((res) => json<RunBody>(res, 201));
  const settled = (runId: string) =>
    eventually(
      async () => {
        const run = await json<RunBody>(await svc.api(`/payouts/${runId}`), 200);
        return run.lines.every((l) => l.sendStatus === 'delivered' || l.sendStatus === 'failed') ? run : undefined;
      },
      30_000,
      `run ${runId} settled`,
    );
  const balance = async (referrerId: string) => (await json<BalanceBody>(await svc.api(`/referrers/${referrerId}`), 200)).balance;

  it('an approved reward is sent, delivered by a signed webhook, paid once, and shown paid in the portal', async () => {
    const { rewardId, referrerId } = await approvedReward('Ann', 25_000);
    const run = await newRun([rewardId]);
    const sent = await json<RunBody>(await svc.api(`/payouts/${run.id}/send`, { method: 'POST' }), 202);
    expect(sent.status).toBe('sent');
    // A sent run is paid by the provider: sending, exporting or marking it paid again is refused.
    expect((await svc.api(`/payouts/${run.id}/send`, { method: 'POST' })).status).toBe(409);
    expect((await svc.api(`/payouts/${run.id}/mark-paid`, { method: 'POST', json: { reference: 'WIRE-1' } })).status).toBe(409);

    const done = await settled(run.id);
    expect(done.lines).toMatchObject([{ sendStatus: 'delivered', failureReason: null, rewardIds: [rewardId] }]);
    expect(await store().rewards.get(rewardId)).toMatchObject({ status: 'paid', paidCents: 25_000 });
    expect(await balance(referrerId)).toEqual([
      { currency: 'USD', owedCents: 0, paidOutCents: 25_000, receivableCents: 0, recoveringCents: 0 },
    ]);
    const order = sandbox.rewardByExternalId(
      payoutOrderKey(run.id, { payeeType: 'referrer', payeeKey: referrerId, currency: 'USD', grantKey: 'cash' }),
    );
    expect(order).toMatchObject({ denomination: 250, deliveryStatus: 'SUCCEEDED' });
    // The referrer is told, through the existing reward.paid notice.
    const notices = svc.sqlite
      .prepare(`SELECT count(*) AS n FROM outbox WHERE topic = 'reward.paid' AND referrer_id = ?`)
      .get(referrerId) as { n: number };
    expect(notices.n).toBeGreaterThan(0);

    const items = await portalRewards(referrerId);
    expect(items).toMatchObject([{ id: rewardId, status: 'paid' }]);
  });

  it('a gift card reward is approved, sent as the gift card product, delivered by webhook, and shown paid as a gift card in the portal', async () => {
    const { rewardId, referrerId } = await approvedReward('Gia', 15_000, { kind: 'gift_card' });
    // Not sendable before an approver approves it.
    expect((await svc.api('/payouts', { method: 'POST', json: { dueOn: '2026-12-31', rewardIds: [rewardId] } })).status).toBe(409);
    const approved = await json<{ status: string; givenAs: string }>(
      await svc.api(`/rewards/${rewardId}/approve`, { method: 'POST', json: {} }),
      200,
    );
    expect(approved).toMatchObject({ status: 'approved', givenAs: 'Gift card' });

    const run = await newRun([rewardId]);
    expect(run.lines).toMatchObject([{ grant: { kind: 'gift_card' }, givenAs: 'Gift card', amountCents: 15_000 }]);
    await json<RunBody>(await svc.api(`/payouts/${run.id}/send`, { method: 'POST' }), 202);
    const done = await settled(run.id);
    expect(done.lines).toMatchObject([{ sendStatus: 'delivered', rewardIds: [rewardId] }]);
    const order = sandbox.rewardByExternalId(
      payoutOrderKey(run.id, { payeeType: 'referrer', payeeKey: referrerId, currency: 'USD', grantKey: 'gift_card' }),
    );
    expect(order).toMatchObject({ denomination: 150, products: [SANDBOX_PRODUCTS.gift_card], deliveryStatus: 'SUCCEEDED' });
    expect(await store().rewards.get(rewardId)).toMatchObject({ status: 'paid', paidCents: 15_000 });

    const items = await portalRewards(referrerId);
    expect(items).toMatchObject([{ id: rewardId, status: 'paid', givenAs: 'Gift card' }]);
  });

  it('a forged webhook is refused and a replayed one changes nothing', async () => {
    const delivered = sandbox.sentWebhooks.find((w) => w.event === 'REWARDS.DELIVERY.SUCCEEDED' && w.status === 200)!;
    const post = (body: string, signature: string) =>
      fetch(`${svc.url}/webhooks/payouts/tremendous`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
        body,
      });
    const forged = await post(delivered.body, signTremendousBody('not-the-secret', delivered.body));
    expect(forged.status).toBe(401);
    const tampered = delivered.body.replace('SUCCEEDED', 'FAILED');
    expect((await post(tampered, signTremendousBody(sandbox.webhookSecret, delivered.body))).status).toBe(401);

    const paidBefore = (await store().rewards.forInstallation(installationId)).filter((r) => r.status === 'paid').length;
    const replayed = await post(delivered.body, signTremendousBody(sandbox.webhookSecret, delivered.body));
    expect(await json(replayed, 200)).toEqual({ outcome: 'duplicate' });
    expect((await store().rewards.forInstallation(installationId)).filter((r) => r.status === 'paid').length).toBe(paidBefore);
  });

  it('with the provider failing calls and the send job run again, each order is placed once and each reward paid once', async () => {
    const payees = [await approvedReward('Bea', 10_000), await approvedReward('Cal', 20_000), await approvedReward('Dee', 30_000)];
    const run = await newRun(payees.map((p) => p.rewardId));
    const callsBefore = sandbox.stats.orderCalls;
    // Two of the five order calls fail: one before placing, one placed with its answer lost.
    sandbox.injectFaults('unavailable', 'lost_answer');
    await json(await svc.api(`/payouts/${run.id}/send`, { method: 'POST' }), 202);

    const done = await settled(run.id);
    expect(done.lines.map((l) => l.sendStatus)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(sandbox.stats.orderCalls - callsBefore).toBe(5);
    // The send job interrupted and run again: every line has its order, nothing is placed twice.
    await placePayoutOrders(svc.service.runtime.ctx, run.id);
    expect(sandbox.stats.orderCalls - callsBefore).toBe(5);
    const keys = payees.map((p) =>
      payoutOrderKey(run.id, { payeeType: 'referrer', payeeKey: p.referrerId, currency: 'USD', grantKey: 'cash' }),
    );
    expect(sandbox.rewards().filter((r) => keys.includes(r.externalId))).toHaveLength(3);

    for (const [i, payee] of payees.entries()) {
      const cents = (i + 1) * 10_000;
      expect(await store().rewards.get(payee.rewardId)).toMatchObject({ status: 'paid', paidCents: cents });
      expect(await balance(payee.referrerId)).toEqual([
        { currency: 'USD', owedCents: 0, paidOutCents: cents, receivableCents: 0, recoveringCents: 0 },
      ]);
    }
  }, 40_000);

  it('an invalid-email refusal leaves the reward payable, with the reason shown to the admin', async () => {
    const { rewardId, referrerId } = await approvedReward('Eve', 15_000);
    const run = await newRun([rewardId]);
    sandbox.injectFaults('invalid_email');
    await json(await svc.api(`/payouts/${run.id}/send`, { method: 'POST' }), 202);

    const done = await settled(run.id);
    expect(done.lines).toHaveLength(1);
    expect(done.lines[0]).toMatchObject({ sendStatus: 'failed', rewardIds: [rewardId] });
    expect(done.lines[0]!.failureReason).toMatch(/^refused by the payout provider: .*Bad request data/);
    expect(await store().rewards.get(rewardId)).toMatchObject({ status: 'approved', paidCents: null });
    // Owed still, nothing paid out or recovered: and a new run may gather it again.
    expect(await balance(referrerId)).toEqual([
      { currency: 'USD', owedCents: 15_000, paidOutCents: 0, receivableCents: 0, recoveringCents: 0 },
    ]);
    // The referrer's portal shows it in no payout run (the failed one paid nothing).
    expect(await store().payouts.runsOfRewards([rewardId])).toEqual([]);
    const again = await newRun([rewardId]);
    expect(again.lines).toMatchObject([{ amountCents: 15_000, rewardIds: [rewardId] }]);
  });

  it('without a provider (PAYOUT_PROVIDER=csv) a run cannot be sent', async () => {
    const { rewardId } = await approvedReward('Fay', 5_000);
    const run = (await store().payouts.get((await newRun([rewardId])).id))!;
    const { ctx } = svc.service.runtime;
    const refused = await sendPayoutRun({ ...ctx, payoutProvider: undefined }, run, 'admin');
    expect(refused).toMatchObject({ ok: false, code: 'illegal_state' });
    expect((await store().payouts.get(run.id))!.status).toBe('draft');
  });
});

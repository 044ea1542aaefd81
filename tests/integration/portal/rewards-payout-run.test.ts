/**
 * My rewards: each reward says which payout run it went into (id, status, reference, paid date),
 * through the portal API of a signed-in referrer, as the admin's payout runs move it along.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/http/errors.ts';
import { portalRouter } from '../../../src/http/portal.route.ts';
import { SESSION_COOKIE } from '../../../src/http/sessions.ts';
import { createPayoutRun, exportPayoutRun, markPayoutRunPaid } from '../../../src/use-cases/payout-runs.ts';
import { createWorld, type World } from '../../use-cases/world.ts';

describe('the payout run of each reward in My rewards', () => {
  let world: World;
  let server: ReturnType<express.Express['listen']>;
  let baseUrl: string;
  beforeEach(async () => {
    world = await createWorld();
    const app = express();
    app.use(portalRouter(world.ctx, 'http://referloop.test', { magicLinkTtlMs: 15 * 60_000, sessionTtlMs: 3_600_000 }));
    app.use(errorHandler(() => undefined));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await world.close();
  });

  async function approvedReward(referral: { id: string; referrerId: string; programId: string; programVersion: number }, cents: number) {
    return (await world.store.rewards.accrue(
      {
        installationId: world.installation.id,
        referralId: referral.id,
        referrerId: referral.referrerId,
        kind: 'milestone',
        beneficiary: 'referrer',
        milestone: 'closed_won',
        amountCents: cents,
        currency: 'EUR',
        status: 'approved',
        dueDate: '2026-03-01',
        requiresApproval: false,
        programId: referral.programId,
        programVersion: referral.programVersion,
        reasons: ['closed won'],
        idempotencyKey: `test-reward:${referral.id}`,
        updatedAt: world.ctx.now().toISOString(),
      },
      'test',
    ))!;
  }

  it('shows no run, then the draft run, then the paid run with its reference and date', async () => {
    const inRun = await world.refer({ email: 'pat@acme.example', firstName: 'Pat' });
    const later = await world.refer({ email: 'sam@globex.example', firstName: 'Sam' });
    const paidOne = await approvedReward(inRun, 25_000);
    const { token } = await world.store.sessions.open({
      subjectKind: 'referrer',
      subjectId: inRun.referrerId,
      installationId: world.installation.id,
      role: 'referrer',
      expiresAt: new Date(world.ctx.now().getTime() + 3_600_000).toISOString(),
    });
    const rewards = async () => {
      const res = await fetch(`${baseUrl}/api/v1/portal/${world.installation.id}/rewards`, {
        headers: { cookie: `${SESSION_COOKIE}=${token}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { id: string; payoutRun: unknown }[] };
      return Object.fromEntries(body.items.map((r) => [r.id, r.payoutRun]));
    };

    expect(await rewards()).toEqual({ [paidOne.id]: null });

    const created = await createPayoutRun(world.ctx, {
      installation: world.installation,
      program: world.program,
      dueOn: '2026-03-01',
      actor: 'admin',
    });
    if (!created.ok) throw new Error(created.reason);
    // A reward earned after the run was gathered is in no run.
    const notYet = await approvedReward(later, 10_000);
    expect(await rewards()).toEqual({
      [paidOne.id]: { id: created.run.id, status: 'draft', reference: null, paidAt: null },
      [notYet.id]: null,
    });

    const exported = await exportPayoutRun(world.ctx, created.run, 'admin');
    if (!exported.ok) throw new Error(exported.reason);
    world.advance(60_000);
    const paid = await markPayoutRunPaid(world.ctx, exported.run, 'SEPA-2026-03-02', 'admin');
    if (!paid.ok) throw new Error(paid.reason);
    expect(await rewards()).toEqual({
      [paidOne.id]: { id: created.run.id, status: 'paid', reference: 'SEPA-2026-03-02', paidAt: world.ctx.now().toISOString() },
      [notYet.id]: null,
    });
  });
});

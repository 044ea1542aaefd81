import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderEmail } from '../../src/notify/templates.ts';
import type { EmailPayload } from '../../src/notify/topics.ts';
import { sendFinanceDigests } from '../../src/use-cases/finance-digest.ts';
import { reconcileInstallation } from '../../src/use-cases/reconcile-installation.ts';
import { createWorld, PARTNER, type World } from './world.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe('the daily finance digest', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  const setFinanceEmail = async (financeEmail: string | undefined) => {
    const current = (await world.store.programs.currentDefault(world.installation.id))!.program;
    await world.store.programs.addVersion(
      (await world.store.programs.defaultProgram(world.installation.id))!,
      { ...current, financeEmail },
      'test',
    );
  };
  const digests = async () =>
    ((await world.column("SELECT payload FROM outbox WHERE topic = 'finance.rewards_digest' ORDER BY id")) as string[]).map(
      (p) => JSON.parse(p) as EmailPayload,
    );

  /** Two partner deals won: 10% of $20,000 waits for approval, 10% of $5,000 is approved at once (due 2026-06-29). */
  async function twoWonDeals(): Promise<void> {
    for (const [email, amountCents] of [
      ['pat@acme.example', 2_000_000],
      ['sam@globex.example', 500_000],
    ] as const) {
      const pushed = await world.refer({ email }, PARTNER);
      world.advance(MINUTE);
      const deal = world.crm.createDeal({ name: email, amountCents, contactIds: [pushed.crmPersonId!], closeDate: '2026-03-31' });
      await world.sync();
      world.advance(MINUTE);
      world.crm.moveStage(deal.id, 'won');
      expect((await world.sync()).failed).toEqual([]);
    }
  }

  it('tells finance once a day what waits for approval and what is overdue, through the reconcile job', async () => {
    await setFinanceEmail('finance@example.com');
    await twoWonDeals();

    await reconcileInstallation(world.ctx, world.installation.id);
    expect(await sendFinanceDigests(world.ctx, world.installation.id)).toBe(1); // same day: the outbox key holds it back
    const [first, ...rest] = await digests();
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      to: { email: 'finance@example.com' },
      audience: 'internal',
      data: { finance: { date: '2026-03-02', awaitingApproval: [{ amount: 2000, currency: 'USD', status: 'pending' }], overdue: [] } },
    });
    expect(renderEmail(first!, undefined).subject).toBe('Referral program rewards on 2026-03-02: 1 awaiting approval, 0 overdue');

    // Past the $500 reward's due date, it is overdue; a new day, a new digest.
    world.advance(130 * DAY);
    await reconcileInstallation(world.ctx, world.installation.id);
    const latest = (await digests()).at(-1)!;
    expect(await digests()).toHaveLength(2);
    expect(latest.data.finance).toMatchObject({
      date: '2026-07-10',
      awaitingApproval: [{ amount: 2000 }],
      overdue: [{ amount: 500, status: 'payable', dueDate: '2026-06-29' }],
    });
    expect(renderEmail(latest, undefined).text).toContain('Overdue, past their due date and unpaid (1):');
  });

  it('sends nothing without a finance address, or when nothing waits', async () => {
    await twoWonDeals();
    expect(await sendFinanceDigests(world.ctx, world.installation.id)).toBe(0);
    await setFinanceEmail('finance@example.com');
    await world.rows("UPDATE rewards SET status = 'paid'");
    expect(await sendFinanceDigests(world.ctx, world.installation.id)).toBe(0);
    expect(await digests()).toEqual([]);
  });
});

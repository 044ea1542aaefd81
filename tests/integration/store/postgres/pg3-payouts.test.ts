import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../../../src/store/contract.ts';
import { RewardsInOpenRunError } from '../../../../src/store/payouts.repo.ts';
import { closePgSide, type Harness, harness, openPgSide, type PgSide, referrerWithReferrals, unordered } from './pg3-harness.ts';

const ids = vi.hoisted(() => ({ n: 0, tag: '' }));
// Deterministic ids (see pg3-harness.ts): `${prefix}_${tag}${n}`, n rewound by both().
vi.mock('../../../../src/store/referrals.repo.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../../src/store/referrals.repo.ts')>()),
  newId: (prefix: string) => `${prefix}_${ids.tag}${String(++ids.n).padStart(6, '0')}`,
}));

type RunInput = Parameters<Store['payouts']['create']>[0];
type LineInput = RunInput['lines'][number];

let pg: PgSide;
beforeAll(async () => {
  pg = await openPgSide();
});
afterAll(async () => {
  await closePgSide(pg);
});

const line = (payeeKey: string, currency: string, items: LineInput['items'], over: Partial<LineInput> = {}): LineInput => {
  const gross = items.reduce((sum, i) => sum + i.amountCents, 0);
  return {
    payeeType: 'referrer',
    payeeKey,
    payeeName: `Payee ${payeeKey}`,
    payeeEmail: `${payeeKey}@example.test`,
    currency,
    grossCents: gross,
    recoveredCents: 0,
    amountCents: gross,
    items,
    ...over,
  };
};

/** An installation (and another) with six approved rewards `rwd_<tag>00000{1..6}` on both stores. */
async function world(): Promise<{ h: Harness; inst: string; other: string; r: (n: number) => string }> {
  const h = harness(pg, ids);
  const t = h.tag;
  const inst = `${t}inst`;
  const other = `${t}other`;
  await h.installation(inst);
  await h.installation(other);
  await referrerWithReferrals(h, inst, `${t}ref`, [{ id: `${t}r1` }]);
  await h.same(async (s) => {
    for (let i = 1; i <= 6; i++) {
      await s.rewards.accrue(
        {
          installationId: inst,
          referralId: `${t}r1`,
          referrerId: `${t}ref`,
          kind: 'commission',
          beneficiary: 'referrer',
          milestone: 'closed_won',
          amountCents: i * 1000,
          currency: 'EUR',
          status: 'approved',
          dueDate: '2026-04-01',
          requiresApproval: false,
          programId: `prg_${inst}`,
          programVersion: 1,
          reasons: [],
          idempotencyKey: `k${i}`,
          updatedAt: '2026-03-01T00:00:00.000Z',
        },
        'system',
      );
    }
  });
  return { h, inst, other, r: (n) => `rwd_${t}00000${n}` };
}

const at = (iso: string) => new Date(iso);

describe('payouts on SQLite and PostgreSQL', () => {
  it('creates a draft run with its lines in payee order and its items, and reads it back', async () => {
    const { h, inst, r } = await world();
    const run = await h.same((s) =>
      s.transaction(() =>
        s.payouts.create({
          installationId: inst,
          programId: `prg_${inst}`,
          dueOn: '2026-04-01',
          lines: [
            line('zed', 'EUR', [{ rewardId: r(2), amountCents: 2000 }]),
            line('amy', 'USD', [{ rewardId: r(3), amountCents: 3000 }]),
            line('amy', 'EUR', [
              { rewardId: r(4), amountCents: 4000 },
              { rewardId: r(1), amountCents: 1000 },
            ]),
            line('bob', 'EUR', [], { payeeType: 'referee', recoveredCents: 500, amountCents: 0 }),
          ],
        }),
      ),
    );
    expect(run).toMatchObject({
      id: expect.stringMatching(/^pay_/),
      installationId: inst,
      status: 'draft',
      dueOn: '2026-04-01',
      reference: null,
      sentAt: null,
    });
    expect(run.lines.map((l) => [l.payeeType, l.payeeKey, l.currency, l.rewardIds, l.grossCents, l.recoveredCents, l.sendStatus])).toEqual([
      ['referee', 'bob', 'EUR', [], 0, 500, null],
      ['referrer', 'amy', 'EUR', [r(1), r(4)], 5000, 0, null],
      ['referrer', 'amy', 'USD', [r(3)], 3000, 0, null],
      ['referrer', 'zed', 'EUR', [r(2)], 2000, 0, null],
    ]);
    expect(await h.same((s) => s.payouts.get(run.id))).toEqual(run);
    const items = await h.same((s) => s.payouts.items(run.id));
    expect(items.map((i) => [i.rewardId, i.amountCents, i.openRewardId])).toEqual([
      [r(1), 1000, r(1)],
      [r(2), 2000, r(2)],
      [r(3), 3000, r(3)],
      [r(4), 4000, r(4)],
    ]);
    expect(await h.same((s) => s.payouts.get('pay_missing'))).toBeUndefined();
    expect(await h.same((s) => s.payouts.items('pay_missing'))).toEqual([]);
  });

  it('refuses a run with a reward already in an open run, naming it, and writes nothing of it', async () => {
    const { h, inst, r } = await world();
    await h.same((s) =>
      s.transaction(() =>
        s.payouts.create({
          installationId: inst,
          programId: `prg_${inst}`,
          dueOn: '2026-04-01',
          lines: [line('amy', 'EUR', [{ rewardId: r(1), amountCents: 1000 }])],
        }),
      ),
    );
    const refused = await h.same(async (s) => {
      try {
        await s.transaction(() =>
          s.payouts.create({
            installationId: inst,
            programId: `prg_${inst}`,
            dueOn: '2026-04-02',
            lines: [
              line('amy', 'EUR', [
                { rewardId: r(1), amountCents: 1000 },
                { rewardId: r(2), amountCents: 2000 },
              ]),
            ],
          }),
        );
        return 'created';
      } catch (err) {
        return err instanceof RewardsInOpenRunError ? err.rewardIds : String(err);
      }
    });
    expect(refused).toEqual([r(1)]);
    const runs = await h.same((s) => s.payouts.list({ installationIds: [inst], limit: 10 }));
    expect(runs.items.map((run) => run.dueOn)).toEqual(['2026-04-01']);
    expect(await h.same((s) => s.payouts.inOpenRuns([r(1), r(2)]))).toEqual([{ rewardId: r(1), runId: runs.items[0]!.id }]);
    expect(await h.same((s) => s.payouts.inOpenRuns([]))).toEqual([]);
  });

  it('pages runs newest first with a cursor of instant and id, filtered by installations and status', async () => {
    const { h, inst, other } = await world();
    const created = await h.same(async (s) => {
      const made: string[] = [];
      for (const [installationId, dueOn] of [
        [inst, '2026-04-01'],
        [other, '2026-04-02'],
        [inst, '2026-04-03'],
        [inst, '2026-04-04'],
        [other, '2026-04-05'],
      ] as const) {
        made.push(
          (await s.transaction(() => s.payouts.create({ installationId, programId: `prg_${installationId}`, dueOn, lines: [] }))).id,
        );
      }
      await s.payouts.markExported(made[2]!, at('2026-04-10T00:00:00Z'));
      return made;
    });
    const pages = await h.same(async (s) => {
      const out: { ids: string[]; more: boolean }[] = [];
      let cursor: string | undefined;
      do {
        const page = await s.payouts.list({ installationIds: [inst, other], cursor, limit: 2 });
        const last = page.items.at(-1);
        if (page.nextCursor) expect(page.nextCursor).toBe(`${last?.createdAt}|${last?.id}`);
        out.push({ ids: page.items.map((run) => run.id), more: page.nextCursor !== null });
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    });
    const newestFirst = [...created].reverse();
    expect(pages).toEqual([
      { ids: newestFirst.slice(0, 2), more: true },
      { ids: newestFirst.slice(2, 4), more: true },
      { ids: newestFirst.slice(4), more: false },
    ]);
    const exported = await h.same((s) => s.payouts.list({ installationIds: [inst], status: 'exported', limit: 10 }));
    expect(exported.items.map((run) => [run.id, run.status, run.exportedAt])).toEqual([
      [created[2], 'exported', '2026-04-10T00:00:00.000Z'],
    ]);
    expect(await h.same((s) => s.payouts.list({ installationIds: [inst], status: 'paid', limit: 10 }))).toEqual({
      items: [],
      nextCursor: null,
    });
    // A malformed cursor is no cursor, on both.
    expect((await h.same((s) => s.payouts.list({ installationIds: [inst], cursor: 'junk', limit: 10 }))).items).toHaveLength(3);
  });

  it('sends lines, records orders, delivers and fails them, and frees the failed ones for the next run', async () => {
    const { h, inst, r } = await world();
    const now = at('2026-04-02T08:00:00Z');
    const outcome = await h.same(async (s) => {
      const run = await s.transaction(() =>
        s.payouts.create({
          installationId: inst,
          programId: `prg_${inst}`,
          dueOn: '2026-04-01',
          lines: [
            line('amy', 'EUR', [{ rewardId: r(1), amountCents: 1000 }]),
            line('bob', 'EUR', [{ rewardId: r(2), amountCents: 2000 }]),
            line('cat', 'EUR', [{ rewardId: r(3), amountCents: 3000 }]),
          ],
        }),
      );
      const [amy, bob, cat] = run.lines;
      const beforeSend = await s.payouts.runsAwaitingOrders();
      await s.payouts.markSent(run.id, now);
      const awaiting = unordered(await s.payouts.runsAwaitingOrders());
      await s.payouts.recordOrder(amy!.id, { providerOrderId: 'ord-1', providerRewardId: 'prw-1' });
      await s.payouts.recordOrder(bob!.id, { providerOrderId: 'ord-1', providerRewardId: 'prw-2' });
      const stillAwaiting = await s.payouts.runsAwaitingOrders();
      await s.payouts.recordOrder(cat!.id, { providerOrderId: 'ord-1', providerRewardId: 'prw-3' });
      const noneAwaiting = await s.payouts.runsAwaitingOrders();
      const found = await s.payouts.lineByProviderReward('prw-2');
      const missing = await s.payouts.lineByProviderReward('prw-missing');
      await s.payouts.markLineDelivered(amy!.id);
      await s.payouts.markLineFailed(bob!.id, 'invalid email');
      const lines = unordered(await s.payouts.lines(inst));
      const open = unordered(await s.payouts.inOpenRuns([r(1), r(2), r(3)]));
      const runsOf = unordered(await s.payouts.runsOfRewards([r(1), r(2), r(3), r(4)]));
      // The failed line's reward goes into the next run.
      const next = await s.transaction(() =>
        s.payouts.create({
          installationId: inst,
          programId: `prg_${inst}`,
          dueOn: '2026-05-01',
          lines: [line('bob', 'EUR', [{ rewardId: r(2), amountCents: 2000 }])],
        }),
      );
      const runsOfBob = await s.payouts.runsOfRewards([r(2)]);
      return {
        run: run.id,
        next: next.id,
        beforeSend,
        awaiting,
        stillAwaiting,
        noneAwaiting,
        found,
        missing,
        lines,
        open,
        runsOf,
        runsOfBob,
      };
    });
    expect(outcome.beforeSend).toEqual([]);
    expect(outcome.awaiting).toEqual([{ id: outcome.run, installationId: inst }]);
    expect(outcome.stillAwaiting).toEqual([{ id: outcome.run, installationId: inst }]);
    expect(outcome.noneAwaiting).toEqual([]);
    expect(outcome.found).toMatchObject({ payeeKey: 'bob', sendStatus: 'sent', providerOrderId: 'ord-1', providerRewardId: 'prw-2' });
    expect(outcome.missing).toBeUndefined();
    expect(outcome.lines.map((l) => [l.payeeKey, l.sendStatus, l.runStatus, l.failureReason])).toEqual([
      ['amy', 'delivered', 'paid', null],
      ['cat', 'sent', 'sent', null],
    ]);
    expect(outcome.open).toEqual([{ rewardId: r(3), runId: outcome.run }]);
    expect(outcome.runsOf).toEqual(
      unordered([r(1), r(3)].map((rewardId) => ({ rewardId, id: outcome.run, status: 'sent', reference: null, paidAt: null }))),
    );
    expect(outcome.runsOfBob).toEqual([{ rewardId: r(2), id: outcome.next, status: 'draft', reference: null, paidAt: null }]);
    expect(await h.same((s) => s.payouts.runsOfRewards([]))).toEqual([]);
    expect(await h.same((s) => s.payouts.lines(`${h.tag}nobody`))).toEqual([]);
  });

  it('marks a run exported then paid with its reference, freeing its rewards from the open-run key', async () => {
    const { h, inst, r } = await world();
    const paid = await h.same(async (s) => {
      const run = await s.transaction(() =>
        s.payouts.create({
          installationId: inst,
          programId: `prg_${inst}`,
          dueOn: '2026-04-01',
          lines: [line('amy', 'EUR', [{ rewardId: r(5), amountCents: 5000 }])],
        }),
      );
      await s.payouts.markExported(run.id, at('2026-04-02T00:00:00Z'));
      await s.payouts.markPaid(run.id, 'BANK-42', at('2026-04-03T00:00:00Z'));
      return s.payouts.get(run.id);
    });
    expect(paid).toMatchObject({
      status: 'paid',
      reference: 'BANK-42',
      exportedAt: '2026-04-02T00:00:00.000Z',
      paidAt: '2026-04-03T00:00:00.000Z',
    });
    expect(await h.same((s) => s.payouts.inOpenRuns([r(5)]))).toEqual([]);
    expect(await h.same((s) => s.payouts.runsOfRewards([r(5)]))).toEqual([
      { rewardId: r(5), id: paid!.id, status: 'paid', reference: 'BANK-42', paidAt: '2026-04-03T00:00:00.000Z' },
    ]);
    expect(await h.same((s) => s.payouts.items(paid!.id))).toEqual([expect.objectContaining({ rewardId: r(5), openRewardId: null })]);
  });

  it('stores a provider event id once', async () => {
    const { h } = await world();
    const seen = await h.same(async (s) => [
      await s.payouts.firstSeenEvent(`${h.tag}evt-1`),
      await s.payouts.firstSeenEvent(`${h.tag}evt-1`),
      await s.payouts.firstSeenEvent(`${h.tag}evt-2`),
    ]);
    expect(seen).toEqual([true, false, true]);
  });

  it('lets one of two concurrent runs on PostgreSQL take a reward, and refuses the other', async () => {
    const { h, inst, r } = await world();
    const attempt = (dueOn: string) =>
      h.pg
        .transaction(() =>
          h.pg.payouts.create({
            installationId: inst,
            programId: `prg_${inst}`,
            dueOn,
            lines: [line('amy', 'EUR', [{ rewardId: r(6), amountCents: 6000 }])],
          }),
        )
        .then(
          (run) => run.id,
          (err: unknown) => err,
        );
    const results = await Promise.all([attempt('2026-04-01'), attempt('2026-04-02'), attempt('2026-04-03')]);
    const created = results.filter((x): x is string => typeof x === 'string');
    const refused = results.filter((x) => x instanceof RewardsInOpenRunError);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(2);
    expect(await h.pg.payouts.inOpenRuns([r(6)])).toEqual([{ rewardId: r(6), runId: created[0] }]);
    expect((await h.pg.payouts.list({ installationIds: [inst], limit: 10 })).items).toHaveLength(1);
  });

  it('stores a provider event id once when it arrives twice at the same time on PostgreSQL', async () => {
    const { h } = await world();
    const seen = await Promise.all(Array.from({ length: 5 }, () => h.pg.payouts.firstSeenEvent(`${h.tag}evt-race`)));
    expect(seen.filter(Boolean)).toHaveLength(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { submitReferral } from '../../src/use-cases/submit-referral.ts';
import { createWorld, type World } from './world.ts';

/** Sixteen connections (DATABASE_POOL_SIZE): sixteen submissions in a transaction at once, more waiting for a connection. */
const POOL_SIZE = 16;
const SUBMISSIONS = 24;

/**
 * Submissions at once in one young installation, while a notifier claims the outbox they write
 * to. On PostgreSQL a SERIALIZABLE submission's predicate locks covered whole index pages (and,
 * through the duplicate check, every referral of the installation), so with a dozen at once each
 * refused the others' commits past every retry: HTTP 500s. Unrelated ones must not wait on or
 * fail each other; related ones must still take turns.
 */
describe('concurrent submissions', () => {
  let world: World;
  afterEach(() => world?.close());

  /** Runs the submissions at once beside a notifier claiming and settling what they enqueue. */
  async function submitAtOnce(referee: (i: number) => string, referrer: (i: number) => string): Promise<string[]> {
    let claiming = true;
    const notifier = (async () => {
      while (claiming) {
        const at = world.ctx.now().toISOString();
        const claimed = await world.store.outbox.claimNext(at, at);
        if (claimed.length > 0)
          await world.store.outbox.settle(
            claimed.map((m) => m.id),
            { status: 'delivered', lastError: null, deliveredAt: at },
          );
      }
    })();
    const outcomes = await Promise.all(
      Array.from({ length: SUBMISSIONS }, (_, i) =>
        submitReferral(world.ctx, {
          installation: world.installation,
          referrer: { email: referrer(i), name: `Partner ${i}`, type: 'partner' },
          referee: { email: referee(i), company: `Buyer ${i}` },
          submittedBy: { kind: 'integration' },
          source: 'test',
        }).then(
          (result) => result.outcome,
          (err: unknown) => `failed: ${String(err)}`,
        ),
      ),
    );
    claiming = false;
    await notifier;
    return outcomes;
  }

  it('of different referrals by different referrers: every one accepted, once, and told once', async () => {
    world = await createWorld(undefined, { poolSize: POOL_SIZE });
    const outcomes = await submitAtOnce(
      (i) => `buyer@crowd-buyer-${i}.example`,
      (i) => `partner-${i}@crowd.example`,
    );
    expect(outcomes).toEqual(Array(SUBMISSIONS).fill('accepted'));
    expect(await world.column('SELECT count(DISTINCT referee_email_key) FROM referrals')).toEqual([SUBMISSIONS]);
    expect(await world.column('SELECT count(*) FROM referrals')).toEqual([SUBMISSIONS]);
    expect(await world.column('SELECT count(*) FROM referrers')).toEqual([SUBMISSIONS]);
    // One "received" email per referral, under one delivery key each.
    expect(
      await world.column("SELECT count(DISTINCT referral_id) FROM outbox WHERE topic = 'referral.received' AND channel = 'email'"),
    ).toEqual([SUBMISSIONS]);
    expect(await world.column("SELECT count(*) FROM outbox WHERE topic = 'referral.received' AND channel = 'email'")).toEqual([
      SUBMISSIONS,
    ]);
  });

  it('of one referee by one new referrer: one accepted, the rest recorded as duplicates of it, one referrer', async () => {
    world = await createWorld(undefined, { poolSize: POOL_SIZE });
    const outcomes = await submitAtOnce(
      () => 'buyer@one-buyer.example',
      () => 'new-partner@crowd.example',
    );
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'rejected')).toHaveLength(SUBMISSIONS - 1);
    expect(await world.column('SELECT count(*) FROM referrers')).toEqual([1]);
    const [accepted] = await world.column<string>("SELECT id FROM referrals WHERE status = 'accepted'");
    expect(await world.column("SELECT DISTINCT duplicate_of FROM referrals WHERE status = 'rejected'")).toEqual([accepted]);
  });
});

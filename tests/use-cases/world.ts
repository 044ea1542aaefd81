/**
 * A use case's world: the fake CRM (connectors/fake) behind the real CrmAccess, and the real
 * store on SQLite `:memory:` migrated with migrations/, wired as src/main.ts wires them. Time is
 * a clock the test moves; the CRM stamps its records from the same clock.
 */
import type { CrmEvent } from '../../connectors/connector.ts';
import type { PayoutOrder, PayoutProvider } from '../../connectors/payouts/provider.ts';
import { createFakeCrm, type FakeCrm } from '../../connectors/fake/index.ts';
import { createMemoryRateLimiter } from '../../src/jobs/rate-limiter.ts';
import { createLogger } from '../../src/log.ts';
import { enqueueNotifications } from '../../src/notify/enqueue.ts';
import type { JobKind, UseCaseContext } from '../../src/ports/context.ts';
import { createCrmAccess } from '../../src/ports/crm-access.ts';
import type { Store } from '../../src/store/contract.ts';
import { openStoreUnderTest } from '../support/store-under-test.ts';
import type { InstallationRow } from '../../src/store/installations.repo.ts';
import type { ProgramRow } from '../../src/store/programs.repo.ts';
import type { ReferralRow } from '../../src/store/referrals.repo.ts';
import { applyCrmChanges, type ApplyResult, type RecordRef } from '../../src/use-cases/apply-crm-changes.ts';
import { connectInstallation } from '../../src/use-cases/install-crm.ts';
import { pushReferrals } from '../../src/use-cases/push-referrals.ts';
import { captureLinkReferrals } from '../../src/use-cases/referral-links.ts';
import { submitReferral } from '../../src/use-cases/submit-referral.ts';

export interface World {
  crm: FakeCrm;
  store: Store;
  /** The store's SQLite connection, for what a test reads or breaks around the repositories. */
  /** Rows of SQL run beneath the store (`?` placeholders, JSON columns as text), for what a test checks there. */
  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** The first column of each row of `rows`. */
  column<T = unknown>(sql: string, ...params: unknown[]): Promise<T[]>;
  ctx: UseCaseContext;
  installation: InstallationRow;
  /** The installation's default program (its only one until a test adds another). */
  program: ProgramRow;
  /** Moves the clock the app and the CRM read. */
  advance(ms: number): void;
  /** Submits an accepted referral, then runs the push it scheduled, as the worker does. */
  refer(
    referee: { email: string; firstName?: string; lastName?: string },
    referrer?: { email: string; name: string; type: 'customer' | 'partner' },
    /** The program it is for; the default program when absent. */
    programId?: string,
  ): Promise<ReferralRow>;
  /** Applies what the CRM's events since the last sync point at (own records and related ones). */
  sync(): Promise<ApplyResult>;
  /** Applies the given records, whatever the CRM sent. */
  apply(refs: RecordRef[]): Promise<ApplyResult>;
  /** Row counts of everything a CRM change can add to the store. */
  footprint(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export const CUSTOMER = { email: 'carla@customer-co.example', name: 'Carla Customer', type: 'customer' } as const;
export const PARTNER = { email: 'pia@partner-firm.example', name: 'Pia Partner', type: 'partner' } as const;

export async function createWorld(start = '2026-03-02T09:00:00.000Z', options: { poolSize?: number } = {}): Promise<World> {
  let clock = Date.parse(start);
  const now = () => new Date(clock);
  const crm = createFakeCrm({ now });
  const { store, rows } = await openStoreUnderTest(options);
  /** Jobs the use cases scheduled and the world has not run yet. */
  const scheduled: { kind: JobKind; installationId: string }[] = [];
  const ctx: UseCaseContext = {
    store,
    crm: createCrmAccess([crm.connector], store, createMemoryRateLimiter()),
    scheduler: {
      async schedule(kind, installationId) {
        scheduled.push({ kind, installationId });
      },
      available: () => true,
    },
    notify: async (intent, at) => {
      await enqueueNotifications(store.outbox, intent, at);
    },
    now,
    log: createLogger({ level: 'silent' }),
  };
  const { installation } = await connectInstallation(ctx, 'fake', { accountId: crm.accountId, tokens: crm.issueTokens() }, 'test');
  crm.takeEvents();

  // As the sync worker does: apply, then capture the referral links forms carried.
  const apply = async (refs: RecordRef[]) => {
    const result = await applyCrmChanges(ctx, installation, refs);
    await captureLinkReferrals(ctx, installation, result.coded);
    return result;
  };
  const refsOf = (events: CrmEvent[]): RecordRef[] =>
    events.flatMap((e) => [
      { objectType: e.objectType, id: e.objectId },
      ...(e.related ?? []).map((r) => ({ objectType: r.objectType, id: r.objectId })),
    ]);

  return {
    crm,
    store,
    rows,
    column: async (sql, ...params) => (await rows(sql, ...params)).map((row) => Object.values(row)[0] as never),
    ctx,
    installation,
    program: (await store.programs.defaultProgram(installation.id))!,
    advance(ms) {
      clock += ms;
    },
    async refer(referee, referrer = CUSTOMER, programId) {
      const result = await submitReferral(ctx, {
        installation,
        referrer,
        referee,
        programId,
        submittedBy: { kind: 'rep', id: 'rep-1' },
        source: 'test',
      });
      if (result.outcome !== 'accepted')
        throw new Error(
          `referral of ${referee.email} was ${result.outcome}: ${JSON.stringify('verdict' in result ? result.verdict : result.reason)}`,
        );
      const jobs = scheduled.splice(0);
      if (!jobs.some((job) => job.kind === 'push-referrals'))
        throw new Error(`submitting a referral scheduled ${JSON.stringify(jobs)}, not its push`);
      await pushReferrals(ctx, installation.id);
      crm.takeEvents();
      return (await store.referrals.get(result.referral.id))!;
    },
    sync: () => apply(refsOf(crm.takeEvents())),
    apply,
    async footprint() {
      const tables = ['referral_events', 'crm_links', 'attributions', 'decisions', 'rewards', 'reward_events', 'outbox', 'audit_log'];
      const counts = await Promise.all(
        tables.map(async (t) => Number((await rows<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))[0]!.n)),
      );
      return Object.fromEntries(tables.map((t, i) => [t, counts[i]!]));
    },
    close: async () => await store.close(),
  };
}

/** A provider that accepts every order, pending delivery, and keeps what it was asked for. */
export function acceptingProvider() {
  const orders: PayoutOrder[] = [];
  const provider: PayoutProvider = {
    kind: 'fake',
    async sendOrder(order) {
      orders.push(order);
      return {
        outcome: 'accepted',
        providerOrderId: `ord-${order.idempotencyKey}`,
        providerRewardId: `rw-${order.idempotencyKey}`,
        status: 'pending',
      };
    },
    verifyWebhook: () => {
      throw new Error('not used: events are reconciled directly');
    },
  };
  return { provider, orders };
}

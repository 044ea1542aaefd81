/**
 * The read routes the console's Home and Referrals pages stand on, called with a console session:
 * an installation's health and what needs attention (`GET /installations/:id/health`), and the
 * referral list's search and referrer-type filter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSession, throughCrmOAuth, type ConsoleSession } from '../support/console.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
let installationId: string;
let admin: ConsoleSession;

const json = async <T>(res: Response, status = 200): Promise<T> => {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
};

async function refer(referrer: { email: string; name: string; type: string }, referee: Record<string, string>) {
  const res = await svc.api('/referrals', { method: 'POST', json: { referrer, referee, submittedBy: { kind: 'rep' } } });
  return (await json<{ id: string }>(res, 201)).id;
}

/** A reward in the store as the reward ledger would accrue it. */
async function reward(referralId: string, status: 'pending' | 'approved', amountCents: number, dueDate: string) {
  const referral = (await svc.service.runtime.store.referrals.get(referralId))!;
  return (await svc.service.runtime.store.rewards.accrue(
    {
      installationId,
      referralId,
      referrerId: referral.referrerId,
      kind: 'milestone',
      beneficiary: 'referrer',
      milestone: 'closed_won',
      amountCents,
      currency: 'USD',
      status,
      dueDate,
      requiresApproval: status === 'pending',
      programId: referral.programId,
      programVersion: referral.programVersion,
      reasons: ['closed won'],
      idempotencyKey: `test-reward:${referralId}:${status}`,
      updatedAt: new Date().toISOString(),
    },
    'test',
  ))!;
}

const pia = { email: 'pia@partner-firm.test', name: 'Pia Partner', type: 'partner' };
const cleo = { email: 'cleo@customer.test', name: 'Cleo Customer', type: 'customer' };
const ids: Record<'acme' | 'globex' | 'initech', string> = { acme: '', globex: '', initech: '' };

beforeAll(async () => {
  svc = await startTestService({}, { worker: false });
  installationId = await installSandbox(svc);
  admin = await consoleSession(svc.url, (await throughCrmOAuth(`${svc.url}/console/sign-in/hubspot`)).cookie!);
  ids.acme = await refer(pia, { email: 'jordan@acme-widgets.test', firstName: 'Jordan', lastName: 'Lee', company: 'Acme Widgets' });
  ids.globex = await refer(pia, { email: 'sam@globex.test', firstName: 'Sam', company: 'Globex' });
  ids.initech = await refer(cleo, { email: 'lee@initech.test', firstName: 'Lee', company: 'Initech 100%' });
}, 90_000);

afterAll(async () => svc?.stop());

describe('referral search and filters', () => {
  const found = async (query: string) =>
    (await json<{ items: { id: string }[] }>(await admin.api(`/referrals?${query}`))).items.map((r) => r.id).sort();

  it("finds referrals by the referee's name, email or company and by the referrer, in any case", async () => {
    expect(await found('q=acme')).toEqual([ids.acme]);
    expect(await found('q=JORDAN%20LEE')).toEqual([ids.acme]);
    expect(await found('q=globex.test')).toEqual([ids.globex]);
    expect(await found('q=pia%20partner')).toEqual([ids.acme, ids.globex].sort());
    expect(await found('q=cleo@customer')).toEqual([ids.initech]);
    // Lee is Initech's referee by first name and Acme's by last name.
    expect(await found('q=lee')).toEqual([ids.acme, ids.initech].sort());
  });

  it('takes % and _ as themselves, not as wildcards', async () => {
    expect(await found('q=100%25')).toEqual([ids.initech]);
    expect(await found('q=%25')).toEqual([ids.initech]);
    expect(await found('q=_')).toEqual([]);
  });

  it('filters by referrer type, with the search and the status, and pages', async () => {
    expect(await found('referrerType=customer')).toEqual([ids.initech]);
    expect(await found('referrerType=partner&q=globex')).toEqual([ids.globex]);
    expect(await found('referrerType=advisor')).toEqual([]);
    const first = await json<{ items: { id: string }[]; nextCursor: string }>(await admin.api('/referrals?referrerType=partner&limit=1'));
    expect(first.items).toHaveLength(1);
    const second = await json<{ items: { id: string }[]; nextCursor: string | null }>(
      await admin.api(`/referrals?referrerType=partner&limit=1&cursor=${first.nextCursor}`),
    );
    expect([first.items[0]!.id, second.items[0]!.id].sort()).toEqual([ids.acme, ids.globex].sort());
    expect(second.nextCursor).toBeNull();
  });

  it('refuses an unknown referrer type with a 400 naming the field', async () => {
    const body = await json<{ error: { message: string } }>(await admin.api('/referrals?referrerType=friend'), 400);
    expect(body.error.message).toMatch(/referrerType/);
  });
});

describe("an installation's health", () => {
  it('tells the connection, the sync, and what waits: rewards to approve, overdue payouts, claims, dead events', async () => {
    const empty = await json<{ attention: { rewardsAwaitingApproval: { count: number } }; inbox: { dead: number } }>(
      await admin.api(`/installations/${installationId}/health`),
    );
    expect(empty.attention.rewardsAwaitingApproval.count).toBe(0);

    await reward(ids.acme, 'pending', 250_000, '2099-01-31');
    await reward(ids.globex, 'pending', 50_000, '2099-01-31');
    await reward(ids.initech, 'approved', 120_000, '2020-01-31');
    const db = svc.sqlite;
    db.prepare(
      `INSERT INTO inbox (crm, account_id, installation_id, event_key, object_type, object_id, change, occurred_at, status, attempts, last_error, received_at)
       VALUES ('hubspot', 'x', ?, 'dead-1', 'deal', 'deal-9', 'updated', '2026-01-01T00:00:00Z', 'dead', 5, 'the CRM said 500', '2026-01-01T00:00:01Z')`,
    ).run(installationId);
    db.prepare(
      "INSERT INTO sync_cursors (installation_id, name, cursor, updated_at) VALUES (?, 'reconcile', 'c1', '2026-01-02T03:04:05.000Z')",
    ).run(installationId);

    const health = await json<{
      crm: { kind: string; status: string };
      lastWebhookAt: string | null;
      lastReconciledAt: string | null;
      inbox: { pending: number; dead: number };
      deadEvents: { id: number; objectId: string; error: string }[];
      attention: {
        rewardsAwaitingApproval: { count: number; totals: { currency: string; cents: number }[] };
        claimsAwaitingDecision: number;
        overduePayouts: { count: number; totals: { currency: string; cents: number }[] };
        missingCrmFields: string[];
        dealsWaitingForRate: string[];
      };
    }>(await admin.api(`/installations/${installationId}/health`));
    expect(health.crm).toMatchObject({ kind: 'hubspot', status: 'active' });
    expect(health.lastWebhookAt).toBe('2026-01-01T00:00:01Z');
    expect(health.lastReconciledAt).toBe('2026-01-02T03:04:05.000Z');
    expect(health.inbox.dead).toBe(1);
    expect(health.deadEvents).toEqual([expect.objectContaining({ objectId: 'deal-9', error: 'the CRM said 500' })]);
    expect(health.attention.rewardsAwaitingApproval).toEqual({ count: 2, totals: [{ currency: 'USD', cents: 300_000 }] });
    expect(health.attention.overduePayouts).toEqual({ count: 1, totals: [{ currency: 'USD', cents: 120_000 }] });
    expect(health.attention.claimsAwaitingDecision).toBe(0);
    expect(health.attention.missingCrmFields).toEqual([]);
    expect(health.attention.dealsWaitingForRate).toEqual([]);
  });

  it("is 404 for another installation's id, as for none", async () => {
    await json(await admin.api('/installations/ins_nope/health'), 404);
  });
});

describe("the program simulation's sample deal", () => {
  it('tells what a sample deal would pay under the draft and the current version, saving nothing', async () => {
    const { program, version } = await json<{ version: number; program: { rewardRules: { kind: string; rateBasisPoints?: number }[] } }>(
      await admin.api('/program'),
    );
    const draft = {
      ...program,
      rewardRules: program.rewardRules.map((r) => (r.kind === 'percent' ? { ...r, rateBasisPoints: 1_500 } : r)),
    };
    const sim = await json<{ sample: { amountCents: number; currency: string; currentCents: number; draftCents: number } }>(
      await admin.api('/program/simulate?sampleAmount=25000.00&sampleReferrerType=partner', { method: 'POST', json: draft }),
    );
    expect(sim.sample).toMatchObject({ amountCents: 2_500_000, currency: 'USD', currentCents: 250_000, draftCents: 375_000 });
    expect((await json<{ version: number }>(await admin.api('/program'))).version).toBe(version);
  });

  it('refuses a sample amount that is not one, and a negative rate, with the reason', async () => {
    const { program } = await json<{ program: { rewardRules: { kind: string }[] } }>(await admin.api('/program'));
    const bad = await json<{ error: { message: string } }>(
      await admin.api('/program/simulate?sampleAmount=-5', { method: 'POST', json: program }),
      400,
    );
    expect(bad.error.message).toMatch(/sampleAmount/);
    const negative = {
      ...program,
      rewardRules: program.rewardRules.map((r) => (r.kind === 'percent' ? { ...r, rateBasisPoints: -500 } : r)),
    };
    const refused = await json<{ error: { message: string } }>(
      await admin.api('/program/simulate?sampleAmount=100', { method: 'POST', json: negative }),
      400,
    );
    expect(refused.error.message).toMatch(/between 0 and 10000 basis points/);
  });
});

describe("the CRM's pipelines with the stage mapping", () => {
  type Pipelines = {
    pipelines: {
      id: string;
      label: string;
      stages: { id: string; label: string; isWon: boolean; isClosed: boolean; step: string | null }[];
      unknownStages: { id: string; step: string }[];
    }[];
  };

  it("lists each pipeline's stages with their labels and mapped steps, and the mapped stages the CRM no longer has", async () => {
    const { pipelines } = await json<Pipelines>(await admin.api(`/installations/${installationId}/pipelines`));
    const sales = pipelines.find((p) => p.id === 'default')!;
    expect(sales.label).toBe('Sales Pipeline');
    expect(sales.stages.find((s) => s.id === 'closedwon')).toMatchObject({ label: 'Closed Won', isWon: true, isClosed: true, step: null });
    const mapped = sales.stages.filter((s) => s.step !== null);
    expect(mapped.length).toBeGreaterThan(0);
    expect(sales.unknownStages).toEqual([]);

    const { store } = svc.service.runtime;
    const installation = (await store.installations.get(installationId))!;
    const stageMapping = (await store.installations.settings(installation)).stageMapping!;
    await store.installations.updateSettings(
      installationId,
      { stageMapping: { ...stageMapping, default: { ...stageMapping.default, gone: 'qualified' } } },
      new Date(),
    );
    const after = await json<Pipelines>(await admin.api(`/installations/${installationId}/pipelines`));
    expect(after.pipelines.find((p) => p.id === 'default')!.unknownStages).toEqual([{ id: 'gone', step: 'qualified' }]);
    await store.installations.updateSettings(installationId, { stageMapping }, new Date());
  });

  it("is 404 for another installation's id", async () => {
    await json(await admin.api('/installations/ins_nope/pipelines'), 404);
  });
});

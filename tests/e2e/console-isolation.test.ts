/**
 * A console session of installation A gets nothing of installation B, on every `/api/v1` route.
 * The routes are read from the app's own routers, so a route added later is called here too (and
 * a new kind of id in a path fails this test until it is given one of B's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.ts';
import { appDeps } from '../../src/main.ts';
import { consoleSession, throughCrmOAuth, type ConsoleSession } from '../support/console.ts';
import { eventually, installSandbox, startTestService, type TestService } from '../support/service.ts';

interface RouteLayer {
  rawPath?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: RouteLayer[] };
}

/** Every method and path of the API router (the one mounted at /api/v1), its sub-routers included. */
function apiRoutes(service: TestService): { method: string; path: string }[] {
  const app = createApp(appDeps(service.service.runtime));
  const mounted = (app.router as unknown as { stack: RouteLayer[] }).stack.find((layer) => layer.rawPath === '/api/v1');
  if (!mounted?.handle.stack) throw new Error('no router mounted at /api/v1');
  const walk = (stack: RouteLayer[]): { method: string; path: string }[] =>
    stack.flatMap((layer) => {
      if (layer.route) {
        const { path, methods } = layer.route;
        return Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path }));
      }
      return layer.handle.stack ? walk(layer.handle.stack) : [];
    });
  return walk(mounted.handle.stack);
}

describe("a console session of one installation and another installation's data", () => {
  let svc: TestService;
  let a: string;
  let b: string;
  let session: ConsoleSession;
  const of = {} as Record<
    'referrer' | 'referral' | 'reward' | 'payout' | 'program' | 'endpoint' | 'user' | 'deadEvent' | 'link' | 'company' | 'cardKey',
    string
  >;
  const sql = <T>(query: string, ...params: unknown[]) => svc.sqlite.prepare(query).all(...params) as T[];

  const json = async <T>(res: Response, status: number): Promise<T> => {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  const salesforce = (action: string, body: unknown) =>
    fetch(`${svc.url}/sandbox/salesforce/_sandbox/actions/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((res) => res.json() as Promise<Record<string, string>>);

  beforeAll(async () => {
    svc = await startTestService({ ALLOW_PRIVATE_WEBHOOK_ENDPOINTS: 'true' });
    a = await installSandbox(svc, 'hubspot');
    // B: the Salesforce org, with one of everything, made through the API with the operator's token.
    b = await installSandbox(svc, 'salesforce');
    of.referrer = (
      await json<{ id: string }>(
        await svc.api('/referrers', {
          method: 'POST',
          json: { installationId: b, email: 'bea@b-partner.example', name: 'Bea', type: 'partner' },
        }),
        201,
      )
    ).id;
    const referral = await json<{ id: string }>(
      await svc.api('/referrals', {
        method: 'POST',
        json: {
          installationId: b,
          referrer: { email: 'bea@b-partner.example', name: 'Bea', type: 'partner' },
          referee: { email: 'jo@b-prospect.example', firstName: 'Jo', lastName: 'Lee', company: 'b-prospect.example' },
          submittedBy: { kind: 'rep', id: '005000000000001' },
        },
      }),
      201,
    );
    of.referral = referral.id;
    const lead = await eventually(
      async () => (await json<{ crm: { person: { id: string } } | null }>(await svc.api(`/referrals/${referral.id}`), 200)).crm?.person.id,
      15_000,
      'the referral pushed to Salesforce',
    );
    const { opportunityId } = await salesforce('convertLead', { leadId: lead, createOpportunity: true, opportunityName: 'B deal' });
    await salesforce('updateRecord', { sobject: 'Opportunity', id: opportunityId, fields: { Amount: 5_000, CloseDate: '2026-03-31' } });
    await salesforce('moveStage', { opportunityId, stageName: 'Closed Won' });
    of.reward = await eventually(
      async () =>
        (await json<{ rewards: { id: string; netCents: number }[] }>(await svc.api(`/referrals/${referral.id}`), 200)).rewards.find(
          (r) => r.netCents > 0,
        )?.id,
      20_000,
      'a reward in B',
    );
    of.payout = (
      await json<{ id: string }>(await svc.api('/payouts', { method: 'POST', json: { installationId: b, dueOn: '2026-12-31' } }), 201)
    ).id;
    of.program = (await json<{ id: string }>(await svc.api(`/program?installationId=${b}`), 200)).id;
    const programOfB = await json<{ program: Record<string, unknown> }>(await svc.api(`/program?installationId=${b}`), 200);
    const links = { landingUrl: 'https://www.b-vendor.example/', allowedDomains: ['b-vendor.example'] };
    await json(
      await svc.api(`/program?installationId=${b}`, { method: 'PUT', json: { ...programOfB, program: { ...programOfB.program, links } } }),
      200,
    );
    of.link = (await json<{ code: string }>(await svc.api(`/referrers/${of.referrer}/link`, { method: 'POST', json: {} }), 200)).code;
    of.endpoint = (
      await json<{ id: string }>(
        await svc.api(`/referrers/${of.referrer}/webhook-endpoints`, { method: 'POST', json: { url: 'http://127.0.0.1:9/hook' } }),
        201,
      )
    ).id;
    of.user = (
      await json<{ id: string }>(
        await svc.api(`/installations/${b}/users`, { method: 'POST', json: { email: 'bob@b-customer.example', role: 'viewer' } }),
        201,
      )
    ).id;
    of.cardKey = (await json<{ id: string }>(await svc.api(`/installations/${b}/card-keys`, { method: 'POST', json: {} }), 201)).id;
    const [installation] = sql<{ account_id: string }>('SELECT account_id FROM installations WHERE id = ?', b);
    const now = new Date().toISOString();
    svc.sqlite
      .prepare(
        `INSERT INTO inbox (crm, account_id, installation_id, event_key, object_type, object_id, change, occurred_at, status, attempts, last_error, received_at)
         VALUES ('salesforce', ?, ?, 'b-dead-event', 'opportunity', ?, 'updated', ?, 'dead', 8, 'poison in B', ?)`,
      )
      .run(installation!.account_id, b, opportunityId, now, now);
    of.deadEvent = String(sql<{ id: number }>("SELECT id FROM inbox WHERE event_key = 'b-dead-event'")[0]!.id);
    of.company = '001B00000000001AAA';

    // A's admin, signed in through HubSpot.
    const signIn = await throughCrmOAuth(`${svc.url}/console/sign-in/hubspot`);
    session = await consoleSession(svc.url, signIn.cookie!);
    expect(session.session.installationId).toBe(a);
  }, 90_000);
  afterAll(async () => svc?.stop());

  /** B's records as they stand: nothing A's session does may change them. */
  const stateOfB = () =>
    JSON.stringify({
      audit: sql('SELECT * FROM audit_log WHERE installation_id = ? ORDER BY id', b),
      rewards: sql('SELECT id, status FROM rewards WHERE installation_id = ?', b),
      referrers: sql('SELECT * FROM referrers WHERE installation_id = ?', b),
      referrals: sql('SELECT id, status FROM referrals WHERE installation_id = ?', b),
      payouts: sql('SELECT * FROM payout_runs WHERE installation_id = ?', b),
      endpoints: sql('SELECT * FROM webhook_endpoints WHERE installation_id = ?', b),
      users: sql('SELECT * FROM console_users WHERE installation_id = ?', b),
      cardKeys: sql('SELECT * FROM card_keys WHERE installation_id = ?', b),
      programs: sql('SELECT count(*) FROM program_versions'),
      deadEvents: sql("SELECT id, attempts FROM inbox WHERE installation_id = ? AND status = 'dead'", b),
      installation: sql('SELECT settings, status FROM installations WHERE id = ?', b),
    });

  /** The id of B's that a path parameter stands for, told by the segment before it. */
  const idFor = (segment: string | undefined, param: string): string => {
    const ids: Record<string, string> = {
      rewards: of.reward,
      referrals: of.referral,
      referrers: of.referrer,
      programs: of.program,
      payouts: of.payout,
      installations: b,
      'webhook-endpoints': of.endpoint,
      users: of.user,
      events: of.deadEvent,
      jobs: `sync:${b}:0`,
      accounts: of.company,
      versions: '1',
      'referral-links': of.link,
      'card-keys': of.cardKey,
    };
    const id = segment ? ids[segment] : undefined;
    if (!id) throw new Error(`no id of B for :${param} after /${segment}: add one to this test`);
    return id;
  };
  const withIdsOfB = (path: string) =>
    path
      .split('/')
      .map((part, i, parts) => (part.startsWith(':') ? encodeURIComponent(idFor(parts[i - 1], part.slice(1))) : part))
      .join('/');

  /** Bodies a route would accept, so the answer is about whose record it is, not the body's shape. */
  const BODIES: Record<string, unknown> = {
    'POST /rewards/:id/reject': { reason: 'not ours' },
    'POST /rewards/:id/mark-paid': { payoutReference: 'REF-A' },
    'POST /payouts/:id/mark-paid': { reference: 'REF-A' },
    'POST /payouts/:id/export': { format: 'json' },
    'POST /payouts': { dueOn: '2026-12-31' },
    'PATCH /referrers/:id': { name: 'Renamed by A' },
    'POST /referrers/:referrerId/webhook-endpoints': { url: 'http://127.0.0.1:9/a-hook' },
    'POST /installations/:id/users': { email: 'eve@a-customer.example', role: 'admin' },
    'POST /referrals/:id/claim/reject': { reason: 'not ours' },
    'POST /referrals/:id/reject': { reason: 'not ours' },
    'POST /referrers': { email: 'eve@a-partner.example', name: 'Eve', type: 'partner' },
    'POST /accounts/:companyId/milestones': {
      milestone: 'onboarding_completed',
      occurredAt: '2026-12-01T10:00:00Z',
      idempotencyKey: 'a-key',
    },
    'POST /referrals': {
      referrer: { email: 'eve@a-partner.example', name: 'Eve', type: 'partner' },
      referee: { email: 'kim@a-prospect.example', company: 'a-prospect.example' },
      submittedBy: { kind: 'rep' },
    },
  };

  const mentionsOfB = (text: string) =>
    [
      b,
      ...Object.values(of).filter((id) => id !== of.company && id !== of.deadEvent),
      'bea@b-partner.example',
      'jo@b-prospect.example',
      'bob@b-customer.example',
      'poison in B',
    ].filter((needle) => text.includes(needle));

  it('every route answers 404 (403 for the operator-only ones) on B’s ids or B named, shows nothing of B and changes nothing of B', async () => {
    const routes = apiRoutes(svc);
    expect(routes.length).toBeGreaterThan(40);
    // The org's own changes settle first: what moves after this is A's doing.
    await eventually(
      () =>
        sql<{ n: number }>("SELECT count(*) AS n FROM inbox WHERE status IN ('pending', 'processing')")[0]!.n === 0 ? true : undefined,
      15_000,
      'the inbox drained',
    );
    const before = stateOfB();
    const answers: { call: string; status: number; leaks: string[] }[] = [];
    for (const { method, path } of routes) {
      const body = BODIES[`${method} ${path}`];
      // With ids of B's records in the path, they are asked for; without (a version number is no one's), B is named
      // in the query (and the body of a write).
      const hasIds = path.split('/').some((part, i, parts) => part.startsWith(':') && parts[i - 1] !== 'versions');
      const url = hasIds ? withIdsOfB(path) : `${withIdsOfB(path)}?installationId=${b}`;
      const write = method !== 'GET' && method !== 'HEAD';
      const sent = write ? (hasIds ? (body ?? {}) : { ...((body as object) ?? {}), installationId: b }) : undefined;
      const res = await session.api(url, { method, ...(sent !== undefined ? { json: sent } : {}) });
      const text = await res.text();
      // A 404 may repeat the id it was asked for; anything else of B's is a leak.
      const asked = `${url} ${JSON.stringify(sent ?? '')}`;
      answers.push({ call: `${method} ${url}`, status: res.status, leaks: mentionsOfB(text).filter((m) => !asked.includes(m)) });
    }
    const operatorOnly = ['POST /dead-letters/jobs/:id/retry', 'POST /replay'];
    const wrong = routes.flatMap(({ method, path }, i) => {
      const answer = answers[i]!;
      const expected = operatorOnly.includes(`${method} ${path}`) ? 403 : 404;
      return answer.leaks.length || answer.status !== expected ? [answer] : [];
    });
    expect(wrong).toEqual([]);
    expect(stateOfB()).toBe(before);
  });

  it('listings without an installation named hold only A’s records', async () => {
    const lists = apiRoutes(svc).filter(({ method, path }) => method === 'GET' && !path.includes(':'));
    for (const { path } of lists) {
      const res = await session.api(path);
      const text = await res.text();
      expect([200, 400], `${path}: ${text}`).toContain(res.status);
      expect(mentionsOfB(text), path).toEqual([]);
    }
    const installations = (await (await session.api('/installations')).json()) as { id: string }[];
    expect(installations.map((i) => i.id)).toEqual([a]);
    // The operator's token still sees both.
    const all = (await (await svc.api('/installations')).json()) as { id: string }[];
    expect(all.map((i) => i.id).sort()).toEqual([a, b].sort());
  });

  /** Opens the session of an invite of B's, its link read from the outbox (this service sends no mail). */
  async function invitedSession(email: string): Promise<ConsoleSession> {
    const [row] = sql<{ payload: string }>("SELECT payload FROM outbox WHERE topic = 'console.invite' AND payload LIKE ?", `%${email}%`);
    const url = (JSON.parse(row!.payload) as { data: { consoleInvite: { url: string } } }).data.consoleInvite.url;
    const [, token] = url.split('#');
    const res = await fetch(`${svc.url}/console/sign-in/link`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ installationId: b, token }),
    });
    expect(res.status).toBe(200);
    return consoleSession(svc.url, res.headers.getSetCookie()[0]!.split(';')[0]!);
  }

  it("B's viewer reads B's reward but may not reject it: 403, nothing written", async () => {
    const viewer = await invitedSession('bob@b-customer.example');
    expect((await viewer.api(`/rewards/${of.reward}`)).status).toBe(200);
    const before = stateOfB();
    const res = await viewer.api(`/rewards/${of.reward}/reject`, { method: 'POST', json: { reason: 'viewer tries' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'A viewer may not do this: ask an admin of this installation.',
    );
    expect((await viewer.api(`/payouts/${of.payout}/export`, { method: 'POST', json: { format: 'json' } })).status).toBe(403);
    expect(stateOfB()).toBe(before);
  });

  it("B's finance exports and pays B's payout run, each step audited as that user, not a generic admin", async () => {
    const invited = await svc.api(`/installations/${b}/users`, {
      method: 'POST',
      json: { email: 'fay@b-customer.example', role: 'finance' },
    });
    expect(invited.status).toBe(201);
    const finance = await invitedSession('fay@b-customer.example');
    const userId = finance.session.subject.id;
    expect((await finance.api(`/payouts/${of.payout}/export`, { method: 'POST', json: { format: 'json' } })).status).toBe(200);
    const paid = await finance.api(`/payouts/${of.payout}/mark-paid`, { method: 'POST', json: { reference: 'BANK-B-1' } });
    expect(paid.status).toBe(200);
    // Finance does not change the program.
    expect((await finance.api(`/program`, { method: 'PUT', json: {} })).status).toBe(403);
    const actors = sql<{ action: string; actor: string }>(
      "SELECT action, actor FROM audit_log WHERE subject_id = ? AND action LIKE 'payout_run.%' ORDER BY id",
      of.payout,
    );
    expect(actors).toEqual([
      { action: 'payout_run.created', actor: 'admin' },
      { action: 'payout_run.exported', actor: `user:${userId} fay@b-customer.example` },
      { action: 'payout_run.paid', actor: `user:${userId} fay@b-customer.example` },
    ]);
  });
});

/**
 * The first-run page and the tour's API over HTTP: with a real CRM configured `/` is the connect
 * page (a button for that CRM, the variables another needs) and the tour API does not exist; on
 * the sandboxes, the API refuses writes from other origins and bad input, writing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.ts';

describe('with a real HubSpot configured', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({
      HUBSPOT_CLIENT_ID: 'fake-client-id',
      HUBSPOT_CLIENT_SECRET: 'fake-client-secret',
      HUBSPOT_APP_ID: '42',
    });
  });
  afterAll(() => svc?.stop());

  it('shows the connect page: a button for HubSpot, the variables Salesforce needs', async () => {
    const res = await fetch(`${svc.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<form method="get" action="/oauth/hubspot/install"><button type="submit">Connect HubSpot</button></form>');
    expect(html).toContain('Salesforce is not configured: set <code>SALESFORCE_CLIENT_ID</code> and <code>SALESFORCE_CLIENT_SECRET</code>');
    expect(html).not.toContain('HUBSPOT_CLIENT_ID');
  });

  it('has no tour API', async () => {
    expect((await fetch(`${svc.url}/tour/api/state`)).status).toBe(404);
    const start = await fetch(`${svc.url}/tour/api/start`, { method: 'POST', headers: { origin: svc.url } });
    expect(start.status).toBe(404);
    expect(await svc.service.runtime.store.installations.list()).toEqual([]);
  });
});

describe('on the sandbox CRMs', () => {
  let svc: TestService;
  const post = (path: string, body: unknown, headers: Record<string, string> = { origin: svc.url }) =>
    fetch(`${svc.url}/tour/api${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const referralCount = () => (svc.sqlite.prepare('SELECT count(*) AS n FROM referrals').get() as { n: number }).n;

  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.stop());

  it('refuses writes from another origin or none, installing nothing', async () => {
    for (const headers of [{}, { origin: 'https://evil.example' }] as Record<string, string>[]) {
      const res = await post('/start', {}, headers);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('from the tour page');
    }
    expect(await svc.service.runtime.store.installations.list()).toEqual([]);
  });

  it('asks to start the tour before anything else', async () => {
    const res = await post('/referrals', { referrer: 'partner', firstName: 'Jordan', company: 'Acme' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('start the tour first');
  });

  it('starts once: the sandbox installed through OAuth and two sample referrers, however often it is asked', async () => {
    for (let i = 0; i < 2; i++) expect((await post('/start', {})).status).toBe(200);
    const [installation, ...others] = await svc.service.runtime.store.installations.list();
    expect(others).toEqual([]);
    expect(installation).toMatchObject({ crm: 'hubspot', status: 'active' });
    const referrers = await svc.service.runtime.store.referrals.listReferrers(installation!.id);
    expect(referrers.map((r) => r.type).sort()).toEqual(['customer', 'partner']);
  });

  it.each([
    ['an unknown referrer type', '/referrals', { referrer: 'admin', firstName: 'Jordan', company: 'Acme' }, 'referrer'],
    ['an empty name', '/referrals', { referrer: 'partner', firstName: ' ', company: 'Acme' }, 'firstName'],
    ['an unexpected field', '/referrals', { referrer: 'partner', firstName: 'Jo', company: 'Acme', email: 'x@y.z' }, 'body'],
    ['a negative deal amount', '/deals', { referralId: 'ref_1', amount: -5 }, 'amount'],
    ['a fractional deal amount', '/deals', { referralId: 'ref_1', amount: 10.5 }, 'amount'],
    ['an NPS above 10', '/account/nps', { nps: 11 }, 'nps'],
    ['an NPS as text', '/account/nps', { nps: '9' }, 'nps'],
    ['a deal id that is not letters and digits', '/deals/12-3/stage', { stage: 'closedwon' }, 'dealId'],
  ])('refuses %s with a 400 naming the field', async (_what, path, body, field) => {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; details: { issues: { field: string }[] } } };
    expect(error.code).toBe('invalid_input');
    expect(error.details.issues.map((i) => i.field)).toContain(field);
    expect(referralCount()).toBe(0);
  });

  it('refuses malformed JSON, an oversized body, an unknown stage and another referral id, writing nothing', async () => {
    expect((await post('/referrals', '{"referrer":')).status).toBe(400);
    expect((await post('/referrals', { referrer: 'partner', firstName: 'Jo', company: 'x'.repeat(5_000) })).status).toBe(413);
    const stage = await post('/deals/1/stage', { stage: 'signed-in-blood' });
    expect(stage.status).toBe(409);
    expect(((await stage.json()) as { error: { message: string } }).error.message).toContain('Unknown deal stage signed-in-blood');
    expect((await post('/deals', { referralId: 'ref_of_someone_else', amount: 100 })).status).toBe(404);
    expect((await fetch(`${svc.url}/tour/api/state?referralId=ref_of_someone_else`)).status).toBe(404);
    expect(referralCount()).toBe(0);
  });

  it("leaves alone referrals that are not the sample referrers'", async () => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'rhea@real-partner.example', name: 'Rhea Real', type: 'partner' },
        referee: { email: 'sam@prospect.example', firstName: 'Sam' },
        submittedBy: { kind: 'rep' },
      },
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await fetch(`${svc.url}/tour/api/state?referralId=${id}`)).status).toBe(404);
    expect((await post('/deals', { referralId: id, amount: 100 })).status).toBe(404);
    const state = (await (await fetch(`${svc.url}/tour/api/state`)).json()) as { referrers: { email: string }[] };
    expect(state.referrers.map((r) => r.email)).not.toContain('rhea@real-partner.example');
  });

  it('bounds writes per client address', async () => {
    let limited = 0;
    for (let i = 0; i < 70 && !limited; i++) if ((await post('/account/nps', { nps: 'x' })).status === 429) limited = i;
    expect(limited).toBeGreaterThan(0);
    expect(limited).toBeLessThanOrEqual(60);
  });
});

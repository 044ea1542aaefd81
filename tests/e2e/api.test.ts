import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

const referral = (refereeEmail: string, extra: Record<string, unknown> = {}) => ({
  referrer: { email: 'pat.partner@partnerco.com', name: 'Pat Partner', type: 'partner', company: 'PartnerCo' },
  referee: { email: refereeEmail, firstName: 'Riley', lastName: 'Buyer', company: 'Buyer Inc' },
  submittedBy: { kind: 'rep', id: 'owner-1' },
  ...extra,
});

describe('referral API over HTTP', () => {
  let svc: TestService;
  let installationId: string;
  const rowCount = () => (svc.sqlite.prepare('SELECT count(*) AS n FROM referrals').get() as { n: number }).n;

  beforeAll(async () => {
    svc = await startTestService();
    installationId = await installSandbox(svc);
  });
  afterAll(async () => svc?.stop());

  it('lists the installation made through OAuth', async () => {
    const res = await svc.api('/installations');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([expect.objectContaining({ id: installationId, crm: 'hubspot', status: 'active' })]);
  });

  it('creates a referral (201) and a duplicate of it is a 409 naming the first', async () => {
    const created = await svc.api('/referrals', { method: 'POST', json: referral('riley@buyer-one.com') });
    expect(created.status).toBe(201);
    const first = (await created.json()) as { id: string; status: string; timeline: { to: string }[] };
    expect(first.status).toBe('accepted');
    expect(first.timeline.map((t) => t.to)).toEqual(['submitted', 'accepted']);

    const again = await svc.api('/referrals', {
      method: 'POST',
      json: referral('Riley+news@Buyer-One.com', { referrer: { email: 'other@advisors.io', name: 'Ada', type: 'advisor' } }),
    });
    expect(again.status).toBe(409);
    const body = (await again.json()) as { error: { code: string; message: string; details: { referralId: string } } };
    expect(body.error.code).toBe('duplicate');
    expect(body.error.details.referralId).toBe(first.id);
    expect(body.error.message).toMatch(/already referred|duplicate/i);
  });

  it.each([
    ['malformed JSON', '{"referrer": ', 'invalid_json', undefined],
    ['a missing referee', JSON.stringify({ referrer: referral('x@y.com').referrer }), 'invalid_input', 'referee'],
    ['a bad email', JSON.stringify(referral('not-an-email')), 'invalid_input', 'referee.email'],
    [
      'an unknown referrer type',
      JSON.stringify({ ...referral('a@b-corp.com'), referrer: { email: 'a@c.com', name: 'A', type: 'reseller' } }),
      'invalid_input',
      'referrer.type',
    ],
  ])('answers %s with 400 naming the field, writing nothing', async (_what, body, code, field) => {
    const before = rowCount();
    const res = await svc.api('/referrals', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; message: string; details: { issues?: { field: string }[] } } };
    expect(json.error.code).toBe(code);
    if (field) {
      expect(json.error.details.issues?.map((i) => i.field)).toContain(field);
      expect(json.error.message).toContain(field);
    }
    expect(rowCount()).toBe(before);
  });

  it('refuses an oversized body with 413 and writes nothing', async () => {
    const before = rowCount();
    const res = await svc.api('/referrals', { method: 'POST', json: referral('big@bigco.com', { notes: 'x'.repeat(200_000) }) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(rowCount()).toBe(before);
  });

  it('answers 401 to a missing or wrong token, and 404 to an unknown id', async () => {
    expect((await fetch(`${svc.url}/api/v1/referrals`)).status).toBe(401);
    const wrong = await fetch(`${svc.url}/api/v1/referrals`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const missing = await svc.api('/referrals/ref_doesnotexist');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('lists with filters and cursor pagination', async () => {
    for (const n of [1, 2, 3, 4, 5]) {
      const res = await svc.api('/referrals', { method: 'POST', json: referral(`lead${n}@company-${n}.com`) });
      expect(res.status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await svc.api(`/referrals?status=accepted&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const page = (await res.json()) as { items: { id: string; status: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.every((i) => i.status === 'accepted')).toBe(true);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(6);
    const bad = await svc.api('/referrals?status=nonsense');
    expect(bad.status).toBe(400);
  });

  it('gets a referrer with its referrals and reward totals', async () => {
    const list = (await (await svc.api('/referrers')).json()) as { items: { id: string; email: string }[] };
    const pat = list.items.find((r) => r.email === 'pat.partner@partnerco.com')!;
    const res = await svc.api(`/referrers/${pat.id}`);
    const body = (await res.json()) as { referrals: unknown[]; rewardTotals: unknown[]; type: string };
    expect(body.type).toBe('partner');
    expect(body.referrals.length).toBeGreaterThan(0);
    expect(body.rewardTotals).toEqual([]);
  });

  it('versions the program on every change and validates it', async () => {
    const current = (await (await svc.api('/program')).json()) as { version: number; program: { payoutDays: number } };
    // What GET gave is what PUT takes (the document, its program edited).
    expect(current.version).toBe(1);
    expect(current.program.payoutDays).toBe(90);
    const changed = await svc.api('/program', { method: 'PUT', json: { ...current, program: { ...current.program, payoutDays: 60 } } });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { version: number }).version).toBe(2);
    const invalid = await svc.api('/program', { method: 'PUT', json: { program: { ...current.program, payoutDays: -1 } } });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { message: string } }).error.message).toContain('payoutDays');
    const versions = (await (await svc.api('/program/versions')).json()) as { items: { version: number }[] };
    expect(versions.items.map((v) => v.version)).toEqual([2, 1]);
  });

  it('serves health and Prometheus metrics', async () => {
    const health = await fetch(`${svc.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain('referloop_http_request_duration_seconds');
  });
});

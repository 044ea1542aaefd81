/**
 * Referral links end to end against a sandbox HubSpot: a referrer's link is visited, the vendor's
 * HubSpot form is submitted with the code the capture script filled (the Forms submission API,
 * tests/fixtures/hubspot/forms-submission.json), the contact it creates becomes a referral of that
 * referrer submitted at the visit, its deal closes won and the referrer is rewarded. A guessed
 * code counts no visit and makes no referral.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { LINK_CODE_LENGTH } from '../../src/domain/referral-links.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

const CLIENT = { clientId: 'e2e-links-client', clientSecret: 'e2e-links-secret', appId: 4545 };
const FORM = JSON.parse(readFileSync(new URL('../fixtures/hubspot/forms-submission.json', import.meta.url), 'utf8')) as {
  request: { fields: { name: string; value: string }[]; context: Record<string, string>; submittedAt: string };
  response: Record<string, string>;
  errorResponse: { errors: { errorType: string }[] };
};

interface LinkBody {
  code: string;
  url: string;
  clicks: number;
  signUps: number;
  deals: number;
}
interface ReferralBody {
  id: string;
  status: string;
  referrerId: string;
  submittedAt: string;
  evidence?: { via: string; code: string; visitedAt: string };
  crm: { person: { id: string } } | null;
  rewards: { amount: number; status: string; milestone: string }[];
}

describe('referral links through HubSpot forms', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;
  let hubspotUrl: string;
  let installationId: string;

  beforeAll(async () => {
    ({ hubspot, svc, hubspotUrl, installationId } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }));
    const current = (await (await svc.api('/program')).json()) as { program: Record<string, unknown> };
    const saved = await svc.api('/program', {
      method: 'PUT',
      json: {
        ...current,
        program: { ...current.program, links: { landingUrl: 'https://www.vendor.example/signup', allowedDomains: ['vendor.example'] } },
      },
    });
    expect(saved.status).toBe(200);
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  const submitForm = (fields: Record<string, string>) =>
    fetch(`${hubspotUrl}/submissions/v3/integration/submit/${hubspot.state.portalId}/0b5d6c1e-form`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...FORM.request,
        fields: FORM.request.fields.filter((f) => f.name in fields).map((f) => ({ ...f, value: fields[f.name] })),
      }),
    });
  const referralsOf = async (referrerId: string) =>
    ((await (await svc.api(`/referrals?referrerId=${referrerId}`)).json()) as { items: ReferralBody[] }).items;

  it('a visit, a form carrying the code, a won deal: the referrer is paid, and the link counts a click, a sign-up and a deal', async () => {
    const created = await svc.api('/referrers', {
      method: 'POST',
      json: { email: 'cora@customer.example', name: 'Cora Customer', type: 'customer' },
    });
    const referrer = (await created.json()) as { id: string };
    const link = (await (await svc.api(`/referrers/${referrer.id}/link`, { method: 'POST', json: {} })).json()) as LinkBody;
    expect(link.url).toBe(`${svc.url}/r/${link.code}`);
    expect(link.code).toMatch(new RegExp(`^[0-9A-Za-z]{${LINK_CODE_LENGTH}}$`));

    const visit = await fetch(`${link.url}?utm_source=newsletter&utm_campaign=spring&evil=1`, { redirect: 'manual' });
    expect(visit.status).toBe(302);
    const landing = new URL(visit.headers.get('location')!);
    expect(landing.origin + landing.pathname).toBe('https://www.vendor.example/signup');
    expect(Object.fromEntries(landing.searchParams)).toEqual({
      utm_source: 'newsletter',
      utm_campaign: 'spring',
      referloop_code: link.code,
    });

    // The capture script filled the hidden field; the form creates the contact in HubSpot.
    const answer = await submitForm({
      email: 'sam@prospect.example',
      firstname: 'Sam',
      lastname: 'Prospect',
      referloop_referral_code: link.code,
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual(FORM.response);

    const referral = await eventually(
      async () => (await referralsOf(referrer.id)).find((r) => r.crm !== null),
      15_000,
      'the link referral, pushed to HubSpot',
    );
    expect(referral.status).toBe('accepted');
    expect(referral.evidence).toEqual({ via: 'link', code: link.code, visitedAt: expect.any(String) });
    expect(referral.submittedAt).toBe(referral.evidence!.visitedAt);
    const contact = hubspot.state.get('contacts', referral.crm!.person.id)!;
    expect(contact.properties.email).toBe('sam@prospect.example');
    expect(contact.properties.referloop_referral_id).toBe(referral.id);

    // The contact changes again (the webhook comes back with the code): still one referral.
    hubspot.state.update('contacts', contact.id, { lifecyclestage: 'lead' });
    const deal = hubspot.state.create(
      'deals',
      { dealname: 'Prospect — platform', pipeline: 'default', dealstage: 'qualifiedtobuy', amount: '20000' },
      [{ type: 'contacts', id: contact.id }],
    );
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: '2026-03-31T12:00:00Z' });
    const won = await eventually(
      async () => {
        const r = (await (await svc.api(`/referrals/${referral.id}`)).json()) as ReferralBody;
        return r.status === 'closed_won' && r.rewards.some((w) => w.milestone === 'closed_won') ? r : undefined;
      },
      20_000,
      'closed won with a reward',
    );
    expect(won.rewards).toEqual(expect.arrayContaining([expect.objectContaining({ milestone: 'closed_won', amount: 500 })]));
    expect(await referralsOf(referrer.id)).toHaveLength(1);

    const [counted] = ((await (await svc.api(`/referrers/${referrer.id}/links`)).json()) as { items: LinkBody[] }).items;
    expect(counted).toMatchObject({ code: link.code, clicks: 1, signUps: 1, deals: 1 });
  });

  it('an existing contact submitting a form with a code becomes a referral too (the code property is subscribed to)', async () => {
    const referrer = (await (
      await svc.api('/referrers', { method: 'POST', json: { email: 'dora@customer.example', name: 'Dora', type: 'customer' } })
    ).json()) as { id: string };
    const link = (await (await svc.api(`/referrers/${referrer.id}/link`, { method: 'POST', json: {} })).json()) as LinkBody;
    hubspot.state.create('contacts', { email: 'eli@returning.example', firstname: 'Eli' });
    await fetch(link.url, { redirect: 'manual' });
    expect((await submitForm({ email: 'eli@returning.example', referloop_referral_code: link.code })).status).toBe(200);
    const referral = await eventually(async () => (await referralsOf(referrer.id))[0], 15_000, 'the referral of the existing contact');
    expect(referral).toMatchObject({ status: 'accepted', evidence: { via: 'link', code: link.code } });
  });

  it('a guessed code lands on the program page without a code, counts nothing, and a form carrying it makes no referral', async () => {
    const referrers = ((await (await svc.api('/referrers')).json()) as { items: { id: string }[] }).items;
    const [someone] = ((await (await svc.api(`/referrers/${referrers[0]!.id}/links`)).json()) as { items: LinkBody[] }).items;
    const guessed = `${someone!.code.slice(0, 4)}${'A'.repeat(LINK_CODE_LENGTH - 4)}`;
    const visit = await fetch(`${svc.url}/r/${guessed}?utm_source=x`, { redirect: 'manual' });
    expect(visit.status).toBe(302);
    expect(visit.headers.get('location')).toBe('https://www.vendor.example/signup');
    const unknownTag = await fetch(`${svc.url}/r/${'z'.repeat(LINK_CODE_LENGTH)}`, { redirect: 'manual' });
    expect(unknownTag.status).toBe(404);
    const visits = () => (svc.sqlite.prepare('SELECT count(*) AS n FROM referral_link_visits').get() as { n: number }).n;
    expect(visits()).toBe(2);

    const before = ((await (await svc.api('/referrals')).json()) as { items: unknown[] }).items.length;
    expect((await submitForm({ email: 'gus@guess.example', firstname: 'Gus', referloop_referral_code: guessed })).status).toBe(200);
    const gus = await eventually(() => hubspot.state.model.findBy('contacts', 'email', 'gus@guess.example'), 5_000, 'the contact');
    const delivered = () => hubspot.state.deliveries.some((d) => JSON.stringify(d).includes(gus.id));
    // Give the webhook time to be applied, then check nothing was made of it.
    await eventually(() => (delivered() ? true : undefined), 10_000, 'the webhook delivered');
    await new Promise((r) => setTimeout(r, 500));
    expect(((await (await svc.api('/referrals')).json()) as { items: unknown[] }).items).toHaveLength(before);
  });

  it('the portal shows the referrer their link and its numbers; their own visit, in their portal session, is not counted', async () => {
    const created = await svc.api('/referrers', {
      method: 'POST',
      json: { email: 'rita@customer.example', name: 'Rita', type: 'customer' },
    });
    const referrer = (await created.json()) as { id: string };
    const { token } = await svc.service.runtime.store.sessions.open({
      subjectKind: 'referrer',
      subjectId: referrer.id,
      installationId,
      role: 'referrer',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const cookie = `referloop_session=${token}`;
    const portal = async () =>
      ((await (await fetch(`${svc.url}/api/v1/portal/${installationId}/links`, { headers: { cookie } })).json()) as { items: LinkBody[] })
        .items;
    const [link] = await portal();
    expect(link).toMatchObject({ url: `${svc.url}/r/${link!.code}`, clicks: 0, signUps: 0, deals: 0 });
    // The same link on every visit of the page.
    expect((await portal()).map((l) => l.code)).toEqual([link!.code]);

    const own = await fetch(link!.url, { headers: { cookie }, redirect: 'manual' });
    expect(own.headers.get('location')).toBe(`https://www.vendor.example/signup?referloop_code=${link!.code}`);
    expect((await portal())[0]!.clicks).toBe(0);
    await fetch(link!.url, { redirect: 'manual' });
    expect((await portal())[0]!.clicks).toBe(1);
    expect((await fetch(`${svc.url}/api/v1/portal/${installationId}/links`)).status).toBe(401);
  });

  it('a program that approves link referrals holds one until an admin approves it; then it reaches HubSpot', async () => {
    const current = (await (await svc.api('/program')).json()) as { program: { links: Record<string, unknown> } };
    const links = { ...current.program.links, requireApproval: true };
    expect((await svc.api('/program', { method: 'PUT', json: { ...current, program: { ...current.program, links } } })).status).toBe(200);
    const referrer = (await (
      await svc.api('/referrers', { method: 'POST', json: { email: 'hal@customer.example', name: 'Hal', type: 'customer' } })
    ).json()) as { id: string };
    const link = (await (await svc.api(`/referrers/${referrer.id}/link`, { method: 'POST', json: {} })).json()) as LinkBody;
    await fetch(link.url, { redirect: 'manual' });
    await submitForm({ email: 'ivy@held.example', firstname: 'Ivy', referloop_referral_code: link.code });
    const held = await eventually(async () => (await referralsOf(referrer.id))[0], 15_000, 'the held link referral');
    expect(held).toMatchObject({ status: 'submitted', crm: null });

    const approved = await svc.api(`/referrals/${held.id}/approve`, { method: 'POST', json: { approvedBy: 'Ada Admin' } });
    expect(approved.status).toBe(200);
    expect(((await approved.json()) as { outcome: string }).outcome).toBe('approved');
    const pushed = await eventually(
      async () => (await referralsOf(referrer.id)).find((r) => r.crm !== null),
      15_000,
      'pushed once approved',
    );
    expect(pushed.status).toBe('accepted');
    expect((await svc.api(`/referrals/${held.id}/approve`, { method: 'POST', json: {} })).status).toBe(409);
  });

  it('the sandbox answers a form without an email as HubSpot does', async () => {
    const res = await submitForm({ firstname: 'Nobody' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as typeof FORM.errorResponse).errors[0]!.errorType).toBe(FORM.errorResponse.errors[0]!.errorType);
  });
});

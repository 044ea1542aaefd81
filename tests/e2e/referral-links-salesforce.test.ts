/**
 * Referral links end to end against a sandbox Salesforce: install looks up the Web-to-Lead id of
 * `Lead.Referral_Code__c` (Tooling API) and the capture script fills that field; a visit, then a
 * Web-to-Lead form (tests/fixtures/salesforce/web-to-lead.json) carrying the code creates the Lead,
 * whose Outbound Message makes a referral of the link's referrer; the lead converts, the
 * opportunity closes won and the referrer is rewarded. A guessed code makes no referral.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { LINK_CODE_LENGTH } from '../../src/domain/referral-links.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

const CLIENT = { clientId: 'e2e-links-sf-client', clientSecret: 'e2e-links-sf-secret' };
const FORM = JSON.parse(readFileSync(new URL('../fixtures/salesforce/web-to-lead.json', import.meta.url), 'utf8')) as {
  request: Record<string, string>;
  response: { status: number; location: string };
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
  submittedAt: string;
  evidence?: { via: string; code: string; visitedAt: string };
  crm: { person: { objectType: string; id: string } } | null;
  rewards: { amount: number; milestone: string }[];
}

describe('referral links through Salesforce Web-to-Lead', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;
  let salesforceUrl: string;
  let installationId: string;
  let orgId: string;

  beforeAll(async () => {
    ({ salesforce, svc, salesforceUrl, installationId } = await startWithSandboxSalesforce(CLIENT));
    orgId = ((await (await svc.api(`/installations/${installationId}`)).json()) as { accountId: string }).accountId;
    const current = (await (await svc.api('/program')).json()) as { program: Record<string, unknown> };
    const saved = await svc.api('/program', {
      method: 'PUT',
      json: {
        ...current,
        program: { ...current.program, links: { landingUrl: 'https://www.vendor.example/demo', allowedDomains: ['vendor.example'] } },
      },
    });
    expect(saved.status).toBe(200);
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  /** The field id the capture script fills, as install looked it up. */
  const codeFieldId = async () => {
    const script = await (await fetch(`${svc.url}/r/capture.js?installation=${installationId}`)).text();
    const id = /"(00N[0-9A-Za-z]{12})"/.exec(script)?.[1];
    expect(id).toBeDefined();
    return id!;
  };
  const webToLead = async (fields: Record<string, string>) => {
    const body = new URLSearchParams({ ...FORM.request, oid: orgId.slice(0, 15), ...fields });
    for (const key of [...body.keys()]) if (key.startsWith('{')) body.delete(key);
    return fetch(`${salesforceUrl}/servlet/servlet.WebToLead?encoding=UTF-8`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      redirect: 'manual',
    });
  };
  const referralsOf = async (referrerId: string) =>
    ((await (await svc.api(`/referrals?referrerId=${referrerId}`)).json()) as { items: ReferralBody[] }).items;

  it('a visit, a Web-to-Lead carrying the code, a won opportunity: the referrer is paid', async () => {
    const referrer = (await (
      await svc.api('/referrers', { method: 'POST', json: { email: 'ada@customer.example', name: 'Ada Customer', type: 'customer' } })
    ).json()) as { id: string };
    const link = (await (await svc.api(`/referrers/${referrer.id}/link`, { method: 'POST', json: {} })).json()) as LinkBody;
    const visit = await fetch(link.url, { redirect: 'manual' });
    expect(visit.headers.get('location')).toBe(`https://www.vendor.example/demo?referloop_code=${link.code}`);

    const answer = await webToLead({ [await codeFieldId()]: link.code });
    expect(answer.status).toBe(FORM.response.status);
    expect(answer.headers.get('location')).toBe(FORM.response.location);

    const referral = await eventually(
      async () => (await referralsOf(referrer.id)).find((r) => r.crm !== null),
      15_000,
      'the link referral, linked to its Lead',
    );
    expect(referral).toMatchObject({
      status: 'accepted',
      evidence: { via: 'link', code: link.code },
      crm: { person: { objectType: 'lead' } },
    });
    expect(referral.submittedAt).toBe(referral.evidence!.visitedAt);
    const lead = salesforce.state.records('Lead').find((l) => l.Email === 'robin@prospect.example')!;
    expect(lead.Referral_Code__c).toBe(link.code);

    const { opportunityId } = salesforce.actions.convertLead({
      leadId: String(lead.Id),
      createOpportunity: true,
      opportunityName: 'Prospect Ltd',
    });
    salesforce.actions.updateRecord({ sobject: 'Opportunity', id: opportunityId!, fields: { Amount: 20_000, CloseDate: '2026-03-31' } });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });
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
    expect(counted).toMatchObject({ clicks: 1, signUps: 1, deals: 1 });
  });

  it('a Web-to-Lead carrying a guessed code creates the Lead and no referral', async () => {
    const before = ((await (await svc.api('/referrals')).json()) as { items: unknown[] }).items.length;
    const guessed = 'Q'.repeat(LINK_CODE_LENGTH);
    await webToLead({ email: 'gia@guess.example', last_name: 'Guess', [await codeFieldId()]: guessed });
    await eventually(() => salesforce.state.records('Lead').find((l) => l.Email === 'gia@guess.example'), 5_000, 'the Lead');
    await salesforce.outboundSettled();
    await new Promise((r) => setTimeout(r, 500));
    expect(((await (await svc.api('/referrals')).json()) as { items: unknown[] }).items).toHaveLength(before);
  });
});

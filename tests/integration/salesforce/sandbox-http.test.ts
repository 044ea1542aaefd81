import { afterEach, describe, expect, it } from 'vitest';
import { connectSandbox, type Connected } from '../../fixtures/salesforce/harness.ts';

let env: Connected;
afterEach(() => env.close());

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>) };
};

describe('Salesforce sandbox test hooks over HTTP', () => {
  it('runs sales-team actions and faults, and reports its state, for tests in another process', async () => {
    env = await connectSandbox();
    const lead = await post(`${env.url}/_sandbox/actions/createLead`, { LastName: 'Lee', Company: 'Globex', Email: 'pat@globex.example' });
    expect(lead.status).toBe(200);
    const converted = await post(`${env.url}/_sandbox/actions/convertLead`, { leadId: lead.body?.Id });
    expect(converted.body).toMatchObject({
      accountId: expect.stringMatching(/^001/),
      contactId: expect.stringMatching(/^003/),
      opportunityId: expect.stringMatching(/^006/),
    });
    const won = await post(`${env.url}/_sandbox/actions/moveStage`, {
      opportunityId: converted.body?.opportunityId,
      stageName: 'Closed Won',
    });
    expect(won.body).toMatchObject({ IsWon: true, IsClosed: true });
    expect(
      (await post(`${env.url}/_sandbox/actions/moveStage`, { opportunityId: converted.body?.opportunityId, stageName: 'Nope' })).status,
    ).toBe(400);

    expect((await post(`${env.url}/_sandbox/faults/failNext`, { args: ['UNABLE_TO_LOCK_ROW', 1] })).status).toBe(204);
    await expect(env.client.getDeals([String(converted.body?.opportunityId)])).rejects.toMatchObject({ code: 'conflict' });
    const deals = await env.client.getDeals([String(converted.body?.opportunityId)]);
    expect(deals.records[0]).toMatchObject({ isWon: true, contactIds: [converted.body?.contactId] });

    const state = (await (await fetch(`${env.url}/_sandbox/state`)).json()) as Record<string, unknown>;
    expect(state).toMatchObject({
      orgId: env.session.accountId,
      apiUsage: { used: expect.any(Number), limit: 15_000 },
      outbound: { pending: 6 },
    });
    const leads = (await (await fetch(`${env.url}/_sandbox/records/Lead`)).json()) as Record<string, unknown>[];
    expect(leads).toMatchObject([{ IsConverted: true, ConvertedOpportunityId: converted.body?.opportunityId }]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_API_VERSION } from '../../../connectors/salesforce/settings.ts';
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

  it('fails a share of the REST calls at random, labelled and counted apart from limit breaches', async () => {
    env = await connectSandbox();
    expect((await post(`${env.url}/_sandbox/faults/failAtRandom`, { args: [1 / 3] })).status).toBe(204);
    const { accessToken } = await env.session.tokens();
    const answers = await Promise.all(
      Array.from({ length: 300 }, () =>
        fetch(`${env.url}/services/data/v${DEFAULT_API_VERSION}/limits`, { headers: { authorization: `Bearer ${accessToken}` } }),
      ),
    );
    const injected = answers.filter((a) => a.headers.get('x-sandbox-injected-fault') === '1');
    // 100 expected; outside 60-140 is a one-in-a-million draw.
    expect(injected.length).toBeGreaterThan(60);
    expect(injected.length).toBeLessThan(140);
    const errors = (await Promise.all(injected.map((a) => a.json()))) as { errorCode: string }[][];
    expect(new Set(errors.map(([e]) => e?.errorCode))).toEqual(new Set(['SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION']));
    expect(new Set(injected.map((a) => a.status))).toEqual(new Set([500, 503]));
    expect(answers.filter((a) => !injected.includes(a)).every((a) => a.status === 200)).toBe(true);
    expect(env.sandbox.stats).toEqual({ rateLimitBreaches: 0, injectedFaults: injected.length });
    expect((await post(`${env.url}/_sandbox/faults/failAtRandom`, { args: [2] })).body).toEqual([
      { message: 'failAtRandom takes a share from 0 to 1, not 2', errorCode: 'INVALID_INPUT' },
    ]);
    expect((await post(`${env.url}/_sandbox/faults/failAtRandom`, { args: [0] })).status).toBe(204);
    expect(
      (await fetch(`${env.url}/services/data/v${DEFAULT_API_VERSION}/limits`, { headers: { authorization: `Bearer ${accessToken}` } }))
        .status,
    ).toBe(200);
  });
});

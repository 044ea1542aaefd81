import { afterEach, describe, expect, it } from 'vitest';
import { CrmError } from '../../../connectors/connector.ts';
import { DAILY_LIMIT_HOLD_MS } from '../../../connectors/salesforce/errors.ts';
import { connectSandbox, type Connected } from '../../fixtures/salesforce/harness.ts';
import { TestSession } from '../../support/crm-session.ts';
import { RecordingLimiter } from '../../support/rate-limiter.ts';

let env: Connected;
afterEach(() => env.close());

const bucket = (e: Connected) => `salesforce:${e.session.accountId}`;

describe('Salesforce session refresh and revocation', () => {
  it('refreshes an expired access token mid-sync, retries, and persists the new token', async () => {
    env = await connectSandbox();
    const lead = env.sandbox.actions.createLead({ LastName: 'Lee', Company: 'Globex' });
    const original = await env.session.tokens();
    await env.client.getPeople('lead', [lead.Id as string]);

    env.sandbox.faults.expireAccessTokens();
    const { records } = await env.client.getPeople('lead', [lead.Id as string]);
    expect(records).toHaveLength(1);
    expect(env.session.saved).toHaveLength(1);
    expect(env.session.saved[0]).toMatchObject({ refreshToken: original.refreshToken, instanceUrl: original.instanceUrl });
    expect(env.session.saved[0]?.accessToken).not.toBe(original.accessToken);
    expect(env.sandbox.state.requests.map((r) => r.status)).toEqual([200, 401, 200]);

    // A new client built from the persisted tokens works without refreshing.
    const fresh = await env.connector.client(new TestSession(env.session.accountId, await env.session.tokens()), {
      limiter: new RecordingLimiter(),
    });
    await expect(fresh.getPeople('lead', [lead.Id as string])).resolves.toMatchObject({ gone: [] });
  });

  it('persists a rotated refresh token', async () => {
    env = await connectSandbox({ rotateRefreshTokens: true });
    const before = (await env.session.tokens()).refreshToken;
    env.sandbox.faults.expireAccessTokens();
    await env.client.listPipelineStages();
    expect(env.session.saved[0]?.refreshToken).toBeTruthy();
    expect(env.session.saved[0]?.refreshToken).not.toBe(before);
  });

  it('takes the tokens another worker rotated instead of reporting a revoked grant', async () => {
    env = await connectSandbox({ rotateRefreshTokens: true });
    const other = await env.connector.client(env.session, { limiter: new RecordingLimiter() });
    env.sandbox.faults.expireAccessTokens();
    await env.client.listPipelineStages();
    await expect(other.listPipelineStages()).resolves.toHaveLength(10);
    expect(env.session.disconnects).toEqual([]);
    expect(env.session.saved).toHaveLength(1);
  });

  it('marks the installation disconnected once when the refresh token is revoked, then fails fast', async () => {
    env = await connectSandbox();
    env.sandbox.faults.revokeRefreshTokens();
    const err = await env.client.listPipelineStages().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrmError);
    expect(err).toMatchObject({ code: 'auth_revoked', retryable: false });
    expect(env.session.disconnects).toHaveLength(1);

    const calls = env.sandbox.state.requests.length;
    await expect(env.client.getDeals(['0065g00000RfRl1AAF'])).rejects.toMatchObject({ code: 'auth_revoked' });
    expect(env.sandbox.state.requests.length).toBe(calls);
    expect(env.session.disconnects).toHaveLength(1);
  });

  it('disconnects an access-token-only installation once its token expires', async () => {
    env = await connectSandbox();
    const session = new TestSession(env.session.accountId, { accessToken: env.sandbox.issueAccessToken(), instanceUrl: env.url });
    const client = await env.connector.client(session, { limiter: new RecordingLimiter() });
    await client.listPipelineStages();
    env.sandbox.faults.expireAccessTokens();
    await expect(client.listPipelineStages()).rejects.toMatchObject({ code: 'auth_revoked' });
    expect(session.disconnects).toHaveLength(1);
  });

  it('does not loop when a refreshed token is refused again', async () => {
    env = await connectSandbox();
    env.sandbox.faults.failNext('INVALID_SESSION_ID', 2);
    await expect(env.client.listPipelineStages()).rejects.toMatchObject({ code: 'auth_expired', retryable: true });
    expect(env.session.disconnects).toEqual([]);
  });
});

describe('Salesforce API limits', () => {
  it('holds the org bucket off on REQUEST_LIMIT_EXCEEDED instead of retrying hot', async () => {
    env = await connectSandbox({ dailyApiLimit: 1_000 });
    env.sandbox.faults.setApiUsage(1_000);
    const err = await env.client.listPipelineStages().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: DAILY_LIMIT_HOLD_MS,
      options: { vendorCode: 'REQUEST_LIMIT_EXCEEDED' },
    });
    expect(env.limiter.holdOffs).toEqual([{ bucket: bucket(env), ms: DAILY_LIMIT_HOLD_MS }]);
    expect(env.sandbox.state.requests.filter((r) => r.status === 403)).toHaveLength(1);
  });

  it('stops at the usage ceiling read from Sforce-Limit-Info, before the org runs out', async () => {
    env = await connectSandbox({ dailyApiLimit: 10_000 }, { apiUsageCeiling: 0.9 });
    env.sandbox.faults.setApiUsage(8_999);
    await env.client.listPipelineStages();
    const calls = env.sandbox.state.requests.length;
    const err = await env.client.listPipelineStages().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rate_limited', retryAfterMs: DAILY_LIMIT_HOLD_MS, options: { vendorCode: 'API_USAGE_CEILING' } });
    expect(env.sandbox.state.requests.length).toBe(calls);
    expect(env.limiter.holdOffs).toEqual([{ bucket: bucket(env), ms: DAILY_LIMIT_HOLD_MS }]);
  });

  it('takes one limiter token per API call, in the org bucket', async () => {
    env = await connectSandbox({ queryBatchSize: 4 });
    await env.client.listPipelineStages();
    expect(env.limiter.takes).toEqual(Array(3).fill(bucket(env)));
    expect(env.sandbox.state.requests).toHaveLength(3);
  });

  it('retries idempotent POST/PATCH calls on 5xx and lock errors, which jsforce does not', async () => {
    env = await connectSandbox();
    const account = env.sandbox.actions.createAccount({ Name: 'Globex' });
    env.sandbox.faults.failNext(503, 1, { method: 'POST', path: '/composite' });
    await expect(env.client.getCompanies([account.Id as string])).resolves.toMatchObject({ records: [{ id: account.Id }] });
    env.sandbox.faults.failNext('UNABLE_TO_LOCK_ROW', 1, { method: 'PATCH' });
    await expect(
      env.client.write([{ target: 'company', companyId: account.Id as string, fields: { eligible: true, eligibilityReason: 'ok' } }]),
    ).resolves.toEqual([{ index: 0, ok: true }]);
    expect(env.sandbox.state.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 503', 'POST 200', 'PATCH 400', 'PATCH 200']);
  });
});

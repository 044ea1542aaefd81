import { afterEach, describe, expect, it } from 'vitest';
import { CrmError } from '../../../connectors/connector.ts';
import { createSalesforceConnector } from '../../../connectors/salesforce/index.ts';
import { createSalesforceSandbox, type SalesforceSandbox } from '../../../connectors/salesforce/sandbox/index.ts';
import { REDIRECT_URI, authorize } from '../../fixtures/salesforce/harness.ts';

let sandbox: SalesforceSandbox;
afterEach(() => sandbox.close());

async function setup() {
  sandbox = createSalesforceSandbox({ clientId: '3MVG9test', clientSecret: 'consumer-secret', orgId: '00D5g00000KqRfLEAV' });
  const { url } = await sandbox.listen();
  return createSalesforceConnector({ clientId: '3MVG9test', clientSecret: 'consumer-secret', loginUrl: url });
}

describe('Salesforce OAuth against the sandbox', () => {
  it('installs through the web-server flow with PKCE and state, checking the signed identity', async () => {
    const { oauth } = await setup();
    const start = oauth.start({ state: 'st-42', redirectUri: REDIRECT_URI });
    const callback = await authorize(start.url);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('st-42');

    const grant = await oauth.exchangeCode({
      code: callback.searchParams.get('code') ?? '',
      redirectUri: REDIRECT_URI,
      codeVerifier: start.codeVerifier,
    });
    expect(grant.accountId).toBe('00D5g00000KqRfLEAV');
    expect(grant.tokens).toMatchObject({ instanceUrl: sandbox.state.instanceUrl(), scopes: ['api', 'refresh_token'] });
    expect(grant.tokens.refreshToken).toBeTruthy();
    await expect(oauth.identify(grant.tokens)).resolves.toMatchObject({ accountId: '00D5g00000KqRfLEAV' });
  });

  it('fails the exchange without the verifier, with a wrong one, and on a reused code', async () => {
    const { oauth } = await setup();
    const exchange = async (codeVerifier: string | undefined, reuse = false) => {
      const start = oauth.start({ state: 's', redirectUri: REDIRECT_URI });
      const code = (await authorize(start.url)).searchParams.get('code') ?? '';
      if (reuse) await oauth.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: start.codeVerifier });
      return oauth.exchangeCode({
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: codeVerifier ?? (reuse ? start.codeVerifier : undefined),
      });
    };
    await expect(exchange(undefined)).rejects.toMatchObject({ options: { vendorCode: 'invalid_grant' } });
    await expect(exchange('not-the-verifier-not-the-verifier-not-the-verifier')).rejects.toMatchObject({
      code: 'invalid',
      options: { vendorCode: 'invalid_request' },
    });
    await expect(exchange(undefined, true)).rejects.toBeInstanceOf(CrmError);
  });

  it('refreshes tokens and reports a revoked refresh token as auth_revoked', async () => {
    const { oauth } = await setup();
    const start = oauth.start({ state: 's', redirectUri: REDIRECT_URI });
    const code = (await authorize(start.url)).searchParams.get('code') ?? '';
    const { tokens } = await oauth.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: start.codeVerifier });

    const refreshed = await oauth.refresh(tokens);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);

    sandbox.faults.revokeRefreshTokens();
    await expect(oauth.refresh(tokens)).rejects.toMatchObject({ code: 'auth_revoked', retryable: false });
  });

  it('rejects a connector whose consumer secret does not match', async () => {
    await setup();
    const wrong = createSalesforceConnector({ clientId: '3MVG9test', clientSecret: 'other', loginUrl: sandbox.state.instanceUrl() });
    const start = wrong.oauth.start({ state: 's', redirectUri: REDIRECT_URI });
    const code = (await authorize(start.url)).searchParams.get('code') ?? '';
    await expect(wrong.oauth.exchangeCode({ code, redirectUri: REDIRECT_URI, codeVerifier: start.codeVerifier })).rejects.toMatchObject({
      code: 'invalid',
      options: { vendorCode: 'invalid_client' },
    });
  });
});

/**
 * Who granted a token, as the connectors read it from each sandbox CRM: the sandboxes serve
 * several users (the authorize request's `login_hint` names who consents), and their identity
 * answers have the documented shapes (HubSpot's access-token info sample, copied into
 * tests/fixtures; Salesforce's identity URL and userinfo fields).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { createSalesforceConnector } from '../../connectors/salesforce/index.ts';
import { createSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { connectorFor, REDIRECT_URI } from '../fixtures/hubspot/install.ts';
import { sampleJson } from '../fixtures/hubspot/samples.ts';
import { authorize, REDIRECT_URI as SF_REDIRECT_URI } from '../fixtures/salesforce/harness.ts';

let hubspot: HubSpotSandbox | undefined;
let salesforce: SalesforceSandbox | undefined;
afterEach(async () => {
  await hubspot?.close();
  await salesforce?.close();
  hubspot = salesforce = undefined;
});

const withHint = (url: string, hint: string) => {
  const u = new URL(url);
  u.searchParams.set('login_hint', hint);
  return u.toString();
};

describe('HubSpot sandbox users', () => {
  it('the consenting user is the one login_hint names, told by token info in the documented shape', async () => {
    hubspot = createHubSpotSandbox();
    const { url } = await hubspot.listen(0);
    const connector = connectorFor(hubspot, url);
    const consent = await fetch(
      withHint(connector.oauth.start({ state: 's', redirectUri: REDIRECT_URI }).url, 'casey.success@sandbox-portal.example'),
      {
        redirect: 'manual',
      },
    );
    const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
    const grant = await connector.oauth.exchangeCode({ code, redirectUri: REDIRECT_URI });
    expect(grant.user).toEqual({ id: '9000002', email: 'casey.success@sandbox-portal.example' });

    const info = (await (await fetch(`${url}/oauth/v1/access-tokens/${grant.tokens.accessToken}`)).json()) as Record<string, unknown>;
    const documented = sampleJson<Record<string, unknown>>('api/oauth-access-token-info.response.json');
    expect(Object.keys(info)).toEqual(expect.arrayContaining(Object.keys(documented)));
    expect(info).toMatchObject({
      user: 'casey.success@sandbox-portal.example',
      user_id: 9000002,
      hub_id: Number(grant.accountId),
    });

    // Without a hint the installer consents; an unknown user cannot.
    const installer = await fetch(connector.oauth.start({ state: 's', redirectUri: REDIRECT_URI }).url, { redirect: 'manual' });
    const installerGrant = await connector.oauth.exchangeCode({
      code: new URL(installer.headers.get('location')!).searchParams.get('code')!,
      redirectUri: REDIRECT_URI,
    });
    expect(installerGrant.user).toEqual({ id: '71820451', email: 'sales@sandbox.example' });
    const unknown = await fetch(
      withHint(connector.oauth.start({ state: 's', redirectUri: REDIRECT_URI }).url, 'nobody@elsewhere.example'),
      {
        redirect: 'manual',
      },
    );
    expect(unknown.status).toBe(400);
  });
});

describe('Salesforce sandbox users', () => {
  it("the consenting user is the username login_hint names; the identity URL and userinfo tell that user's id, org and email", async () => {
    salesforce = createSalesforceSandbox({ clientId: '3MVG9users', clientSecret: 'users-secret', orgId: '00D5g00000KqRfLEAV' });
    const { url } = await salesforce.listen();
    const { oauth } = createSalesforceConnector({ clientId: '3MVG9users', clientSecret: 'users-secret', loginUrl: url });
    const start = oauth.start({ state: 's', redirectUri: SF_REDIRECT_URI });
    const callback = await authorize(withHint(start.url, 'second.admin@sandbox.example'));
    const grant = await oauth.exchangeCode({
      code: callback.searchParams.get('code')!,
      redirectUri: SF_REDIRECT_URI,
      codeVerifier: start.codeVerifier,
    });
    expect(grant.accountId).toBe('00D5g00000KqRfLEAV');
    expect(grant.user).toMatchObject({ email: 'second.admin@sandbox.example', name: 'Second Admin' });
    expect(grant.user!.id).toMatch(/^005\w{15}$/);

    const userinfo = (await (
      await fetch(`${url}/services/oauth2/userinfo`, { headers: { authorization: `Bearer ${grant.tokens.accessToken}` } })
    ).json()) as Record<string, unknown>;
    expect(userinfo).toMatchObject({
      user_id: grant.user!.id,
      organization_id: '00D5g00000KqRfLEAV',
      email: 'second.admin@sandbox.example',
      name: 'Second Admin',
      preferred_username: 'second.admin@sandbox.example',
    });
    expect((await fetch(`${url}/services/oauth2/userinfo`, { headers: { authorization: 'Bearer forged' } })).status).toBe(403);

    const denied = await authorize(withHint(oauth.start({ state: 's', redirectUri: SF_REDIRECT_URI }).url, 'nobody@elsewhere.example'));
    expect(denied.searchParams.get('error')).toBe('access_denied');
  });
});

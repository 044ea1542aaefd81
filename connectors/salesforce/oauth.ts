import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Connection, OAuth2, type TokenResponse } from 'jsforce';
import { CrmError, type CrmOAuth, type OAuthGrant, type TokenSet } from '../connector.ts';
import { toCrmError } from './errors.ts';
import { toId18 } from './ids.ts';
import type { SalesforceSettings } from './settings.ts';

export const SALESFORCE_SCOPES = ['api', 'refresh_token'] as const;

export interface SalesforceOAuth extends CrmOAuth {
  /** The raw refresh grant (signature checked), for the client's jsforce refresh hook. */
  refreshGrant(refreshToken: string): Promise<TokenResponse>;
}

const base64url = (buf: Buffer) => buf.toString('base64url');

/**
 * `signature` = base64(HMAC-SHA256(client secret, id + issued_at)): proves the identity URL
 * (and so the org id) came from Salesforce unaltered.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_understanding_refresh_token_oauth.htm
 */
export function verifyTokenSignature(res: { id: string; issued_at: string; signature: string }, clientSecret: string): boolean {
  const expected = createHmac('sha256', clientSecret).update(`${res.id}${res.issued_at}`).digest();
  const given = Buffer.from(res.signature ?? '', 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The identity URL is `https://login.salesforce.com/id/<orgId>/<userId>`. */
export function orgIdFromIdentityUrl(identityUrl: string): string {
  const orgId = new URL(identityUrl).pathname.split('/').at(-2) ?? '';
  return toId18(orgId);
}

export function toTokenSet(res: TokenResponse, previousRefreshToken?: string): TokenSet {
  return {
    accessToken: res.access_token,
    refreshToken: res.refresh_token ?? previousRefreshToken,
    instanceUrl: res.instance_url,
    scopes: res.scope ? res.scope.split(' ') : undefined,
  };
}

interface Identity {
  user_id: string;
  organization_id: string;
  email: string;
  display_name?: string;
}

/**
 * Who granted a token: its identity URL (`id`), read with the token, tells `user_id`, `email` and
 * `display_name`. https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_openid.htm
 */
async function grantingUser(res: TokenResponse): Promise<NonNullable<OAuthGrant['user']>> {
  let response: Response;
  try {
    response = await fetch(`${res.id}?format=json`, {
      headers: { authorization: `Bearer ${res.access_token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw toCrmError(cause);
  }
  if (!response.ok)
    throw new CrmError('invalid', `Salesforce identity URL answered ${response.status}`, { retryable: response.status >= 500 });
  const identity = (await response.json()) as Identity;
  return { id: toId18(identity.user_id), email: identity.email, ...(identity.display_name ? { name: identity.display_name } : {}) };
}

export function createSalesforceOAuth(settings: SalesforceSettings): SalesforceOAuth {
  const { clientId, clientSecret, loginUrl, apiVersion } = settings;

  const checked = (res: TokenResponse): TokenResponse => {
    if (!verifyTokenSignature(res, clientSecret)) {
      const hint = 'is SALESFORCE_CLIENT_SECRET the consumer secret of this connected app?';
      throw new CrmError('invalid', `Salesforce token response signature mismatch: ${hint}`, { retryable: false });
    }
    return res;
  };

  const refreshGrant = async (refreshToken: string): Promise<TokenResponse> => {
    // https://help.salesforce.com/s/articleView?id=remoteaccess_oauth_refresh_token_flow.htm
    const oauth2 = new OAuth2({ clientId, clientSecret, loginUrl });
    const res = await oauth2.refreshToken(refreshToken).catch((err: unknown) => {
      throw toCrmError(err);
    });
    return checked(res);
  };

  return {
    scopes: SALESFORCE_SCOPES,

    start({ state, redirectUri }) {
      const codeVerifier = base64url(randomBytes(64));
      const codeChallenge = base64url(createHash('sha256').update(codeVerifier).digest());
      // Web server flow with PKCE: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm
      const url = new OAuth2({ clientId, loginUrl, redirectUri }).getAuthorizationUrl({
        scope: SALESFORCE_SCOPES.join(' '),
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      });
      return { url, codeVerifier };
    },

    async exchangeCode({ code, redirectUri, codeVerifier }): Promise<OAuthGrant> {
      const oauth2 = new OAuth2({ clientId, clientSecret, loginUrl, redirectUri });
      // https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_understanding_web_server_oauth_flow.htm
      const res = await oauth2.requestToken(code, codeVerifier ? { code_verifier: codeVerifier } : {}).catch((err: unknown) => {
        throw toCrmError(err);
      });
      checked(res);
      return { accountId: orgIdFromIdentityUrl(res.id), tokens: toTokenSet(res), user: await grantingUser(res) };
    },

    async refresh(tokens) {
      if (!tokens.refreshToken) {
        throw new CrmError('auth_revoked', 'no Salesforce refresh token: reinstall to grant offline access', { retryable: false });
      }
      return toTokenSet(await refreshGrant(tokens.refreshToken), tokens.refreshToken);
    },

    async identify(tokens) {
      if (!tokens.instanceUrl) throw new CrmError('invalid', 'a Salesforce token needs its instance URL', { retryable: false });
      const conn = new Connection({ version: apiVersion, instanceUrl: tokens.instanceUrl, accessToken: tokens.accessToken });
      // The identity URL, `id` of the token response:
      // https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_understanding_web_server_oauth_flow.htm
      const info = await conn.identity().catch((err: unknown) => {
        throw toCrmError(err);
      });
      return { accountId: toId18(info.organization_id), accountName: info.username, tokens };
    },

    refreshGrant,
  };
}

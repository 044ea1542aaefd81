import type { CrmOAuth, OAuthGrant, TokenSet } from '../connector.ts';
import { toCrmError } from './errors.ts';

/**
 * The scopes Referloop asks for (https://developers.hubspot.com/docs/api/working-with-oauth, plus
 * what provisioning needs): read/write the CRM records it follows and annotates, and create its
 * properties (`crm.schemas.*.write`).
 * Keep in step with app-manifest/hubspot/src/app/app-hsmeta.json (a unit test checks).
 */
export const HUBSPOT_SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.objects.companies.read',
  'crm.objects.companies.write',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.schemas.contacts.write',
  'crm.schemas.companies.write',
  'crm.schemas.deals.write',
  // Owner emails, so internal notices reach the deal owner or CS owner.
  'crm.objects.owners.read',
] as const;

/**
 * Asked for, not required: a portal whose tier or admin does not grant it still installs. Without
 * it, deals in the company currency are paid as usual and those in others wait for a rate.
 * Keep in step with the manifest's optionalScopes.
 */
export const HUBSPOT_OPTIONAL_SCOPES = ['settings.currencies.read'] as const;

export interface HubSpotOAuthConfig {
  clientId: string;
  clientSecret: string;
  apiBaseUrl: string;
  authorizeUrl: string;
  fetch?: typeof fetch;
}

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
}

interface AccessTokenInfo {
  hub_id: number;
  /** The granting user's email and id. */
  user?: string;
  user_id?: number;
  hub_domain?: string;
  scopes?: string[];
  expires_in?: number;
}

export function createHubSpotOAuth(config: HubSpotOAuthConfig): CrmOAuth {
  const doFetch = config.fetch ?? fetch;
  const base = config.apiBaseUrl.replace(/\/+$/, '');

  async function call<T>(what: string, url: string, init: RequestInit, opts: { refresh?: boolean } = {}): Promise<T> {
    let response: Response;
    try {
      response = await doFetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    } catch (cause) {
      throw toCrmError({ status: 0, cause }, what);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text for the error message
    }
    if (!response.ok) throw toCrmError({ status: response.status, body, retryAfter: response.headers.get('retry-after') }, what, opts);
    return body as T;
  }

  // https://developers.hubspot.com/docs/api/oauth/tokens — form-encoded, client credentials in the body.
  function token(what: string, fields: Record<string, string>, opts: { refresh?: boolean } = {}): Promise<TokenResponse> {
    const form = new URLSearchParams({ ...fields, client_id: config.clientId, client_secret: config.clientSecret });
    return call<TokenResponse>(
      what,
      `${base}/oauth/v1/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      },
      opts,
    );
  }

  function toTokenSet(response: TokenResponse, previous?: TokenSet): TokenSet {
    return {
      accessToken: response.access_token,
      // HubSpot keeps the refresh token across refreshes; keep ours if the answer leaves it out.
      refreshToken: response.refresh_token ?? previous?.refreshToken,
      expiresAt: new Date(Date.now() + response.expires_in * 1000).toISOString(),
      scopes: previous?.scopes,
    };
  }

  // https://developers.hubspot.com/docs/api/oauth/tokens — token metadata names the portal (hub_id).
  async function identify(tokens: TokenSet): Promise<OAuthGrant> {
    const info = await call<AccessTokenInfo>(
      'HubSpot token info',
      `${base}/oauth/v1/access-tokens/${encodeURIComponent(tokens.accessToken)}`,
      {
        headers: { accept: 'application/json' },
      },
    );
    const expiresAt =
      tokens.expiresAt ?? (info.expires_in === undefined ? undefined : new Date(Date.now() + info.expires_in * 1000).toISOString());
    return {
      accountId: String(info.hub_id),
      accountName: info.hub_domain,
      tokens: { ...tokens, expiresAt, scopes: info.scopes },
      ...(info.user && info.user_id !== undefined ? { user: { id: String(info.user_id), email: info.user } } : {}),
    };
  }

  return {
    scopes: HUBSPOT_SCOPES,

    // https://developers.hubspot.com/docs/api/working-with-oauth — scopes space-separated, as %20.
    start({ state, redirectUri }) {
      const query = Object.entries({
        client_id: config.clientId,
        redirect_uri: redirectUri,
        scope: HUBSPOT_SCOPES.join(' '),
        optional_scope: HUBSPOT_OPTIONAL_SCOPES.join(' '),
        state,
      })
        .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
        .join('&');
      return { url: `${config.authorizeUrl}?${query}` };
    },

    async exchangeCode({ code, redirectUri }): Promise<OAuthGrant> {
      const response = await token('HubSpot code exchange', { grant_type: 'authorization_code', code, redirect_uri: redirectUri });
      return identify(toTokenSet(response));
    },

    identify,

    async refresh(tokens) {
      if (!tokens.refreshToken)
        throw toCrmError({ status: 400, body: { error: 'invalid_grant', message: 'no refresh token stored' } }, 'HubSpot token refresh', {
          refresh: true,
        });
      const response = await token(
        'HubSpot token refresh',
        { grant_type: 'refresh_token', refresh_token: tokens.refreshToken },
        { refresh: true },
      );
      return toTokenSet(response, tokens);
    },
  };
}

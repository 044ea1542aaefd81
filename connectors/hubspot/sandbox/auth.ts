import { randomBytes, randomUUID } from 'node:crypto';
import { HttpError, hubspotError } from './http.ts';

/**
 * OAuth as https://developers.hubspot.com/docs/api/oauth/tokens describes it: authorization codes,
 * 30-minute access tokens, long-lived refresh tokens, token metadata, revocation.
 */

export interface AuthOptions {
  clientId: string;
  clientSecret: string;
  appId: number;
  portalId: number;
  accessTokenTtlSeconds: number;
  /** The portal's users who may authorize apps; the first is who consents when no one is named. */
  users?: SandboxUser[];
}

/** A HubSpot user, as token info tells it (`user_id`, `user`). */
export interface SandboxUser {
  id: number;
  email: string;
}

interface AccessToken {
  userId: number;
  scopes: string[];
  expiresAt: number;
  refreshToken: string;
}

const INSTALLER: SandboxUser = { id: 71820451, email: 'sales@sandbox.example' };

/** The 400 HubSpot answers on the token endpoint, e.g. `BAD_REFRESH_TOKEN` with `invalid_grant`. */
function grantError(status: string, message: string, error = 'invalid_grant'): HttpError {
  return new HttpError(400, {
    status,
    message,
    error,
    error_description: message,
    correlationId: randomUUID(),
    category: 'VALIDATION_ERROR',
  });
}

const token = (prefix: string) => `${prefix}-${randomBytes(24).toString('base64url')}`;

export class SandboxAuth {
  /** Optional scopes this portal does not grant (a tier without multi-currency, an admin who unticked it). */
  readonly withheldScopes = new Set<string>();
  private readonly codes = new Map<string, { redirectUri: string; scopes: string[]; userId: number; expiresAt: number }>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, { scopes: string[]; userId: number }>();
  readonly users: SandboxUser[];

  constructor(private readonly options: AuthOptions) {
    this.users = options.users?.length ? options.users : [INSTALLER];
  }

  private user(id: number): SandboxUser {
    return this.users.find((u) => u.id === id) ?? { id, email: `user-${id}@sandbox.example` };
  }

  /** GET /oauth/authorize: consent is automatic; like a development app, only local redirect URIs are allowed. */
  authorize(query: URLSearchParams): string {
    const redirectUri = query.get('redirect_uri') ?? '';
    let target: URL;
    try {
      target = new URL(redirectUri);
    } catch {
      throw hubspotError(400, 'VALIDATION_ERROR', 'redirect_uri is missing or not a URL');
    }
    if (query.get('client_id') !== this.options.clientId) throw hubspotError(400, 'VALIDATION_ERROR', 'Unknown client_id');
    if (!['localhost', '127.0.0.1'].includes(target.hostname)) {
      throw hubspotError(
        400,
        'VALIDATION_ERROR',
        `redirect_uri ${redirectUri} is not allowed: this development app accepts localhost only`,
      );
    }
    const required = (query.get('scope') ?? '').split(/[\s+]+/).filter(Boolean);
    if (!required.length) throw hubspotError(400, 'VALIDATION_ERROR', 'scope is required');
    // Optional scopes are granted when the portal allows them (all of them here, unless a test withholds some).
    const optional = (query.get('optional_scope') ?? '').split(/[\s+]+/).filter((s) => s && !this.withheldScopes.has(s));
    const scopes = [...required, ...optional];
    // Who is signed in to HubSpot in this browser: the user `login_hint` names (a sandbox stand-in for
    // HubSpot's own login), else the installer.
    const hint = query.get('login_hint');
    const user = hint ? this.users.find((u) => u.email === hint) : this.users[0];
    if (!user) throw hubspotError(400, 'VALIDATION_ERROR', `No user ${hint} in portal ${this.options.portalId}`);
    const code = randomUUID();
    this.codes.set(code, { redirectUri, scopes, userId: user.id, expiresAt: Date.now() + 10 * 60_000 });
    target.searchParams.set('code', code);
    const state = query.get('state');
    if (state !== null) target.searchParams.set('state', state);
    return target.toString();
  }

  /** POST /oauth/v1/token, form-encoded. */
  grant(form: URLSearchParams) {
    if (form.get('client_id') !== this.options.clientId || form.get('client_secret') !== this.options.clientSecret) {
      throw grantError('BAD_CLIENT_ID', 'missing or unknown client id or secret', 'invalid_client');
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      if (!code || code.expiresAt < Date.now()) throw grantError('BAD_AUTH_CODE', 'missing or unknown auth code');
      if (code.redirectUri !== form.get('redirect_uri'))
        throw grantError('BAD_REDIRECT_URI', 'redirect_uri does not match the one used to authorize');
      return this.tokenResponse(this.issue(code.scopes, undefined, undefined, code.userId));
    }
    if (grantType === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? '';
      const known = this.refreshTokens.get(refreshToken);
      if (!known) throw grantError('BAD_REFRESH_TOKEN', 'missing or invalid refresh token');
      return this.tokenResponse(this.issue(known.scopes, undefined, refreshToken, known.userId));
    }
    throw grantError('BAD_GRANT_TYPE', 'grant_type must be authorization_code or refresh_token', 'unsupported_grant_type');
  }

  /** Mint tokens directly (for tests that skip the consent page). */
  issue(scopes: string[], ttlSeconds = this.options.accessTokenTtlSeconds, refreshToken = token('sbx-rt'), userId = this.users[0]!.id) {
    const accessToken = token('sbx-at');
    const expiresAt = Date.now() + ttlSeconds * 1000;
    this.refreshTokens.set(refreshToken, { scopes, userId });
    this.accessTokens.set(accessToken, { scopes, expiresAt, refreshToken, userId });
    return { accessToken, refreshToken, expiresAt: new Date(expiresAt).toISOString(), expiresIn: ttlSeconds, scopes, userId };
  }

  private tokenResponse(issued: ReturnType<SandboxAuth['issue']>) {
    return {
      token_type: 'bearer',
      access_token: issued.accessToken,
      refresh_token: issued.refreshToken,
      expires_in: issued.expiresIn,
      token_use: 'access_token',
      hub_id: this.options.portalId,
      user_id: issued.userId,
      scopes: issued.scopes,
    };
  }

  /** GET /oauth/v1/access-tokens/{token} (`AccessTokenInfoResponse`). */
  accessTokenInfo(accessToken: string) {
    const known = this.accessTokens.get(accessToken);
    if (!known) throw hubspotError(404, 'OBJECT_NOT_FOUND', 'access token not found');
    const { appId, portalId } = this.options;
    const user = this.user(known.userId);
    return {
      token: accessToken,
      user: user.email,
      hub_domain: `portal-${portalId}.sandbox.example`,
      scopes: known.scopes,
      hub_id: portalId,
      app_id: appId,
      expires_in: Math.max(0, Math.floor((known.expiresAt - Date.now()) / 1000)),
      user_id: user.id,
      token_type: 'access',
      is_private_distribution: false,
      signed_access_token: {
        expiresAt: known.expiresAt,
        scopes: 'AAEAAAAQ==',
        hubId: portalId,
        userId: user.id,
        appId,
        signature: 'sandbox',
        scopeToScopeGroupPks: 'AAAA',
        newSignature: 'sandbox',
        hublet: 'na1',
        trialScopes: '',
        trialScopeToScopeGroupPks: '',
        isUserLevel: false,
        installingUserId: this.users[0]!.id,
        isServiceAccount: false,
        isPrivateDistribution: false,
        appInstallId: `${appId}-${portalId}`,
        audience: String(appId),
      },
    };
  }

  /** GET /oauth/v1/refresh-tokens/{token} (`RefreshTokenInfoResponse`). */
  refreshTokenInfo(refreshToken: string) {
    const known = this.refreshTokens.get(refreshToken);
    if (!known) throw hubspotError(404, 'OBJECT_NOT_FOUND', 'refresh token not found');
    const { clientId, portalId } = this.options;
    const user = this.user(known.userId);
    return {
      token: refreshToken,
      user: user.email,
      hub_domain: `portal-${portalId}.sandbox.example`,
      scopes: known.scopes,
      hub_id: portalId,
      client_id: clientId,
      user_id: user.id,
      token_type: 'refresh',
    };
  }

  /**
   * DELETE /oauth/v1/refresh-tokens/{token}: access tokens already issued keep working
   * (https://developers.hubspot.com/docs/api/oauth/tokens).
   */
  revokeRefreshToken(refreshToken: string): boolean {
    return this.refreshTokens.delete(refreshToken);
  }

  revokeAllRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  expireAccessTokens(): void {
    for (const known of this.accessTokens.values()) known.expiresAt = Math.min(known.expiresAt, Date.now() - 1000);
  }

  /** Bearer auth on API calls; the 401 bodies follow HubSpot's INVALID/EXPIRED_AUTHENTICATION answers. */
  authenticate(header: string | undefined, anyOfScopes: string[]): void {
    const bearer = /^Bearer (.+)$/i.exec(header ?? '')?.[1];
    const known = bearer ? this.accessTokens.get(bearer) : undefined;
    if (!known) {
      throw hubspotError(
        401,
        'INVALID_AUTHENTICATION',
        'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
      );
    }
    const expiredFor = Math.ceil((Date.now() - known.expiresAt) / 1000);
    if (expiredFor > 0)
      throw hubspotError(401, 'EXPIRED_AUTHENTICATION', `The OAuth token used to make this call expired ${expiredFor} second(s) ago.`);
    if (anyOfScopes.length && !anyOfScopes.some((scope) => known.scopes.includes(scope))) {
      throw hubspotError(
        403,
        'MISSING_SCOPES',
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
        {
          errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: anyOfScopes } }],
        },
      );
    }
  }
}

import { createHash, createHmac, randomBytes } from 'node:crypto';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A user of the org, as the identity URL and userinfo tell it. */
export interface SandboxUser {
  id: string;
  name: string;
  email: string;
  username: string;
}

interface AuthCode {
  userId: string;
  clientId: string;
  redirectUri: string;
  challenge: string | null;
  scope: string;
  expiresAt: number;
}

const CODE_TTL_MS = 15 * 60_000;

const tokenError = (error: string, description: string): Reply => ({ status: 400, body: { error, error_description: description } });

/**
 * Web-server flow with PKCE, refresh grant, revoke and the identity URL, as a connected app sees them.
 * https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm
 */
export class SandboxOAuth {
  private codes = new Map<string, AuthCode>();
  /** access token → the refresh token it came from, the user it acts for, and whether it still works. */
  private accessTokens = new Map<string, { refreshToken: string | null; userId: string; valid: boolean }>();
  private refreshTokens = new Map<string, { valid: boolean; scope: string; userId: string }>();

  constructor(
    private readonly o: {
      clientId: string;
      clientSecret: string;
      orgId: string;
      /** The installing admin: who consents when the authorize request names no one. */
      userId: () => string;
      users: () => SandboxUser[];
      rotateRefreshTokens: boolean;
    },
  ) {}

  isValidAccessToken(token: string): boolean {
    return this.accessTokens.get(token)?.valid === true;
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.valid = false;
  }

  /** Revoking a refresh token also revokes the access tokens issued from it. */
  revokeRefreshTokens(): void {
    for (const t of this.refreshTokens.values()) t.valid = false;
    this.expireAccessTokens();
  }

  /** Test hook: an access token for `connect salesforce` style installs, no OAuth dance. */
  issueAccessToken(): string {
    return this.newAccessToken(null, this.o.userId());
  }

  authorize(query: URLSearchParams): Reply {
    const redirectUri = query.get('redirect_uri');
    if (query.get('client_id') !== this.o.clientId || !redirectUri) {
      const body = 'error=invalid_client_id&error_description=client%20identifier%20invalid';
      return { status: 400, body, headers: { 'content-type': 'text/plain' } };
    }
    const back = new URL(redirectUri);
    const state = query.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const method = query.get('code_challenge_method');
    if (query.get('response_type') !== 'code' || (method !== null && method !== 'S256')) {
      back.searchParams.set('error', query.get('response_type') !== 'code' ? 'unsupported_response_type' : 'invalid_request');
      return { status: 302, headers: { location: back.toString() } };
    }
    // Auto-approved. The user signed in to the org is the one `login_hint` names (a username, as
    // Salesforce takes it), else the installing admin.
    const hint = query.get('login_hint');
    const user = hint ? this.o.users().find((u) => u.username === hint) : this.user(this.o.userId());
    if (!user) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', `no user ${hint} in this org`);
      return { status: 302, headers: { location: back.toString() } };
    }
    const code = `aPrx${randomBytes(24).toString('base64url')}`;
    this.codes.set(code, {
      userId: user.id,
      clientId: this.o.clientId,
      redirectUri,
      challenge: query.get('code_challenge'),
      scope: query.get('scope') ?? 'api refresh_token',
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    back.searchParams.set('code', code);
    return { status: 302, headers: { location: back.toString() } };
  }

  token(form: URLSearchParams, authorization: string | undefined, baseUrl: string): Reply {
    const basic = authorization?.startsWith('Basic ') ? Buffer.from(authorization.slice(6), 'base64').toString().split(':') : [];
    const clientId = form.get('client_id') ?? basic[0];
    const clientSecret = form.get('client_secret') ?? basic[1];
    if (clientId !== this.o.clientId || clientSecret !== this.o.clientSecret)
      return tokenError('invalid_client', 'invalid client credentials');

    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      if (!code || code.expiresAt < Date.now()) return tokenError('invalid_grant', 'invalid authorization code');
      if (code.redirectUri !== form.get('redirect_uri')) return tokenError('invalid_grant', 'redirect_uri must match configuration');
      const verifier = form.get('code_verifier');
      if (code.challenge !== null) {
        if (!verifier) return tokenError('invalid_grant', 'invalid code verifier');
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (challenge !== code.challenge) return tokenError('invalid_request', 'invalid code verifier');
      }
      const refreshToken = code.scope.split(' ').includes('refresh_token') ? this.newRefreshToken(code.scope, code.userId) : null;
      return this.tokenResponse(baseUrl, this.newAccessToken(refreshToken, code.userId), refreshToken, code.scope, code.userId);
    }
    if (grant === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const known = this.refreshTokens.get(presented);
      if (!known?.valid) return tokenError('invalid_grant', 'expired access/refresh token');
      let refreshToken = presented;
      if (this.o.rotateRefreshTokens) {
        known.valid = false;
        refreshToken = this.newRefreshToken(known.scope, known.userId);
      }
      return this.tokenResponse(
        baseUrl,
        this.newAccessToken(refreshToken, known.userId),
        this.o.rotateRefreshTokens ? refreshToken : null,
        known.scope,
        known.userId,
      );
    }
    return tokenError('unsupported_grant_type', 'grant type not supported');
  }

  revoke(form: URLSearchParams): Reply {
    const token = form.get('token') ?? '';
    const refresh = this.refreshTokens.get(token);
    const access = this.accessTokens.get(token);
    if (!refresh && !access) return { status: 400, body: 'error=unsupported_token_type', headers: { 'content-type': 'text/plain' } };
    if (refresh) {
      refresh.valid = false;
      for (const a of this.accessTokens.values()) if (a.refreshToken === token) a.valid = false;
    }
    if (access) access.valid = false;
    return { status: 200 };
  }

  private user(id: string): SandboxUser | undefined {
    return this.o.users().find((u) => u.id === id);
  }

  /** The user a valid access token acts for. */
  private tokenUser(accessToken: string): SandboxUser | undefined {
    const known = this.accessTokens.get(accessToken);
    return known?.valid ? this.user(known.userId) : undefined;
  }

  /** `GET /id/{orgId}/{userId}`: the identity service, for the user the token acts for. */
  identity(accessToken: string, baseUrl: string, dataUrl: string): Reply {
    const user = this.tokenUser(accessToken);
    if (!user) return { status: 403, body: 'Bad_OAuth_Token', headers: { 'content-type': 'text/plain' } };
    return {
      status: 200,
      body: {
        id: `${baseUrl}/id/${this.o.orgId}/${user.id}`,
        asserted_user: true,
        user_id: user.id,
        organization_id: this.o.orgId,
        username: user.username,
        nick_name: user.username.split('@')[0],
        display_name: user.name,
        email: user.email,
        active: true,
        user_type: 'STANDARD',
        language: 'en_US',
        locale: 'en_US',
        utcOffset: 0,
        urls: { rest: `${dataUrl}/`, sobjects: `${dataUrl}/sobjects/`, query: `${dataUrl}/query/` },
      },
    };
  }

  /**
   * `GET /services/oauth2/userinfo`: the OpenID Connect claims of the token's user.
   * https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_userinfo_endpoint.htm
   */
  userinfo(accessToken: string, baseUrl: string): Reply {
    const user = this.tokenUser(accessToken);
    if (!user) return { status: 403, body: 'Bad_OAuth_Token', headers: { 'content-type': 'text/plain' } };
    return {
      status: 200,
      body: {
        sub: `${baseUrl}/id/${this.o.orgId}/${user.id}`,
        user_id: user.id,
        organization_id: this.o.orgId,
        preferred_username: user.username,
        nickname: user.username.split('@')[0],
        name: user.name,
        email: user.email,
        email_verified: true,
        active: true,
        user_type: 'STANDARD',
        language: 'en_US',
        locale: 'en_US',
        utcOffset: 0,
      },
    };
  }

  private newAccessToken(refreshToken: string | null, userId: string): string {
    const token = `${this.o.orgId.slice(0, 15)}!AQ${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(token, { refreshToken, userId, valid: true });
    return token;
  }

  private newRefreshToken(scope: string, userId: string): string {
    const token = `5Aep861${randomBytes(24).toString('base64url')}`;
    this.refreshTokens.set(token, { valid: true, scope, userId });
    return token;
  }

  private tokenResponse(baseUrl: string, accessToken: string, refreshToken: string | null, scope: string, userId: string): Reply {
    const id = `${baseUrl}/id/${this.o.orgId}/${userId}`;
    const issuedAt = String(Date.now());
    return {
      status: 200,
      body: {
        access_token: accessToken,
        ...(refreshToken ? { refresh_token: refreshToken } : {}),
        signature: createHmac('sha256', this.o.clientSecret)
          .update(id + issuedAt)
          .digest('base64'),
        scope,
        instance_url: baseUrl,
        id,
        token_type: 'Bearer',
        issued_at: issuedAt,
      },
    };
  }
}

import { randomBytes } from 'node:crypto';
import { CrmError, type CrmOAuth, type OAuthGrant, type TokenSet } from '../connector.ts';

export const FAKE_SCOPES = ['records.read', 'records.write'] as const;
const TOKEN_LIFETIME_MS = 30 * 60_000;

/** The fake's authorization server: codes, access tokens and refresh tokens it has issued. */
export class FakeAuth {
  private readonly codes = new Map<string, string>();
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Set<string>();

  constructor(
    readonly accountId: string,
    readonly accountName: string,
  ) {}

  issueCode(redirectUri: string): string {
    const code = `code-${randomBytes(8).toString('hex')}`;
    this.codes.set(code, redirectUri);
    return code;
  }

  /** A one-time code for the redirect URI it was issued to; undefined once used. */
  redeem(code: string, redirectUri: string): boolean {
    const issuedFor = this.codes.get(code);
    this.codes.delete(code);
    return issuedFor === redirectUri;
  }

  issueTokens(refreshToken = `refresh-${randomBytes(8).toString('hex')}`): TokenSet {
    const accessToken = `access-${randomBytes(8).toString('hex')}`;
    const expiresAt = Date.now() + TOKEN_LIFETIME_MS;
    this.accessTokens.set(accessToken, expiresAt);
    this.refreshTokens.add(refreshToken);
    return { accessToken, refreshToken, expiresAt: new Date(expiresAt).toISOString(), scopes: [...FAKE_SCOPES] };
  }

  accepts(accessToken: string): boolean {
    return (this.accessTokens.get(accessToken) ?? 0) > Date.now();
  }

  expiresAt(accessToken: string): string | undefined {
    const at = this.accessTokens.get(accessToken);
    return at === undefined ? undefined : new Date(at).toISOString();
  }

  knowsRefreshToken(refreshToken: string): boolean {
    return this.refreshTokens.has(refreshToken);
  }

  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }
}

/**
 * OAuth that approves: `start` sends the browser straight back to the redirect URI with a code,
 * as if the admin had consented; the code is good once, for that redirect URI.
 */
export function createFakeOAuth(auth: FakeAuth): CrmOAuth {
  const grant = (tokens: TokenSet): OAuthGrant => ({ accountId: auth.accountId, accountName: auth.accountName, tokens });
  return {
    scopes: FAKE_SCOPES,
    start({ state, redirectUri }) {
      const url = new URL(redirectUri);
      url.searchParams.set('code', auth.issueCode(redirectUri));
      url.searchParams.set('state', state);
      return { url: url.toString() };
    },
    async exchangeCode({ code, redirectUri }) {
      if (!auth.redeem(code, redirectUri))
        throw new CrmError('invalid', 'the fake CRM does not know this code (used already, or for another redirect URI)', {
          retryable: false,
          status: 400,
        });
      return grant(auth.issueTokens());
    },
    async refresh(tokens) {
      if (!tokens.refreshToken || !auth.knowsRefreshToken(tokens.refreshToken)) {
        throw new CrmError('auth_revoked', 'the fake CRM revoked this refresh token', { retryable: false, status: 400 });
      }
      return auth.issueTokens(tokens.refreshToken);
    },
    async identify(tokens) {
      if (!auth.accepts(tokens.accessToken))
        throw new CrmError('not_found', 'the fake CRM does not know this access token', { retryable: false, status: 404 });
      return grant({ ...tokens, expiresAt: auth.expiresAt(tokens.accessToken), scopes: [...FAKE_SCOPES] });
    },
  };
}

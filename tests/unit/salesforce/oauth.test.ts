import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { orgIdFromIdentityUrl, verifyTokenSignature } from '../../../connectors/salesforce/oauth.ts';
import { createSalesforceConnector } from '../../../connectors/salesforce/index.ts';

const samples = new URL('../../fixtures/salesforce/samples/', import.meta.url);
const SAMPLE_SECRET = 'EXAMPLE_CLIENT_SECRET_do_not_use';
const load = (name: string) =>
  JSON.parse(readFileSync(new URL(name, samples), 'utf8')) as { id: string; issued_at: string; signature: string };

describe('Salesforce token response signature', () => {
  it.each(['token-response.authorization_code.json', 'token-response.refresh_token.json'])('verifies %s', (name) => {
    expect(verifyTokenSignature(load(name), SAMPLE_SECRET)).toBe(true);
  });

  it('rejects an altered identity URL, a wrong secret and a missing signature', () => {
    const res = load('token-response.authorization_code.json');
    expect(verifyTokenSignature({ ...res, id: res.id.replace('00D5g00000KqRfLEAV', '00D5g00000KqRfMEAV') }, SAMPLE_SECRET)).toBe(false);
    expect(verifyTokenSignature(res, 'another-secret')).toBe(false);
    expect(verifyTokenSignature({ ...res, signature: '' }, SAMPLE_SECRET)).toBe(false);
  });

  it('reads the 18-char org id from the identity URL', () => {
    expect(orgIdFromIdentityUrl(load('token-response.authorization_code.json').id)).toBe('00D5g00000KqRfLEAV');
    expect(orgIdFromIdentityUrl('https://login.example.test/id/00D5g00000KqRfL/0055g00000DxYzQ')).toBe('00D5g00000KqRfLEAV');
  });
});

describe('Salesforce authorize URL', () => {
  it('asks for a code with PKCE (S256), state and the offline scope', () => {
    const { oauth } = createSalesforceConnector({ clientId: '3MVG9EXAMPLE', clientSecret: 's', loginUrl: 'https://login.example.test/' });
    const { url, codeVerifier } = oauth.start({ state: '7f3c2a9e', redirectUri: 'https://referloop.test/oauth/salesforce/callback' });
    const u = new URL(url);
    expect(`${u.origin}${u.pathname}`).toBe('https://login.example.test/services/oauth2/authorize');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      response_type: 'code',
      client_id: '3MVG9EXAMPLE',
      redirect_uri: 'https://referloop.test/oauth/salesforce/callback',
      scope: 'api refresh_token',
      state: '7f3c2a9e',
      code_challenge: createHash('sha256')
        .update(codeVerifier ?? '')
        .digest('base64url'),
      code_challenge_method: 'S256',
    });
    expect(codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
  });
});

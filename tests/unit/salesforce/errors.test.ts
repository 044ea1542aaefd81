import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CrmError } from '../../../connectors/connector.ts';
import { DAILY_LIMIT_HOLD_MS, salesforceError, toCrmError } from '../../../connectors/salesforce/errors.ts';

const errorsDir = new URL('../../fixtures/salesforce/samples/errors/', import.meta.url);

/** What jsforce throws for an error body: HttpApiError with name = errorCode and data = body[0]. */
function httpApiError(body: { errorCode: string; message: string }): Error {
  return Object.assign(new Error(body.message), { name: body.errorCode, errorCode: body.errorCode, data: body });
}

describe('Salesforce error mapping', () => {
  it.each([
    ['401-invalid-session.json', 'auth_expired', true],
    ['403-request-limit-exceeded.json', 'rate_limited', true],
    ['unable-to-lock-row.json', 'conflict', true],
    ['400-duplicate-value.json', 'conflict', false],
    ['entity-is-deleted.json', 'not_found', false],
    ['400-malformed-query.json', 'invalid', false],
    ['400-required-field-missing.json', 'invalid', false],
  ])('maps %s to %s (retryable %s)', (file, code, retryable) => {
    const [body] = JSON.parse(readFileSync(new URL(file, errorsDir), 'utf8')) as { errorCode: string; message: string }[];
    const e = toCrmError(httpApiError(body as { errorCode: string; message: string }));
    expect(e).toBeInstanceOf(CrmError);
    expect([e.code, e.retryable, e.options.vendorCode]).toEqual([code, retryable, body?.errorCode]);
  });

  it('covers every sample error body', () => {
    expect(readdirSync(errorsDir)).toHaveLength(7);
  });

  it('waits long on the daily limit and briefly on the concurrent one', () => {
    expect(salesforceError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.').retryAfterMs).toBe(DAILY_LIMIT_HOLD_MS);
    expect(
      salesforceError('REQUEST_LIMIT_EXCEEDED', 'ConcurrentRequests (Concurrent API Requests) Limit exceeded.').retryAfterMs,
    ).toBeLessThan(60_000);
  });

  it.each([
    ['ERROR_HTTP_503', 'unavailable', true],
    ['ERROR_HTTP_500', 'unavailable', true],
    ['ERROR_HTTP_401', 'auth_expired', true],
    ['ERROR_HTTP_404', 'not_found', false],
    ['SERVER_UNAVAILABLE', 'unavailable', true],
    ['MULTIPLE_CHOICES', 'conflict', false],
    ['SOMETHING_NEW', 'invalid', false],
  ])('maps %s to %s', (vendorCode, code, retryable) => {
    const e = salesforceError(vendorCode, 'x');
    expect([e.code, e.retryable]).toEqual([code, retryable]);
  });

  it('maps the token endpoint invalid_grant to auth_revoked, as jsforce throws it', () => {
    const token = JSON.parse(readFileSync(new URL('../token-error.invalid_grant.json', errorsDir), 'utf8')) as {
      error: string;
      error_description: string;
    };
    const thrown = Object.assign(new Error(token.error_description), { name: token.error });
    expect(toCrmError(thrown)).toMatchObject({ code: 'auth_revoked', retryable: false, options: { vendorCode: 'invalid_grant' } });
  });

  it('maps network failures to unavailable and keeps CrmErrors as they are', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { name: 'FetchError', code: 'ECONNREFUSED' });
    expect(toCrmError(refused)).toMatchObject({ code: 'unavailable', retryable: true });
    const own = new CrmError('not_found', 'gone', { retryable: false });
    expect(toCrmError(own)).toBe(own);
  });

  it('unwraps MULTIPLE_API_ERRORS to the first error', () => {
    const multi = Object.assign(new Error('Multiple errors returned.'), {
      errorCode: 'MULTIPLE_API_ERRORS',
      data: [
        { errorCode: 'UNABLE_TO_LOCK_ROW', message: 'locked' },
        { errorCode: 'DUPLICATE_VALUE', message: 'dup' },
      ],
    });
    expect(toCrmError(multi)).toMatchObject({ code: 'conflict', retryable: true });
  });
});

import { describe, expect, it } from 'vitest';
import { batchErrorIds, fromBatchError, toCrmError } from '../../../connectors/hubspot/errors.ts';
import { sampleJson } from '../../fixtures/hubspot/samples.ts';

const body = (message: string, extra: Record<string, unknown> = {}) => ({ status: 'error', message, correlationId: 'c', ...extra });

describe('HubSpot error mapping', () => {
  it.each([
    [401, body('expired', { category: 'EXPIRED_AUTHENTICATION' }), 'auth_expired', true],
    [403, body('scopes', { category: 'MISSING_SCOPES' }), 'invalid', false],
    [404, body('gone', { category: 'OBJECT_NOT_FOUND' }), 'not_found', false],
    [409, body('Contact already exists. Existing ID: 1', { category: 'CONFLICT' }), 'conflict', false],
    [400, body('Property values were not valid', { category: 'VALIDATION_ERROR' }), 'invalid', false],
    [400, { status: 'BAD_REFRESH_TOKEN', error: 'invalid_grant' }, 'invalid', false],
    [408, undefined, 'unavailable', true],
    [500, body('boom'), 'unavailable', true],
    [502, '<html>bad gateway</html>', 'unavailable', true],
    [503, undefined, 'unavailable', true],
    [0, undefined, 'unavailable', true],
  ])('%i %j → %s', (status, failureBody, code, retryable) => {
    const error = toCrmError({ status, body: failureBody }, 'call');
    expect(error).toMatchObject({ code, retryable, options: { status } });
  });

  it.each([
    [{ status: 'BAD_REFRESH_TOKEN', message: 'missing or invalid refresh token' }],
    [{ error: 'invalid_grant', error_description: 'refresh token revoked' }],
  ])('a refused refresh grant (%j) means the installation is gone', (failureBody) => {
    const error = toCrmError({ status: 400, body: failureBody }, 'refresh', { refresh: true });
    expect(error).toMatchObject({ code: 'auth_revoked', retryable: false });
    expect(toCrmError({ status: 500, body: failureBody }, 'refresh', { refresh: true }).code).toBe('unavailable');
  });

  it('uses Retry-After when HubSpot sends one, in seconds or as a date', () => {
    expect(toCrmError({ status: 429, body: {}, retryAfter: '3' }, 'x').retryAfterMs).toBe(3000);
    const at = new Date(Date.now() + 60_000).toUTCString();
    expect(toCrmError({ status: 429, body: {}, retryAfter: at }, 'x').retryAfterMs).toBeGreaterThan(55_000);
  });

  it('names the vendor code and message', () => {
    const error = toCrmError(
      { status: 409, body: body('Contact already exists. Existing ID: 7', { category: 'CONFLICT' }) },
      'create contact',
    );
    expect(error.message).toBe('create contact: HubSpot 409 — Contact already exists. Existing ID: 7');
    expect(error.options.vendorCode).toBe('CONFLICT');
  });

  it.each([
    ['OBJECT_NOT_FOUND', 'not_found'],
    ['CONFLICT', 'conflict'],
    ['OBJECT_ALREADY_EXISTS', 'conflict'],
    ['VALIDATION_ERROR', 'invalid'],
    ['RATE_LIMITS', 'rate_limited'],
  ])('207 item category %s → %s', (category, code) => {
    expect(fromBatchError({ status: 'error', category, message: 'm', context: { ids: ['1'] } }, 'batch').code).toBe(code);
  });

  it('reads the ids of a batch error', () => {
    expect(batchErrorIds({ context: { ids: ['1', 2] } })).toEqual(['1', '2']);
    expect(batchErrorIds({ context: {} })).toEqual([]);
  });
});

describe('429 policies from the samples, without Retry-After', () => {
  it.each([
    ['error-429-ten-secondly.json', 10_000, 'TEN_SECONDLY_ROLLING'],
    ['error-429-search-secondly.json', 1_000, 'RATE_LIMIT'],
    ['error-429-daily.json', 3_600_000, 'DAILY'],
  ])('%s → rate_limited after %i ms', (file, ms, vendorCode) => {
    const sample = sampleJson<Record<string, unknown>>(`api/${file}`);
    const error = toCrmError({ status: 429, body: sample.body ?? sample }, 'call');
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: ms, options: { vendorCode } });
  });
});

import { CrmError, type CrmErrorCode } from '../connector.ts';

/** The daily allocation is a rolling 24 h window, so a limit hit means minutes, not seconds. */
export const DAILY_LIMIT_HOLD_MS = 15 * 60_000;
const CONCURRENT_LIMIT_HOLD_MS = 10_000;
const LOCK_RETRY_MS = 1_000;
const NETWORK_RETRY_MS = 5_000;

interface Rule {
  code: CrmErrorCode;
  retryable: boolean;
  retryAfterMs?: number;
}

const invalid: Rule = { code: 'invalid', retryable: false };
const unavailable: Rule = { code: 'unavailable', retryable: true, retryAfterMs: NETWORK_RETRY_MS };
const revoked: Rule = { code: 'auth_revoked', retryable: false };

/**
 * Every Salesforce failure Referloop acts on, in one table: REST `errorCode`s, collection
 * `statusCode`s (same enum) and OAuth token-endpoint `error`s.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
 */
const RULES: Record<string, Rule> = {
  INVALID_SESSION_ID: { code: 'auth_expired', retryable: true },
  REQUEST_LIMIT_EXCEEDED: { code: 'rate_limited', retryable: true, retryAfterMs: DAILY_LIMIT_HOLD_MS },
  UNABLE_TO_LOCK_ROW: { code: 'conflict', retryable: true, retryAfterMs: LOCK_RETRY_MS },
  // allOrNone: this record was fine, another one failed.
  ALL_OR_NONE_OPERATION_ROLLED_BACK: { code: 'conflict', retryable: true, retryAfterMs: LOCK_RETRY_MS },
  DUPLICATE_VALUE: { code: 'conflict', retryable: false },
  DUPLICATE_EXTERNAL_ID: { code: 'conflict', retryable: false },
  DUPLICATES_DETECTED: { code: 'conflict', retryable: false },
  MULTIPLE_CHOICES: { code: 'conflict', retryable: false },
  ENTITY_IS_DELETED: { code: 'not_found', retryable: false },
  NOT_FOUND: { code: 'not_found', retryable: false },
  MALFORMED_QUERY: invalid,
  MALFORMED_ID: invalid,
  REQUIRED_FIELD_MISSING: invalid,
  INVALID_FIELD: invalid,
  INVALID_TYPE: invalid,
  INVALID_FIELD_FOR_INSERT_UPDATE: invalid,
  INVALID_CROSS_REFERENCE_KEY: invalid,
  INVALID_QUERY_LOCATOR: invalid,
  FIELD_CUSTOM_VALIDATION_EXCEPTION: invalid,
  INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: invalid,
  STRING_TOO_LONG: invalid,
  CANNOT_UPDATE_CONVERTED_LEAD: invalid,
  INSUFFICIENT_ACCESS_OR_READONLY: invalid,
  SERVER_UNAVAILABLE: unavailable,
  UNKNOWN_EXCEPTION: unavailable,
  // OAuth token endpoint: https://help.salesforce.com/s/articleView?id=remoteaccess_oauth_refresh_token_flow.htm
  invalid_grant: revoked,
  inactive_user: revoked,
  inactive_org: revoked,
  invalid_client: invalid,
  invalid_client_id: invalid,
  invalid_request: invalid,
  unsupported_grant_type: invalid,
  redirect_uri_mismatch: invalid,
};

function ruleForHttpStatus(status: number): Rule {
  if (status === 401) return { code: 'auth_expired', retryable: true };
  if (status === 404) return { code: 'not_found', retryable: false };
  if (status >= 500) return unavailable;
  return invalid;
}

/** A CrmError for a Salesforce error code (REST `errorCode`, collection `statusCode`, OAuth `error`). */
export function salesforceError(vendorCode: string, message: string, extra: { status?: number; cause?: unknown } = {}): CrmError {
  const httpStatus = /^ERROR_HTTP_(\d{3})$/.exec(vendorCode)?.[1];
  const status = extra.status ?? (httpStatus ? Number(httpStatus) : undefined);
  // The code comes from Salesforce's answer: only the table's own keys count.
  let rule = (Object.hasOwn(RULES, vendorCode) ? RULES[vendorCode] : undefined) ?? (status ? ruleForHttpStatus(status) : invalid);
  if (vendorCode === 'REQUEST_LIMIT_EXCEEDED' && /concurrent/i.test(message)) {
    rule = { ...rule, retryAfterMs: CONCURRENT_LIMIT_HOLD_MS };
  }
  return new CrmError(rule.code, `Salesforce ${vendorCode}: ${message}`, {
    retryable: rule.retryable,
    retryAfterMs: rule.retryAfterMs,
    vendorCode,
    status,
    cause: extra.cause,
  });
}

/**
 * Maps whatever jsforce throws: `HttpApiError` (`errorCode`, `data`), token-endpoint errors
 * (`name` = OAuth `error`) and node-fetch network failures (`FetchError` with `code`).
 */
export function toCrmError(err: unknown): CrmError {
  if (err instanceof CrmError) return err;
  const e = (err ?? {}) as { name?: string; errorCode?: string; message?: string; code?: string; data?: unknown };
  const message = e.message ?? String(err);
  if (e.name === 'FetchError' || e.name === 'AbortError') {
    return new CrmError('unavailable', `Salesforce unreachable: ${message}`, {
      retryable: true,
      retryAfterMs: NETWORK_RETRY_MS,
      vendorCode: e.code,
      cause: err,
    });
  }
  if (e.errorCode === 'MULTIPLE_API_ERRORS' && Array.isArray(e.data)) {
    const first = e.data[0] as { errorCode?: string; message?: string } | undefined;
    return salesforceError(first?.errorCode ?? 'MULTIPLE_API_ERRORS', first?.message ?? message, { cause: err });
  }
  const vendorCode = e.errorCode ?? (e.name && e.name !== 'Error' ? e.name : 'UNKNOWN');
  return salesforceError(vendorCode, message, { cause: err });
}

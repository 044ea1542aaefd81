import { CrmError, type CrmErrorCode } from '../connector.ts';

/**
 * The one place HubSpot failures become {@link CrmError}s. Rate-limit windows come from the
 * usage guidelines (https://developers.hubspot.com/docs/api/usage-details), because
 * HubSpot does not document a Retry-After header on API 429s.
 */
export const RATE_LIMIT_WINDOW_MS = {
  TEN_SECONDLY_ROLLING: 10_000,
  SEARCH_SECONDLY: 1_000,
  // The daily limit resets at midnight in the account's time zone, which the API does not tell us.
  DAILY: 60 * 60_000,
} as const;

// The message HubSpot's own SDK matches for search 429s, which carry no policyName.
const SEARCH_SECONDLY_MESSAGE = 'You have reached your secondly limit.';

export interface HubSpotFailure {
  /** 0 when no HTTP answer arrived (connection refused, reset, timeout). */
  status: number;
  body?: unknown;
  retryAfter?: string | null;
  cause?: unknown;
}

type Body = Record<string, unknown>;

function asBody(body: unknown): Body {
  return typeof body === 'object' && body !== null ? (body as Body) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function make(code: CrmErrorCode, retryable: boolean, message: string, extra: Omit<CrmError['options'], 'retryable'> = {}) {
  return new CrmError(code, message, { retryable, ...extra });
}

function retryAfterMs(failure: HubSpotFailure, body: Body): number {
  const header = failure.retryAfter?.trim();
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  if (body.policyName === 'DAILY') return RATE_LIMIT_WINDOW_MS.DAILY;
  if (body.message === SEARCH_SECONDLY_MESSAGE) return RATE_LIMIT_WINDOW_MS.SEARCH_SECONDLY;
  return RATE_LIMIT_WINDOW_MS.TEN_SECONDLY_ROLLING;
}

/**
 * Map an HTTP failure of any HubSpot call. `refresh` marks a refresh-token grant, the only call
 * where `invalid_grant` / `BAD_REFRESH_TOKEN` means the installation is gone.
 */
export function toCrmError(failure: HubSpotFailure, what: string, opts: { refresh?: boolean } = {}): CrmError {
  const { status, cause } = failure;
  const body = asBody(failure.body);
  // Most specific first: the rate-limit policy, an OAuth status such as BAD_REFRESH_TOKEN, the category.
  const vendorCode =
    str(body.policyName) ??
    (body.status === 'error' ? undefined : str(body.status)) ??
    str(body.category) ??
    str(body.errorType) ??
    str(body.error);
  const detail = str(body.message) ?? str(body.error_description) ?? (typeof failure.body === 'string' ? failure.body : '');
  const message = `${what}: HubSpot ${status === 0 ? 'unreachable' : status}${detail ? ` — ${detail}` : ''}`;
  const extra = { status, vendorCode, cause };

  if (status === 0) return make('unavailable', true, message, extra);
  if (opts.refresh && status === 400 && (body.status === 'BAD_REFRESH_TOKEN' || body.error === 'invalid_grant')) {
    return make('auth_revoked', false, message, extra);
  }
  if (status === 401) return make('auth_expired', true, message, extra);
  if (status === 429) return make('rate_limited', true, message, { ...extra, retryAfterMs: retryAfterMs(failure, body) });
  if (status === 404) return make('not_found', false, message, extra);
  if (status === 409) return make('conflict', false, message, extra);
  if (status === 408 || status >= 500) return make('unavailable', true, message, extra);
  // 400 validation (incl. 2026-09 write-validation rules), 403 missing scopes, 413/414/415: fix the request, not the timing.
  return make('invalid', false, message, extra);
}

/** Map one `StandardError` of a 207 batch answer. */
export function fromBatchError(error: unknown, what: string): CrmError {
  const body = asBody(error);
  const category = str(body.category) ?? 'UNKNOWN';
  const message = `${what}: ${category}${str(body.message) ? ` — ${str(body.message)}` : ''}`;
  const extra = { vendorCode: category, status: 207 };
  if (category === 'OBJECT_NOT_FOUND') return make('not_found', false, message, extra);
  if (category === 'CONFLICT' || category === 'OBJECT_ALREADY_EXISTS') return make('conflict', false, message, extra);
  if (category === 'RATE_LIMITS')
    return make('rate_limited', true, message, { ...extra, retryAfterMs: RATE_LIMIT_WINDOW_MS.TEN_SECONDLY_ROLLING });
  return make('invalid', false, message, extra);
}

/** Ids a batch error names in `context.ids`. */
export function batchErrorIds(error: unknown): string[] {
  const context = asBody(asBody(error).context);
  return Array.isArray(context.ids) ? context.ids.map(String) : [];
}

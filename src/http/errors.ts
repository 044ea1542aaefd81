import type { ErrorRequestHandler, Response } from 'express';
import type { z } from 'zod';

/** One table from error code to HTTP status; every JSON error the API sends uses a code from it. */
export const errorStatus = {
  bad_request: 400,
  invalid_json: 400,
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  duplicate: 409,
  conflict: 409,
  /** Several open deals and none named: the submitter names one (`error.details.verdict.deals`). */
  choose_deal: 409,
  illegal_state: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get status(): number {
    return errorStatus[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; details: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** Seconds a client is asked to wait before retrying while the job queue is unreachable. */
const QUEUE_RETRY_AFTER_SECONDS = 5;

/** Refuses, before anything is written, a request whose work needs a job queue that is unreachable. */
export function requireQueue(scheduler: { available(): boolean }): void {
  if (!scheduler.available()) {
    throw new ApiError('unavailable', 'The job queue (Redis) is unreachable, so nothing was written: try again shortly.', {
      retryAfterSeconds: QUEUE_RETRY_AFTER_SECONDS,
    });
  }
}

/** Parse with zod at the edge; a failure names every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || what,
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  throw new ApiError('invalid_input', `Invalid ${what}: ${summary}`, { issues });
}

/** Turns thrown errors (ours, express's and its libraries', unexpected ones) into the JSON error shape. */
export function errorHandler(onUnexpected: (err: unknown, res: Response) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const apiError = toApiError(err);
    if (apiError.code === 'internal') onUnexpected(err, res);
    const { retryAfterSeconds } = apiError.details;
    if (typeof retryAfterSeconds === 'number') res.set('Retry-After', String(retryAfterSeconds));
    res.status(apiError.status).json(apiError.toJSON());
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new ApiError('invalid_json', 'The request body is not valid JSON.');
  if (type === 'entity.too.large') return new ApiError('payload_too_large', 'The request body is too large.');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new ApiError('unsupported_media_type', 'The request body encoding is not supported.');
  }
  const upstream = clientErrorOf(err);
  if (upstream) return upstream;
  return new ApiError('internal', 'Something went wrong on our side.');
}

const codeByStatus = new Map<number, ErrorCode>([
  [400, 'bad_request'],
  [401, 'unauthorized'],
  [403, 'forbidden'],
  [404, 'not_found'],
  [405, 'method_not_allowed'],
  [409, 'conflict'],
  [412, 'precondition_failed'],
  [413, 'payload_too_large'],
  [415, 'unsupported_media_type'],
  [416, 'range_not_satisfiable'],
  [429, 'rate_limited'],
]);

/**
 * A 4xx that express or one of its libraries decided (http-errors' `status`/`statusCode`, such as
 * the 400 for a path with a malformed percent-escape): the client's mistake, never our 500. Its
 * message is passed on only when the library marks it safe to show (`expose`).
 */
function clientErrorOf(err: unknown): ApiError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode, expose, message } = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 400 || code > 499) return undefined;
  const known = codeByStatus.get(code);
  // express's router marks a route parameter it cannot decode as a 400 URIError.
  const shown =
    expose === true && typeof message === 'string' && message
      ? message
      : err instanceof URIError
        ? 'The path has a malformed percent-escape and could not be decoded.'
        : 'The request could not be understood.';
  // A 4xx outside the table is still the client's mistake: it is answered as a plain 400.
  return new ApiError(known ?? 'bad_request', known ? shown : `${shown} (HTTP ${code})`);
}

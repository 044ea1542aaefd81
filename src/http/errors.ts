import type { ErrorRequestHandler, Response } from 'express';
import { z } from 'zod';

/** One table from error code to HTTP status; every JSON error the API sends uses a code from it. */
export const errorStatus = {
  invalid_json: 400,
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  duplicate: 409,
  conflict: 409,
  illegal_state: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
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

/** Turns thrown errors (ours, body-parser's, unexpected ones) into the JSON error shape. */
export function errorHandler(onUnexpected: (err: unknown, res: Response) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const apiError = toApiError(err);
    if (apiError.code === 'internal') onUnexpected(err, res);
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
  return new ApiError('internal', 'Something went wrong on our side.');
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** `Authorization: Bearer <ADMIN_API_TOKEN>`, compared in constant time. */
export function requireAdminToken(adminToken: string): RequestHandler {
  const expected = digest(adminToken);
  return (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(new ApiError('unauthorized', 'Send the admin API token as "Authorization: Bearer <token>".'));
    if (!timingSafeEqual(digest(match[1]!), expected)) return next(new ApiError('unauthorized', 'The API token is not valid.'));
    next();
  };
}

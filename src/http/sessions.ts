import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Store } from '../store/index.ts';
import type { SessionRow } from '../store/sessions.repo.ts';
import { ApiError } from './errors.ts';

/** The browser session cookie: HttpOnly, SameSite=Lax, Secure when the service is served over https. */
export const SESSION_COOKIE = 'referloop_session';
export const CSRF_HEADER = 'x-csrf-token';

export function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(rest.join('='));
    } catch {
      return undefined; // malformed %-escapes: no session rather than a 500
    }
  }
  return undefined;
}

export function setSessionCookie(res: Response, token: string, expiresAt: Date, publicBaseUrl: string): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: publicBaseUrl.startsWith('https:'),
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(res: Response, publicBaseUrl: string): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: publicBaseUrl.startsWith('https:'), path: '/' });
}

/** The request's live session, if its cookie names one (read once per request). */
export async function sessionOf(req: Request, res: Response, store: Store, now: Date): Promise<SessionRow | undefined> {
  if (!('session' in res.locals)) {
    const token = cookieValue(req, SESSION_COOKIE);
    res.locals.session = token ? await store.sessions.live(token, now) : undefined;
  }
  return res.locals.session as SessionRow | undefined;
}

/** Opens a console user's session in their installation and sets its cookie. */
export async function openUserSession(
  store: Store,
  res: Response,
  user: { id: string; installationId: string; role: string },
  settings: { sessionTtlMs: number; publicBaseUrl: string },
  now: Date,
): Promise<void> {
  const expiresAt = new Date(now.getTime() + settings.sessionTtlMs);
  const { token } = await store.sessions.open({
    subjectKind: 'user',
    subjectId: user.id,
    installationId: user.installationId,
    role: user.role,
    expiresAt: expiresAt.toISOString(),
  });
  setSessionCookie(res, token, expiresAt, settings.publicBaseUrl);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A referrer's session in the installation the URL names, or a refusal. Writes must also carry the
 * session's CSRF token (from `GET /api/v1/session`) in the `x-csrf-token` header.
 */
export function requireReferrerSession(store: Store, now: () => Date): RequestHandler {
  return async (req, res, next) => {
    const session = await sessionOf(req, res, store, now());
    if (session?.subjectKind !== 'referrer') return next(new ApiError('unauthorized', 'Sign in with the link we email you.'));
    if (session.installationId !== req.params.installationId) {
      return next(new ApiError('forbidden', 'This session belongs to another referral program: sign in to this one.'));
    }
    if (!SAFE_METHODS.has(req.method) && !csrfMatches(req.get(CSRF_HEADER), session.csrfToken)) {
      return next(new ApiError('forbidden', `Send the session's CSRF token in the ${CSRF_HEADER} header.`));
    }
    next();
  };
}

export function csrfMatches(sent: string | undefined, expected: string): boolean {
  if (!sent) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

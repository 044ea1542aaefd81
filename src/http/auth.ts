import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { InboundRequest } from '../../connectors/connector.ts';
import type { RegisteredConnector } from '../../connectors/registry.ts';
import { CARD_KEY_PREFIX } from '../store/card-keys.repo.ts';
import type { Store } from '../store/index.ts';
import type { ConsoleRole } from '../domain/console-roles.ts';
import { consoleActor } from '../use-cases/console-users.ts';
import { ApiError } from './errors.ts';
import { cookieValue, CSRF_HEADER, csrfMatches, SESSION_COOKIE, sessionOf } from './sessions.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who is calling: the admin (bearer token, sees every installation), a CRM card inside one CRM
 * account (a request signed by the CRM, sees only that account's installation), or a console user
 * (session cookie, sees only their installation, does what their role allows).
 */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'crm-card'; installationId: string }
  | { kind: 'user'; installationId: string; userId: string; email: string; role: ConsoleRole };

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Who the audit log says did it: `admin` (the operator's token), the card, or `user:<id> <email>`. */
export function actorOf(principal: Principal): string {
  if (principal.kind === 'user') return consoleActor({ id: principal.userId, email: principal.email });
  return principal.kind;
}

/**
 * What finance may change besides reading: rewards (approve, reject, mark paid) and payout runs.
 * A viewer only reads; an admin does everything in their installation.
 */
const FINANCE_WRITES: RegExp[] = [
  /^\/rewards\/[^/]+\/(approve|reject|mark-paid)$/,
  /^\/payouts$/,
  /^\/payouts\/[^/]+\/(export|mark-paid|send)$/,
];

/** Routes only the operator's token reaches: they act on every installation at once. */
const OPERATOR_ONLY: [string, RegExp][] = [
  ['POST', /^\/dead-letters\/jobs\/[^/]+\/retry$/],
  ['POST', /^\/replay$/],
];

function roleAllows(role: ConsoleRole, method: string, path: string): boolean {
  if (SAFE_METHODS.has(method) || role === 'admin') return true;
  return role === 'finance' && method === 'POST' && FINANCE_WRITES.some((route) => route.test(path));
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The routes a CRM card may call: log a referral (into one of its installation's programs, which it
 * lists), see a record's referrals, an account's eligibility, ask for a referral.
 */
const CARD_ROUTES: [string, RegExp][] = [
  ['GET', /^\/programs$/],
  ['GET', /^\/referrals$/],
  ['POST', /^\/referrals$/],
  ['GET', /^\/referrals\/[^/]+$/],
  ['GET', /^\/accounts\/[^/]+\/eligibility$/],
  ['POST', /^\/accounts\/[^/]+\/asks$/],
];

const isCardRoute = (method: string, path: string) => CARD_ROUTES.some(([m, route]) => m === method && route.test(path));

/**
 * Authenticates `/api/v1` over the raw body (so a signature can cover it): `Authorization: Bearer
 * <ADMIN_API_TOKEN>` compared in constant time, an installation's card key (`Bearer rlk_…`, see
 * `store.cardKeys`) acting as that installation's card, a call signed by a CRM's record card, which
 * the connector that claims it verifies (`CrmConnector.cards`) and binds to the account it names,
 * or a console user's session cookie (writes carry its CSRF token; the role decides what is allowed).
 */
export function authenticate(deps: {
  adminToken: string;
  publicBaseUrl: string;
  store: Store;
  connectors: RegisteredConnector[];
  now: () => Date;
}): RequestHandler {
  const expected = digest(deps.adminToken);
  return async (req, res, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (bearer?.[1]?.startsWith(CARD_KEY_PREFIX)) {
      // A CRM package's card key (Salesforce): its own installation's card, nothing more.
      const key = await deps.store.cardKeys.authenticate(bearer[1]!, deps.now());
      if (!key) return next(new ApiError('unauthorized', 'The card key is not valid: it was revoked, expired or never issued.'));
      if (!isCardRoute(req.method, req.path)) return next(new ApiError('forbidden', 'A CRM card may not call this route.'));
      res.locals.principal = { kind: 'crm-card', installationId: key.installationId } satisfies Principal;
      return next();
    }
    if (bearer) {
      if (!timingSafeEqual(digest(bearer[1]!), expected)) return next(new ApiError('unauthorized', 'The API token is not valid.'));
      res.locals.principal = { kind: 'admin' } satisfies Principal;
      return next();
    }
    const request: InboundRequest = {
      method: req.method,
      url: `${deps.publicBaseUrl}${req.originalUrl}`,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    };
    const connector = deps.connectors.find((c) => c.cards?.claims(request));
    if (connector?.cards) {
      const { cards } = connector;
      const verdict = cards.authenticate(request, deps.now());
      if (!verdict.ok) return next(new ApiError('unauthorized', `The ${cards.vendor} signature is not valid: ${verdict.reason}`));
      const installation = verdict.accountId ? await deps.store.installations.findByAccount(connector.kind, verdict.accountId) : undefined;
      if (!installation)
        return next(
          new ApiError(
            'forbidden',
            `Referloop is not installed in ${cards.vendor} ${cards.accountNoun} ${verdict.accountId ?? '(none named)'}.`,
          ),
        );
      if (!isCardRoute(req.method, req.path)) {
        return next(new ApiError('forbidden', 'A CRM card may not call this route.'));
      }
      res.locals.principal = { kind: 'crm-card', installationId: installation.id } satisfies Principal;
      return next();
    }
    if (cookieValue(req, SESSION_COOKIE) !== undefined) {
      const session = await sessionOf(req, res, deps.store, deps.now());
      const user = session?.subjectKind === 'user' ? await deps.store.consoleUsers.get(session.subjectId) : undefined;
      if (!session || !user || user.revokedAt || user.installationId !== session.installationId) {
        return next(new ApiError('unauthorized', 'Your session has expired or is not valid: sign in again.'));
      }
      if (!SAFE_METHODS.has(req.method) && !csrfMatches(req.get(CSRF_HEADER), session.csrfToken)) {
        return next(new ApiError('forbidden', `Send the session's CSRF token (GET /api/v1/session) in the ${CSRF_HEADER} header.`));
      }
      if (OPERATOR_ONLY.some(([method, path]) => method === req.method && path.test(req.path))) {
        return next(new ApiError('forbidden', "Only the operator's API token may do this: it acts on every installation."));
      }
      if (!roleAllows(user.role, req.method, req.path)) {
        return next(new ApiError('forbidden', `A ${user.role} may not do this: ask an admin of this installation.`));
      }
      res.locals.principal = {
        kind: 'user',
        installationId: user.installationId,
        userId: user.id,
        email: user.email,
        role: user.role,
      } satisfies Principal;
      return next();
    }
    next(new ApiError('unauthorized', 'Send the admin API token as "Authorization: Bearer <token>", or sign in to the console.'));
  };
}

/** The JSON body, parsed after authentication from the raw bytes kept for signatures. */
export const parseJsonBody: RequestHandler = (req, _res, next) => {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (raw.length === 0) {
    req.body = {};
    return next();
  }
  try {
    req.body = JSON.parse(raw.toString('utf8'));
    next();
  } catch {
    next(new ApiError('invalid_json', 'The request body is not valid JSON.'));
  }
};

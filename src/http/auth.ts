import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { InboundRequest } from '../../connectors/connector.ts';
import type { RegisteredConnector } from '../../connectors/registry.ts';
import type { Store } from '../store/index.ts';
import { ApiError } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who is calling: the admin (bearer token, sees every installation), or a CRM card inside one CRM
 * account (a request signed by the CRM, sees only that account's installation).
 */
export type Principal = { kind: 'admin' } | { kind: 'crm-card'; installationId: string };

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** The routes a CRM card may call: log a referral, see a record's referrals, an account's eligibility, ask for a referral. */
const CARD_ROUTES: [string, RegExp][] = [
  ['GET', /^\/referrals$/],
  ['POST', /^\/referrals$/],
  ['GET', /^\/referrals\/[^/]+$/],
  ['GET', /^\/accounts\/[^/]+\/eligibility$/],
  ['POST', /^\/accounts\/[^/]+\/asks$/],
];

/**
 * Authenticates `/api/v1` over the raw body (so a signature can cover it): `Authorization: Bearer
 * <ADMIN_API_TOKEN>` compared in constant time, or a call signed by a CRM's record card, which
 * the connector that claims it verifies (`CrmConnector.cards`) and binds to the account it names.
 */
export function authenticate(deps: {
  adminToken: string;
  publicBaseUrl: string;
  store: Store;
  connectors: RegisteredConnector[];
  now: () => Date;
}): RequestHandler {
  const expected = digest(deps.adminToken);
  return (req, res, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
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
      const installation = verdict.accountId ? deps.store.installations.findByAccount(connector.kind, verdict.accountId) : undefined;
      if (!installation)
        return next(
          new ApiError(
            'forbidden',
            `Referloop is not installed in ${cards.vendor} ${cards.accountNoun} ${verdict.accountId ?? '(none named)'}.`,
          ),
        );
      if (!CARD_ROUTES.some(([method, path]) => method === req.method && path.test(req.path))) {
        return next(new ApiError('forbidden', 'A CRM card may not call this route.'));
      }
      res.locals.principal = { kind: 'crm-card', installationId: installation.id } satisfies Principal;
      return next();
    }
    next(new ApiError('unauthorized', 'Send the admin API token as "Authorization: Bearer <token>".'));
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

import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { CrmConnector } from '../../connectors/connector.ts';
import type { Store } from '../store/index.ts';
import { ApiError } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who is calling: the admin (bearer token, sees every installation), or a CRM card inside one
 * HubSpot portal (a request signed by HubSpot, sees only that portal's installation).
 */
export type Principal = { kind: 'admin' } | { kind: 'crm-card'; installationId: string };

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** The routes a CRM card may call: log a referral, see a record's referrals, an account's eligibility. */
const CARD_ROUTES: [string, RegExp][] = [
  ['GET', /^\/referrals$/],
  ['POST', /^\/referrals$/],
  ['GET', /^\/referrals\/[^/]+$/],
  ['GET', /^\/accounts\/[^/]+\/eligibility$/],
];

/**
 * Authenticates `/api/v1` over the raw body (so a signature can cover it): `Authorization: Bearer
 * <ADMIN_API_TOKEN>` compared in constant time, or HubSpot's `X-HubSpot-Signature-v3`, which
 * `hubspot.fetch` adds to a card's calls, verified like a webhook and bound to the portal named
 * in the query or body.
 */
export function authenticate(deps: {
  adminToken: string;
  publicBaseUrl: string;
  store: Store;
  hubspot: CrmConnector | undefined;
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
    if (deps.hubspot && req.get('x-hubspot-signature-v3')) {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = deps.hubspot.webhooks.verify(
        {
          method: req.method,
          url: `${deps.publicBaseUrl}${req.originalUrl}`,
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
          rawBody,
        },
        deps.now(),
      );
      if (!verdict.ok) return next(new ApiError('unauthorized', `The HubSpot signature is not valid: ${verdict.reason}`));
      const portalId = String(req.query.portalId ?? portalInBody(rawBody) ?? '');
      const installation = portalId ? deps.store.installations.findByAccount('hubspot', portalId) : undefined;
      if (!installation) return next(new ApiError('forbidden', `Referloop is not installed in HubSpot portal ${portalId || '(none named)'}.`));
      if (!CARD_ROUTES.some(([method, path]) => method === req.method && path.test(req.path))) {
        return next(new ApiError('forbidden', 'A CRM card may not call this route.'));
      }
      res.locals.principal = { kind: 'crm-card', installationId: installation.id } satisfies Principal;
      return next();
    }
    next(new ApiError('unauthorized', 'Send the admin API token as "Authorization: Bearer <token>".'));
  };
}

function portalInBody(rawBody: Buffer): string | undefined {
  try {
    const body = JSON.parse(rawBody.toString('utf8')) as { portalId?: unknown };
    return body.portalId === undefined ? undefined : String(body.portalId);
  } catch {
    return undefined;
  }
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

import type { SandboxAuth } from './auth.ts';
import { notFound } from './http.ts';
import type { Route } from './routes.ts';

/** The portal's users: records name them in `hubspot_owner_id`. */
export const SANDBOX_OWNERS = [
  {
    id: '75000001',
    email: 'sam.seller@sandbox-portal.example',
    firstName: 'Sam',
    lastName: 'Seller',
    userId: 9000001,
    type: 'PERSON',
    archived: false,
    createdAt: '2026-01-05T09:00:00.000Z',
    updatedAt: '2026-01-05T09:00:00.000Z',
  },
  {
    id: '75000002',
    email: 'casey.success@sandbox-portal.example',
    firstName: 'Casey',
    lastName: 'Success',
    userId: 9000002,
    type: 'PERSON',
    archived: false,
    createdAt: '2026-01-05T09:00:00.000Z',
    updatedAt: '2026-01-05T09:00:00.000Z',
  },
];

/** OAuth (consent, token grants, token info) and the portal's owners. */
export function oauthRoutes(auth: SandboxAuth, owners: typeof SANDBOX_OWNERS): Route[] {
  return [
    // Owners — https://developers.hubspot.com/docs/api/crm/owners
    [
      'GET',
      /^\/crm\/v3\/owners\/([^/]+)$/,
      () => ['crm.objects.owners.read'],
      (ctx) => {
        const owner = owners.find((o) => o.id === ctx.params[0]);
        if (!owner) throw notFound(`Owner ${ctx.params[0]} not found`);
        return { status: 200, body: owner };
      },
    ],
    ['GET', /^\/oauth\/authorize$/, null, (ctx) => ({ status: 302, headers: { location: auth.authorize(ctx.query) } })],
    ['POST', /^\/oauth\/v1\/token$/, null, (ctx) => ({ status: 200, body: auth.grant(new URLSearchParams(ctx.raw.toString('utf8'))) })],
    ['GET', /^\/oauth\/v1\/access-tokens\/([^/]+)$/, null, (ctx) => ({ status: 200, body: auth.accessTokenInfo(ctx.params[0] ?? '') })],
    ['GET', /^\/oauth\/v1\/refresh-tokens\/([^/]+)$/, null, (ctx) => ({ status: 200, body: auth.refreshTokenInfo(ctx.params[0] ?? '') })],
    [
      'DELETE',
      /^\/oauth\/v1\/refresh-tokens\/([^/]+)$/,
      null,
      (ctx) => {
        if (!auth.revokeRefreshToken(ctx.params[0] ?? '')) throw notFound('refresh token not found');
        return { status: 204 };
      },
    ],
  ];
}

import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { TokenSet } from '../../../connectors/connector.ts';
import type { CrmKind } from '../../../connectors/registry.ts';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import type { InstallationRow, InstallationSettings } from '../installations.repo.ts';
import type { Query } from './query.ts';
import { installations } from './schema.ts';

/** How long a webhook route (an account's installation and status) is reused, as on SQLite. */
const ROUTE_TTL_MS = 1_000;

type Route = Pick<InstallationRow, 'id' | 'status'>;

export function installationsRepo(q: Query, cipher: Cipher): Store['installations'] {
  // As on SQLite: a known account's route is kept for ROUTE_TTL_MS (another process's change shows
  // within it, this process's at once); unknown accounts are always asked again.
  const routes = new Map<string, { route: Route; until: number }>();

  const get = async (id: string): Promise<InstallationRow | undefined> =>
    (await q().select().from(installations).where(eq(installations.id, id)))[0];
  const findByAccount = async (crm: CrmKind, accountId: string): Promise<InstallationRow | undefined> =>
    (
      await q()
        .select()
        .from(installations)
        .where(and(eq(installations.crm, crm), eq(installations.accountId, accountId)))
    )[0];

  return {
    // Ties on created_at (same millisecond) fall back on the id, so the order is stable.
    list: () => q().select().from(installations).orderBy(asc(installations.createdAt), asc(installations.id)),

    get,

    findByAccount,

    async routeFor(crm: CrmKind, accountId: string, now = Date.now()) {
      const key = `${crm}:${accountId}`;
      const known = routes.get(key);
      if (known && known.until > now) return known.route;
      const [route] = await q()
        .select({ id: installations.id, status: installations.status })
        .from(installations)
        .where(and(eq(installations.crm, crm), eq(installations.accountId, accountId)));
      if (route) routes.set(key, { route, until: now + ROUTE_TTL_MS });
      else routes.delete(key);
      return route;
    },

    /**
     * Insert, or on reinstall keep the id and settings and replace the grant. Two processes
     * installing the same account at once: the unique (crm, account_id) lets one insert, and the
     * other updates the row it made.
     */
    async upsert(input: { crm: CrmKind; accountId: string; accountName?: string; tokens: TokenSet; now: Date }) {
      routes.clear();
      const grant = {
        status: 'active' as const,
        statusReason: null,
        scopes: input.tokens.scopes ?? [],
        accessTokenEnc: cipher.encrypt(input.tokens.accessToken),
        refreshTokenEnc: input.tokens.refreshToken ? cipher.encrypt(input.tokens.refreshToken) : null,
        tokenExpiresAt: input.tokens.expiresAt ?? null,
        instanceUrl: input.tokens.instanceUrl ?? null,
        updatedAt: input.now.toISOString(),
      };
      const id = `inst_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      const [inserted] = await q()
        .insert(installations)
        .values({ id, crm: input.crm, accountId: input.accountId, settings: {}, accountName: input.accountName ?? null, ...grant })
        .onConflictDoNothing({ target: [installations.crm, installations.accountId] })
        .returning();
      if (inserted) return { row: inserted, created: true };
      // A name left out keeps the one the installation has.
      const [updated] = await q()
        .update(installations)
        .set({ ...grant, ...(input.accountName !== undefined ? { accountName: input.accountName } : {}) })
        .where(and(eq(installations.crm, input.crm), eq(installations.accountId, input.accountId)))
        .returning();
      return { row: updated!, created: false };
    },

    async tokens(row: InstallationRow): Promise<TokenSet> {
      return {
        accessToken: cipher.decrypt(row.accessTokenEnc),
        ...(row.refreshTokenEnc ? { refreshToken: cipher.decrypt(row.refreshTokenEnc) } : {}),
        ...(row.tokenExpiresAt ? { expiresAt: row.tokenExpiresAt } : {}),
        ...(row.instanceUrl ? { instanceUrl: row.instanceUrl } : {}),
        scopes: row.scopes,
      };
    },

    async saveTokens(id: string, tokens: TokenSet, now: Date) {
      await q()
        .update(installations)
        .set({
          accessTokenEnc: cipher.encrypt(tokens.accessToken),
          ...(tokens.refreshToken ? { refreshTokenEnc: cipher.encrypt(tokens.refreshToken) } : {}),
          tokenExpiresAt: tokens.expiresAt ?? null,
          ...(tokens.instanceUrl ? { instanceUrl: tokens.instanceUrl } : {}),
          updatedAt: now.toISOString(),
        })
        .where(eq(installations.id, id));
    },

    async markDisconnected(id: string, reason: string, now: Date) {
      routes.clear();
      await q()
        .update(installations)
        .set({ status: 'disconnected', statusReason: reason, updatedAt: now.toISOString() })
        .where(eq(installations.id, id));
    },

    async settings(row: InstallationRow) {
      return row.settings as InstallationSettings;
    },

    /**
     * `{ ...settings, ...patch }` in one statement, so two patches at once both land. A key the
     * patch sets to undefined is dropped, as JSON.stringify drops it from the merged object on SQLite.
     */
    async updateSettings(id: string, patch: InstallationSettings, now: Date) {
      const dropped = Object.entries(patch)
        .filter(([, value]) => value === undefined)
        .map(([key]) => key);
      await q()
        .update(installations)
        .set({
          settings: sql`(${installations.settings} - ${sql.param(dropped)}::text[]) || ${JSON.stringify(patch)}::jsonb`,
          updatedAt: now.toISOString(),
        })
        .where(eq(installations.id, id));
    },
  };
}

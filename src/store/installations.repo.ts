import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { TokenSet } from '../../connectors/connector.ts';
import type { CrmKind } from '../../connectors/registry.ts';
import type { Cipher } from './crypto.ts';
import type { Db } from './db.ts';
import { installations } from './schema.ts';
import type { DealKindMapping } from '../domain/deal-kind.ts';
import type { DealSourceMapping } from '../domain/deal-source.ts';
import type { EligibilityFieldMapping } from '../domain/eligibility-fields.ts';

export type InstallationRow = typeof installations.$inferSelect;

/** How long a webhook route (an account's installation and status) is reused. */
const ROUTE_TTL_MS = 1_000;

export interface InstallationSettings {
  /** `{ [pipelineId]: { [stageId]: lifecycle step } }` */
  stageMapping?: Record<string, Record<string, string>>;
  /** `{ [pipelineId]: { [stageId]: label } }` as the CRM showed them at install or the last mapping change. */
  stageLabels?: Record<string, Record<string, string>>;
  provisioning?: { created: string[]; existing: string[]; missing: string[]; at: string };
  /** How this installation reads who sourced a deal; absent: the CRM's defaults (domain deal-source.ts). */
  dealSources?: DealSourceMapping;
  /** How this installation tells renewals and expansions from new business; absent: the CRM's defaults (domain deal-kind.ts). */
  dealKinds?: DealKindMapping;
  /** The account fields eligibility reads (domain eligibility-fields.ts); detected at install, changed through the API. */
  eligibilityFields?: EligibilityFieldMapping;
  /** Salesforce: the org's Web-to-Lead name of `Lead.Referral_Code__c` (its field id), looked up at install; the capture script fills it. */
  webToLeadCodeField?: string;
}

export function installationsRepo(db: Db, cipher: Cipher) {
  const whereAccount = and(eq(installations.crm, sql.placeholder('crm')), eq(installations.accountId, sql.placeholder('accountId')));
  const byAccount = db.select().from(installations).where(whereAccount).prepare();
  // Every webhook request asks where its events go, and the answer changes only on install or
  // disconnect. A read transaction on the WAL file costs more than the query, so a known account's
  // route is kept for ROUTE_TTL_MS: another process's change shows within it, this process's own
  // at once. Unknown accounts are always asked again, so a new installation is never missed.
  type Route = Pick<InstallationRow, 'id' | 'status'>;
  const routeByAccount = db.$client.prepare<[CrmKind, string], Route>(
    'SELECT id, status FROM installations WHERE crm = ? AND account_id = ?',
  );
  const routes = new Map<string, { route: Route; until: number }>();
  return {
    list(): InstallationRow[] {
      return db.select().from(installations).orderBy(installations.createdAt).all();
    },

    get(id: string): InstallationRow | undefined {
      return db.select().from(installations).where(eq(installations.id, id)).get();
    },

    findByAccount(crm: CrmKind, accountId: string): InstallationRow | undefined {
      return byAccount.get({ crm, accountId });
    },

    /** Where a webhook's events go: the account's installation id and whether it is active. */
    routeFor(crm: CrmKind, accountId: string, now = Date.now()): Route | undefined {
      const key = `${crm}:${accountId}`;
      const known = routes.get(key);
      if (known && known.until > now) return known.route;
      const route = routeByAccount.get(crm, accountId);
      if (route) routes.set(key, { route, until: now + ROUTE_TTL_MS });
      else routes.delete(key);
      return route;
    },

    /** Insert, or on reinstall keep the id and settings and replace the grant. */
    upsert(input: { crm: CrmKind; accountId: string; accountName?: string; tokens: TokenSet; now: Date }): {
      row: InstallationRow;
      created: boolean;
    } {
      routes.clear();
      const existing = this.findByAccount(input.crm, input.accountId);
      const grant = {
        accountName: input.accountName ?? existing?.accountName ?? null,
        status: 'active' as const,
        statusReason: null,
        scopes: input.tokens.scopes ?? [],
        accessTokenEnc: cipher.encrypt(input.tokens.accessToken),
        refreshTokenEnc: input.tokens.refreshToken ? cipher.encrypt(input.tokens.refreshToken) : null,
        tokenExpiresAt: input.tokens.expiresAt ?? null,
        instanceUrl: input.tokens.instanceUrl ?? null,
        updatedAt: input.now.toISOString(),
      };
      if (existing) {
        db.update(installations).set(grant).where(eq(installations.id, existing.id)).run();
        return { row: this.get(existing.id)!, created: false };
      }
      const id = `inst_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      db.insert(installations)
        .values({ id, crm: input.crm, accountId: input.accountId, settings: {}, ...grant })
        .run();
      return { row: this.get(id)!, created: true };
    },

    tokens(row: InstallationRow): TokenSet {
      return {
        accessToken: cipher.decrypt(row.accessTokenEnc),
        ...(row.refreshTokenEnc ? { refreshToken: cipher.decrypt(row.refreshTokenEnc) } : {}),
        ...(row.tokenExpiresAt ? { expiresAt: row.tokenExpiresAt } : {}),
        ...(row.instanceUrl ? { instanceUrl: row.instanceUrl } : {}),
        scopes: row.scopes,
      };
    },

    saveTokens(id: string, tokens: TokenSet, now: Date): void {
      db.update(installations)
        .set({
          accessTokenEnc: cipher.encrypt(tokens.accessToken),
          ...(tokens.refreshToken ? { refreshTokenEnc: cipher.encrypt(tokens.refreshToken) } : {}),
          tokenExpiresAt: tokens.expiresAt ?? null,
          ...(tokens.instanceUrl ? { instanceUrl: tokens.instanceUrl } : {}),
          updatedAt: now.toISOString(),
        })
        .where(eq(installations.id, id))
        .run();
    },

    markDisconnected(id: string, reason: string, now: Date): void {
      routes.clear();
      db.update(installations)
        .set({ status: 'disconnected', statusReason: reason, updatedAt: now.toISOString() })
        .where(eq(installations.id, id))
        .run();
    },

    settings(row: InstallationRow): InstallationSettings {
      return row.settings as InstallationSettings;
    },

    updateSettings(id: string, patch: InstallationSettings, now: Date): void {
      const row = this.get(id);
      if (!row) return;
      db.update(installations)
        .set({ settings: { ...row.settings, ...patch }, updatedAt: now.toISOString() })
        .where(eq(installations.id, id))
        .run();
    },
  };
}

import type { CrmClient, CrmSession, RateLimit, RateLimiter } from '../../connectors/connector.ts';
import type { CrmKind, RegisteredConnector } from '../../connectors/registry.ts';
import { mappedFieldNames } from '../domain/eligibility-fields.ts';
import type { Store } from '../store/index.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { CrmAccess } from './context.ts';

/**
 * Connectors by kind, and one client per installation, so every job in this process shares its
 * token refreshes. Sessions read tokens from the store, so a cached client sees a reinstall.
 */
export function createCrmAccess(
  connectors: RegisteredConnector[],
  store: Store,
  limiter: RateLimiter,
  rateLimits: Partial<Record<CrmKind, RateLimit>> = {},
): CrmAccess {
  const clients = new Map<string, CrmClient>();
  return {
    connector: (kind) => connectors.find((c) => c.kind === kind),
    async client(installation: InstallationRow): Promise<CrmClient> {
      const cached = clients.get(installation.id);
      if (cached) return cached;
      const connector = connectors.find((c) => c.kind === installation.crm);
      if (!connector) throw new Error(`no connector for ${installation.crm}`);
      const rateLimit = rateLimits[installation.crm];
      const client = await connector.client(crmSession(store, installation), { limiter, ...(rateLimit ? { rateLimit } : {}) });
      clients.set(installation.id, client);
      return client;
    },
  };
}

/**
 * The CrmSession a connector client uses. Tokens and settings are read from the store on every
 * call, so a refresh by another worker process or a reinstall is seen at once.
 */
export function crmSession(store: Store, row: InstallationRow, now: () => Date = () => new Date()): CrmSession {
  const current = async () => (await store.installations.get(row.id)) ?? row;
  const settings = async () => await store.installations.settings(await current());
  return {
    installationId: row.id,
    accountId: row.accountId,
    tokens: async () => await store.installations.tokens(await current()),
    saveTokens: async (tokens) =>
      await store.installations.saveTokens(row.id, { ...(await store.installations.tokens(await current())), ...tokens }, now()),
    markDisconnected: async (reason) => await store.installations.markDisconnected(row.id, reason, now()),
    dealSourceFields: async () => ((await settings()).dealSources?.fields ?? []).map((f) => f.field),
    eligibilityFields: async () => {
      const mapping = (await settings()).eligibilityFields;
      return mapping ? mappedFieldNames(mapping) : [];
    },
    readsLeadReferralCode: async () => Boolean((await settings()).webToLeadCodeField),
  };
}

import type { CrmClient, RateLimit, RateLimiter } from '../../connectors/connector.ts';
import type { CrmKind, RegisteredConnector } from '../../connectors/registry.ts';
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
    client(installation: InstallationRow): CrmClient {
      const cached = clients.get(installation.id);
      if (cached) return cached;
      const connector = connectors.find((c) => c.kind === installation.crm);
      if (!connector) throw new Error(`no connector for ${installation.crm}`);
      const rateLimit = rateLimits[installation.crm];
      const client = connector.client(store.installations.session(installation), { limiter, ...(rateLimit ? { rateLimit } : {}) });
      clients.set(installation.id, client);
      return client;
    },
  };
}

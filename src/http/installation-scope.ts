import type { Store } from '../store/index.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { Principal } from './auth.ts';
import { ApiError } from './errors.ts';

/**
 * The installation a request is about: a CRM card's own, the one named, or the only one there
 * is. A card never reaches another installation, whatever it names.
 */
export function resolveInstallation(store: Store, installationId: string | undefined, principal: Principal): InstallationRow {
  if (principal.kind === 'crm-card') return store.installations.get(principal.installationId)!;
  if (installationId) {
    const row = store.installations.get(installationId);
    if (!row) throw new ApiError('not_found', `No installation ${installationId}.`, { installationId });
    return row;
  }
  const all = store.installations.list();
  if (all.length === 1) return all[0]!;
  throw new ApiError(
    'invalid_input',
    all.length === 0
      ? 'No CRM is connected yet: install one through /oauth/<crm>/install first.'
      : `installationId is required: ${all.length} installations are connected.`,
    { issues: [{ field: 'installationId', message: 'required' }] },
  );
}

/** Installations a listing covers: the one named (or the card's own), or all of them. */
export function installationIds(store: Store, installationId: string | undefined, principal: Principal): string[] {
  if (principal.kind === 'crm-card' || installationId) return [resolveInstallation(store, installationId, principal).id];
  return store.installations.list().map((i) => i.id);
}

/** A record of another installation is as good as absent to a CRM card. */
export function visibleTo(principal: Principal, row: { installationId: string } | undefined): boolean {
  return row !== undefined && (principal.kind === 'admin' || row.installationId === principal.installationId);
}

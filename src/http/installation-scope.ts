import type { Store } from '../store/index.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import { ApiError } from './errors.ts';

/** The installation a request is about: the one named, or the only one there is. */
export function resolveInstallation(store: Store, installationId: string | undefined): InstallationRow {
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
      ? 'No CRM is connected yet: install through /oauth/hubspot/install or /oauth/salesforce/install first.'
      : `installationId is required: ${all.length} installations are connected.`,
    { issues: [{ field: 'installationId', message: 'required' }] },
  );
}

/** Installations a listing covers: the one named, or all of them. */
export function installationIds(store: Store, installationId: string | undefined): string[] {
  return installationId ? [resolveInstallation(store, installationId).id] : store.installations.list().map((i) => i.id);
}

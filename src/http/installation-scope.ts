import type { Store } from '../store/index.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ProgramRow } from '../store/programs.repo.ts';
import type { Principal } from './auth.ts';
import { ApiError, parseInput } from './errors.ts';
import { installationQuery } from './schemas.ts';

/**
 * The installation a request names, in its query string or its body (either will do; naming two
 * different ones is refused).
 */
export function requestedInstallationId(query: unknown, bodyInstallationId?: string): string | undefined {
  const fromQuery = parseInput(installationQuery, query, 'query').installationId;
  if (fromQuery && bodyInstallationId && fromQuery !== bodyInstallationId) {
    throw new ApiError('invalid_input', `installationId is ${fromQuery} in the query but ${bodyInstallationId} in the body: name one.`, {
      issues: [{ field: 'installationId', message: 'differs between query and body' }],
    });
  }
  return bodyInstallationId ?? fromQuery;
}

/**
 * The installation a request is about: a CRM card's own, the one named, or the only one there
 * is. A card never reaches another installation, whatever it names; a console user naming
 * another installation finds none (404: nothing tells it exists).
 */
export async function resolveInstallation(
  store: Store,
  installationId: string | undefined,
  principal: Principal,
): Promise<InstallationRow> {
  if (principal.kind === 'crm-card') return (await store.installations.get(principal.installationId))!;
  if (principal.kind === 'user') {
    if (installationId && installationId !== principal.installationId) {
      throw new ApiError('not_found', `No installation ${installationId}.`, { installationId });
    }
    return (await store.installations.get(principal.installationId))!;
  }
  if (installationId) {
    const row = await store.installations.get(installationId);
    if (!row) throw new ApiError('not_found', `No installation ${installationId}.`, { installationId });
    return row;
  }
  const all = await store.installations.list();
  if (all.length === 1) return all[0]!;
  const installations = all.map(({ id, crm, accountId, status }) => ({ id, crm, accountId, status }));
  throw new ApiError(
    'invalid_input',
    all.length === 0
      ? 'No CRM is connected yet: install one through /oauth/<crm>/install first.'
      : `installationId is required (in the query or the body): ${all.length} installations are connected: ${installations
          .map((i) => `${i.id} (${i.crm} ${i.accountId})`)
          .join(', ')}.`,
    { issues: [{ field: 'installationId', message: 'required' }], installations },
  );
}

/** Installations a listing covers: the one named (or the card's or user's own), or all of them. */
export async function installationIds(store: Store, installationId: string | undefined, principal: Principal): Promise<string[]> {
  if (principal.kind !== 'admin' || installationId) return [(await resolveInstallation(store, installationId, principal)).id];
  return (await store.installations.list()).map((i) => i.id);
}

/** A record of another installation is as good as absent to a CRM card or a console user. */
export function visibleTo(principal: Principal, row: { installationId: string | null } | undefined): boolean {
  return row !== undefined && (principal.kind === 'admin' || row.installationId === principal.installationId);
}

/** The record if the caller may see it, else a 404 naming what is missing (the same answer as for no record at all). */
export function visibleOr404<T extends { installationId: string | null }>(principal: Principal, row: T | undefined, what: string): T {
  if (!row || !visibleTo(principal, row)) throw new ApiError('not_found', `No ${what}.`);
  return row;
}

/** The installation's program a request names (`programId`), or its default program when it names none. */
export async function resolveProgram(store: Store, installation: InstallationRow, programId: string | undefined): Promise<ProgramRow> {
  if (programId === undefined) return (await store.programs.defaultProgram(installation.id))!;
  const program = await store.programs.get(programId);
  if (!program || program.installationId !== installation.id) {
    throw new ApiError('not_found', `No program ${programId} in installation ${installation.id}.`, { programId });
  }
  return program;
}

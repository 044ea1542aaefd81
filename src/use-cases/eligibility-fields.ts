import { CrmError, type CrmAccountField, type CrmClient } from '../../connectors/connector.ts';
import { detectEligibilityFields, type EligibilityFieldMapping, mappingProblems } from '../domain/eligibility-fields.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';

export type ChangeEligibilityFieldsResult =
  | { outcome: 'saved'; mapping: EligibilityFieldMapping }
  | { outcome: 'refused'; problems: { field: string; reason: string }[] }
  /** The CRM could not describe its account fields, so nothing could be checked or changed. */
  | { outcome: 'crm_unavailable'; reason: string; retryAfterMs?: number };

/**
 * At install: the fields eligibility reads, detected from the CRM's account schema. A reinstall keeps
 * the mapping already there (an admin's choice, or the first detection).
 */
export async function detectInstallationEligibilityFields(
  ctx: UseCaseContext,
  client: CrmClient,
  installation: InstallationRow,
): Promise<void> {
  const { store } = ctx;
  if ((await store.installations.settings((await store.installations.get(installation.id)) ?? installation)).eligibilityFields) return;
  const mapping = detectEligibilityFields(await client.describeAccountFields());
  const now = ctx.now();
  await store.transaction(async () => {
    await store.installations.updateSettings(installation.id, { eligibilityFields: mapping }, now);
    await store.audit.record({
      installationId: installation.id,
      actor: 'install',
      action: 'installation.eligibility_fields',
      subjectType: 'installation',
      subjectId: installation.id,
      before: null,
      after: mapping,
      at: now.toISOString(),
    });
  });
}

/** An admin names the account fields eligibility reads; each is checked against the CRM's account schema as it is now. */
export async function changeEligibilityFields(
  ctx: UseCaseContext,
  installation: InstallationRow,
  requested: EligibilityFieldMapping,
  actor: string,
): Promise<ChangeEligibilityFieldsResult> {
  const { store } = ctx;
  let fields: CrmAccountField[];
  try {
    fields = await (await ctx.crm.client(installation)).describeAccountFields();
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    return {
      outcome: 'crm_unavailable',
      reason: `${err.code}: ${err.message}`,
      ...(err.options.retryAfterMs ? { retryAfterMs: err.options.retryAfterMs } : {}),
    };
  }
  const problems = mappingProblems(requested, fields);
  if (problems.length) return { outcome: 'refused', problems };
  // Stored with the CRM's own spelling of each name, which SOQL and property reads need.
  const mapping = canonicalNames(requested, fields);
  const now = ctx.now();
  await store.transaction(async () => {
    const before =
      (await store.installations.settings((await store.installations.get(installation.id)) ?? installation)).eligibilityFields ?? null;
    await store.installations.updateSettings(installation.id, { eligibilityFields: mapping }, now);
    await store.audit.record({
      installationId: installation.id,
      actor,
      action: 'installation.eligibility_fields',
      subjectType: 'installation',
      subjectId: installation.id,
      before,
      after: mapping,
      at: now.toISOString(),
    });
  });
  return { outcome: 'saved', mapping };
}

function canonicalNames(mapping: EligibilityFieldMapping, fields: readonly CrmAccountField[]): EligibilityFieldMapping {
  const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f.name]));
  const name = (n: string | null) => (n ? (byName.get(n.toLowerCase()) ?? n) : null);
  return {
    nps: name(mapping.nps),
    customerSince: name(mapping.customerSince),
    healthScore: name(mapping.healthScore),
    openEscalations: name(mapping.openEscalations),
    accountType: mapping.accountType
      ? { field: name(mapping.accountType.field)!, customerValues: mapping.accountType.customerValues }
      : null,
  };
}

import type { CrmConnector } from './connector.ts';
import type { CrmRegistration } from './crm-registration.ts';
import { fakeRegistration } from './fake/registration.ts';
import { hubspotRegistration } from './hubspot/registration.ts';
import { salesforceRegistration } from './salesforce/registration.ts';

/**
 * Every CRM Referloop knows, one entry each. The kind union, the store's `crm` column, the HTTP
 * schemas and OAuth routes, the configuration, the wiring in src/main.ts and the CLI's `connect`
 * and `sandbox` are all derived from this list: adding a CRM is its folder, plus its import and
 * its entry here.
 * Which of them run is the configuration's choice (`ConfiguredCrm.mode`).
 */
export const crmRegistry = [hubspotRegistration, salesforceRegistration, fakeRegistration] as const;

export type CrmKind = (typeof crmRegistry)[number]['kind'];

/** The kinds, for enums (zod, drizzle). */
export const crmKinds = crmRegistry.map((registration) => registration.kind) as [CrmKind, ...CrmKind[]];

/** A connector of a registered kind: what the app holds. */
export type RegisteredConnector = CrmConnector & { readonly kind: CrmKind };

export function isCrmKind(value: string): value is CrmKind {
  return (crmKinds as string[]).includes(value);
}

export function registrationOf(kind: CrmKind): CrmRegistration<CrmKind> {
  const registration = crmRegistry.find((candidate) => candidate.kind === kind);
  if (!registration) throw new Error(`no CRM "${kind}" is registered`);
  return registration;
}

export type {
  AppSettings,
  ConfiguredCrm,
  CrmMode,
  CrmPackageRenderer,
  MountedSandbox,
  SandboxDeal,
  SandboxSalesTeam,
  StandaloneSandbox,
} from './crm-registration.ts';
export { CrmSettingsError, RenderError, SandboxDealError } from './crm-registration.ts';

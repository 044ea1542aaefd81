import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { CrmConnector, RateLimit } from './connector.ts';

/**
 * What one CRM brings to the registry (`registry.ts`): its environment variables, how they turn
 * into a mode and settings, its connector, and its sandbox. Each CRM folder exports one
 * `defineCrm(...)`; nothing in `src/` names a CRM.
 *
 * A registration is what every command loads (the configuration reads its variables), so it holds
 * only the kind, the variables and the settings rules: its connector and sandbox are `import()`ed
 * by `create`, `mount` and `standalone` when a CRM runs. A client library costs up to half a second
 * to load (jsforce), which `referloop token` should not pay.
 */

/** `live`: the vendor's real API; `sandbox`: an emulator served in-process; `off`: not offered. */
export type CrmMode = 'live' | 'sandbox' | 'off';

/** What a CRM may need of the app's own settings. */
export interface AppSettings {
  publicBaseUrl: string;
  /** `auto`: serve a sandbox for each CRM that has one and no credentials; `off`: never. */
  sandbox: 'auto' | 'off';
}

/** A CRM's settings are wrong or incomplete; the message is one line naming the variable. */
export class CrmSettingsError extends Error {
  override readonly name = 'CrmSettingsError';
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A sandbox served by the app itself, under `/sandbox/<kind>`. */
export interface MountedSandbox {
  handler: RequestHandler;
  close(): Promise<void>;
}

/** A sandbox on its own port (`referloop sandbox <kind>`). */
export interface StandaloneSandbox {
  listen(port?: number): Promise<{ url: string }>;
  close(): Promise<void>;
}

/** A deal worked through the pipeline by a pretend sales team, in a sandbox. */
export interface SandboxDeal {
  email: string;
  amount: number;
  /** Stage ids in order; the sandbox's own path to closed-won when unset. */
  stages?: string[];
}

/** A sandbox deal that cannot be played as asked (no such contact or stage, sandbox not running): nothing was created. */
export class SandboxDealError extends Error {
  override readonly name = 'SandboxDealError';
}

/**
 * A pretend sales team's single moves in a sandbox, for the first-run tour: one deal at a time,
 * one stage at a time, and a customer account whose NPS the visitor changes.
 */
export interface SandboxSalesTeam {
  /** Stage ids a deal moves through while open, in order, its two closing stages, and each one's label. */
  stages: { open: readonly string[]; won: string; lost: string; labels: Readonly<Record<string, string>> };
  /** A deal for the contact with this email, in the first open stage. */
  createDeal(deal: { email: string; amount: number; name?: string }): Promise<{ dealId: string }>;
  moveDeal(dealId: string, stage: string): Promise<void>;
  /** The customer account of this domain, created once (customer since long ago) and found after. */
  ensureCustomerAccount(account: { name: string; domain: string; nps: number }): Promise<{ companyId: string; nps: number | null }>;
  setAccountNps(companyId: string, nps: number): Promise<void>;
}

export interface CrmSandboxDefinition<Settings> {
  /** Served at `/sandbox/<kind>` when the CRM's mode is `sandbox`. */
  mount(settings: Settings, app: AppSettings): Promise<MountedSandbox>;
  /** `referloop sandbox <kind>`: the sandbox alone; `flags` are its command-line options. */
  flags: readonly string[];
  standalone(flags: Record<string, string | undefined>): Promise<StandaloneSandbox>;
  /** A newcomer's first `npm start` installs this sandbox through OAuth, so the API works at once. */
  installOnFirstStart?: boolean;
  /** `referloop sandbox-deal`: play the sales team in the running service's sandbox. */
  playDeal?(settings: Settings, deal: SandboxDeal): Promise<unknown>;
  /** The first-run tour's sales team, step by step; a sandbox without it is not toured. */
  salesTeam?(settings: Settings): Promise<SandboxSalesTeam>;
}

/** `referloop render <kind>`: the CRM's app package for one deployment of Referloop, ready to upload or deploy. */
export interface CrmPackageRenderer {
  /** Its command-line options besides `--out` and `--base-url`. */
  flags: readonly string[];
  /** Writes the package into `outDir` (new or empty); `next` says how to upload or deploy it. */
  render(options: {
    baseUrl: string;
    outDir: string;
    flags: Record<string, string | undefined>;
  }): Promise<{ files: string[]; next: string }>;
}

/** A package that cannot be rendered as asked (a wrong URL or option): nothing was written. */
export class RenderError extends Error {
  override readonly name = 'RenderError';
}

export interface CrmDefinition<Kind extends string, Shape extends z.ZodRawShape, Settings> {
  kind: Kind;
  /** The vendor's name, for people. */
  label: string;
  /** Its own environment variables (validated with the app's, in one pass, by src/config.ts). */
  env: z.ZodObject<Shape>;
  /** The variables of `env` that together make the CRM live (its app credentials); none when it has no live mode. */
  credentials: readonly (keyof Shape & string)[];
  configure(env: z.output<z.ZodObject<Shape>>, app: AppSettings): { mode: CrmMode; settings: Settings };
  /** Loads the connector's modules (`import()`) and creates it. */
  create(settings: Settings): Promise<CrmConnector>;
  /** The client's rate limit, when the settings override the connector's documented default. */
  rateLimit?(settings: Settings): RateLimit | undefined;
  sandbox?: CrmSandboxDefinition<Settings>;
  packageRenderer?: CrmPackageRenderer;
}

/** One CRM as the app runs it: mode chosen, settings bound. */
export interface ConfiguredCrm<Kind extends string = string> {
  kind: Kind;
  label: string;
  mode: CrmMode;
  createConnector(): Promise<CrmConnector & { readonly kind: Kind }>;
  rateLimit: RateLimit | undefined;
  /** Set in `sandbox` mode. */
  sandbox?: {
    mount(): Promise<MountedSandbox>;
    installOnFirstStart: boolean;
    playDeal?(deal: SandboxDeal): Promise<unknown>;
    salesTeam?(): Promise<SandboxSalesTeam>;
  };
}

/** A definition with its settings type hidden, so different CRMs fit in one list. */
export interface CrmRegistration<Kind extends string = string> {
  kind: Kind;
  label: string;
  env: z.ZodObject<z.ZodRawShape>;
  /** The variables that make the CRM live (see `CrmDefinition.credentials`). */
  credentials: readonly string[];
  /** `env` is the app's environment as validated by a schema that includes this CRM's `env`. */
  configure(env: Record<string, unknown>, app: AppSettings): ConfiguredCrm<Kind>;
  sandbox?: { flags: readonly string[]; standalone(flags: Record<string, string | undefined>): Promise<StandaloneSandbox> };
  packageRenderer?: CrmPackageRenderer;
}

export function defineCrm<const Kind extends string, Shape extends z.ZodRawShape, Settings>(
  definition: CrmDefinition<Kind, Shape, Settings>,
): CrmRegistration<Kind> {
  const { kind, label, sandbox } = definition;
  return {
    kind,
    label,
    env: definition.env,
    credentials: definition.credentials,
    configure(env, app) {
      // The app validated `env` with a schema extending this CRM's shape, so its keys have this type.
      const { mode, settings } = definition.configure(env as z.output<z.ZodObject<Shape>>, app);
      return {
        kind,
        label,
        mode,
        async createConnector() {
          const connector = await definition.create(settings);
          if (connector.kind !== kind) throw new Error(`the ${kind} registration created a connector of kind ${connector.kind}`);
          return connector as CrmConnector & { readonly kind: Kind };
        },
        rateLimit: definition.rateLimit?.(settings),
        ...(mode === 'sandbox' && sandbox
          ? {
              sandbox: {
                mount: () => sandbox.mount(settings, app),
                installOnFirstStart: sandbox.installOnFirstStart ?? false,
                ...(sandbox.playDeal ? { playDeal: (deal: SandboxDeal) => sandbox.playDeal!(settings, deal) } : {}),
                ...(sandbox.salesTeam ? { salesTeam: () => sandbox.salesTeam!(settings) } : {}),
              },
            }
          : {}),
      };
    },
    ...(sandbox ? { sandbox: { flags: sandbox.flags, standalone: sandbox.standalone } } : {}),
    ...(definition.packageRenderer ? { packageRenderer: definition.packageRenderer } : {}),
  };
}

/**
 * The usual credential rule: all of `names` set → live; none → the sandbox (when the CRM has one
 * and sandboxes are on), else off; some → a settings error naming the first missing variable
 * (a half-configured CRM would otherwise silently stay on the sandbox).
 */
export function modeFromCredentials(
  env: Record<string, unknown>,
  names: readonly string[],
  app: AppSettings,
  crm: { label: string; hasSandbox: boolean },
): CrmMode {
  const set = names.filter((name) => env[name] !== undefined);
  if (set.length === names.length) return 'live';
  if (set.length === 0) return crm.hasSandbox && app.sandbox === 'auto' ? 'sandbox' : 'off';
  const missing = names.filter((name) => !set.includes(name));
  const otherwise = crm.hasSandbox ? 'for its sandbox' : 'to leave it off';
  throw new CrmSettingsError(
    `${missing[0]} is not set, but ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'}: set ${names.join(' and ')} for the live ${crm.label}, or none of them ${otherwise}`,
  );
}

/** Helpers for CRMs' environment schemas, matching the app's own (`src/config.ts`). */
export const envVar = {
  /** Optional text; an empty value counts as unset. */
  text: () =>
    z
      .string()
      .trim()
      .transform((v) => (v === '' ? undefined : v))
      .optional(),
  url: () => z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
};

import { randomBytes } from 'node:crypto';
import type { OAuthGrant } from '../../connectors/connector.ts';
import type { CrmKind } from '../../connectors/registry.ts';
import { defaultProgram } from '../domain/program.ts';
import { defaultStageMapping, stageLabels } from '../domain/referral-lifecycle.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import { detectInstallationEligibilityFields } from './eligibility-fields.ts';
import type { UseCaseContext } from '../ports/context.ts';

const STATE_TTL_MS = 10 * 60_000;

export class InstallError extends Error {
  override readonly name = 'InstallError';
}

/**
 * Starts the OAuth flow: a one-time state (CSRF) and, for PKCE, the verifier, kept server-side with
 * what the callback completes (an install, or a console sign-in: both return to the same callback).
 */
export async function startInstall(
  ctx: UseCaseContext,
  crm: CrmKind,
  redirectUri: string,
  purpose: OAuthPurpose = 'install',
): Promise<string> {
  const connector = ctx.crm.connector(crm);
  if (!connector) throw new InstallError(`${crm} is not configured`);
  const state = randomBytes(24).toString('base64url');
  const start = connector.oauth.start({ state, redirectUri });
  const now = ctx.now();
  await ctx.store.oauthStates.save(
    { state, crm, codeVerifier: start.codeVerifier ?? null, expiresAt: new Date(now.getTime() + STATE_TTL_MS).toISOString(), purpose },
    now,
  );
  return start.url;
}

export type OAuthPurpose = 'install' | 'sign_in';

/**
 * The callback: checks the state, exchanges the code; for an install, stores the installation and
 * provisions. A sign-in returns the grant for the console to find its installation and user.
 */
export async function completeInstall(
  ctx: UseCaseContext,
  crm: CrmKind,
  args: { code: string; state: string; redirectUri: string },
): Promise<
  { purpose: 'install'; installation: InstallationRow; created: boolean; grant: OAuthGrant } | { purpose: 'sign_in'; grant: OAuthGrant }
> {
  const connector = ctx.crm.connector(crm);
  if (!connector) throw new InstallError(`${crm} is not configured`);
  const saved = await ctx.store.oauthStates.take(args.state);
  if (!saved || saved.crm !== crm || saved.expiresAt < ctx.now().toISOString()) {
    throw new InstallError('The link expired or was not started here; start again.');
  }
  const grant = await connector.oauth.exchangeCode({
    code: args.code,
    redirectUri: args.redirectUri,
    ...(saved.codeVerifier ? { codeVerifier: saved.codeVerifier } : {}),
  });
  if (saved.purpose === 'sign_in') return { purpose: 'sign_in', grant };
  return {
    purpose: 'install',
    grant,
    ...(await connectInstallation(ctx, crm, grant, grant.user ? `crm-user:${grant.user.id} ${grant.user.email}` : 'oauth')),
  };
}

/**
 * Registers (or refreshes) an installation from a grant, then provisions idempotently: the CRM
 * properties or the package check, the default stage mapping from the account's pipelines, and
 * the default program for a first install. Reinstalling changes nothing that exists.
 */
export async function connectInstallation(
  ctx: UseCaseContext,
  crm: CrmKind,
  grant: OAuthGrant,
  actor: string,
): Promise<{ installation: InstallationRow; created: boolean }> {
  const { store } = ctx;
  const now = ctx.now();
  const { row, created } = await store.installations.upsert({
    crm,
    accountId: grant.accountId,
    ...(grant.accountName ? { accountName: grant.accountName } : {}),
    tokens: grant.tokens,
    now,
  });
  if (!(await store.programs.defaultProgram(row.id)))
    await store.programs.addVersion(await store.programs.create(row.id, true), defaultProgram(), 'install');
  // A CRM whose cards the CRM does not sign (Salesforce) calls with a key of this installation,
  // shown once on the settings page the install lands on.
  if (created && !ctx.crm.connector(crm)?.cards) {
    await store.cardKeys.issue({ installationId: row.id, createdBy: actor, now, overlapUntil: now, revealOnce: true });
  }
  await store.audit.record({
    installationId: row.id,
    actor,
    action: created ? 'installation.created' : 'installation.reconnected',
    subjectType: 'installation',
    subjectId: row.id,
    after: { crm, accountId: grant.accountId },
    at: now.toISOString(),
  });

  const client = await ctx.crm.client(row);
  const report = await client.provision();
  const settings = await store.installations.settings(row);
  const stages = await client.listPipelineStages();
  const mapping = { ...defaultStageMapping(stages), ...(settings.stageMapping ?? {}) };
  await store.installations.updateSettings(
    row.id,
    {
      stageMapping: mapping,
      stageLabels: stageLabels(stages),
      provisioning: { ...report, at: now.toISOString() },
      ...(report.webToLeadCodeField ? { webToLeadCodeField: report.webToLeadCodeField } : {}),
    },
    now,
  );
  await detectInstallationEligibilityFields(ctx, client, row);
  return { installation: (await store.installations.get(row.id))!, created };
}

import type { OAuthGrant } from '../../connectors/connector.ts';
import type { CrmKind } from '../../connectors/registry.ts';
import { enqueueLinkEmail } from '../notify/sign-in-link.ts';
import { consoleSignInLinkUrl } from '../notify/portal-link.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { ConsoleUserRow } from '../store/console-users.repo.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ConsoleRole } from '../domain/console-roles.ts';
import { hashToken } from '../store/sessions.repo.ts';

/** How the audit log names a console user: `user:<id> <email>`. */
export const consoleActor = (user: Pick<ConsoleUserRow, 'id' | 'email'>) => `user:${user.id} ${user.email}`;

/**
 * A CRM user who authorized Referloop: admin of the installation of their portal or org (only
 * those the CRM lets authorize apps get this far). Says why not when the account has no
 * installation or the CRM did not tell who the user is.
 */
export async function signInWithCrm(
  ctx: UseCaseContext,
  crm: CrmKind,
  grant: OAuthGrant,
): Promise<
  | { outcome: 'signed_in'; installation: InstallationRow; user: ConsoleUserRow }
  | { outcome: 'not_installed'; accountId: string }
  | { outcome: 'unknown_user' }
> {
  const installation = await ctx.store.installations.findByAccount(crm, grant.accountId);
  if (!installation) return { outcome: 'not_installed', accountId: grant.accountId };
  if (!grant.user) return { outcome: 'unknown_user' };
  const { user: crmUser } = grant;
  const now = ctx.now();
  const user = await ctx.store.transaction(async () => {
    const { row, before } = await ctx.store.consoleUsers.upsert({
      installationId: installation.id,
      email: crmUser.email,
      name: crmUser.name ?? null,
      role: 'admin',
      crmUserId: crmUser.id,
      invitedBy: 'crm',
      now,
    });
    if (before?.role !== 'admin' || before.revokedAt) {
      await ctx.store.audit.record({
        installationId: installation.id,
        actor: `crm-user:${crmUser.id} ${crmUser.email}`,
        action: 'console_user.signed_in_with_crm',
        subjectType: 'console_user',
        subjectId: row.id,
        before: before ? { role: before.role, revokedAt: before.revokedAt } : null,
        after: { role: row.role, crmUserId: crmUser.id },
        at: now.toISOString(),
      });
    }
    return row;
  });
  return { outcome: 'signed_in', installation, user };
}

/**
 * Invites (or re-invites) someone to an installation's console with a role: the user row, a
 * single-use sign-in link and its email, in one transaction.
 */
export async function inviteConsoleUser(
  ctx: UseCaseContext,
  args: {
    installation: InstallationRow;
    invite: { email: string; name?: string | undefined; role: ConsoleRole };
    invitedBy: string;
    publicBaseUrl: string;
    linkTtlMs: number;
    ip: string;
  },
): Promise<ConsoleUserRow> {
  const { store } = ctx;
  const now = ctx.now();
  const { installation, invite } = args;
  return await store.transaction(async () => {
    const { row, before } = await store.consoleUsers.upsert({
      installationId: installation.id,
      email: invite.email,
      name: invite.name ?? null,
      role: invite.role,
      invitedBy: args.invitedBy,
      now,
    });
    const expiresAt = new Date(now.getTime() + args.linkTtlMs);
    const token = await store.sessions.addLink({
      installationId: installation.id,
      email: row.email,
      referrerId: null,
      consoleUserId: row.id,
      origin: 'invite',
      ip: args.ip,
      expiresAt: expiresAt.toISOString(),
      createdAt: now.toISOString(),
    });
    // Every installation has its default program from install on: the invite comes from its sender.
    const program = (await store.programs.currentDefault(installation.id))!.program;
    const sender = { name: program.name, senderName: program.senderName, senderEmail: program.senderEmail };
    await enqueueLinkEmail(
      store.outbox,
      {
        topic: 'console.invite',
        installationId: installation.id,
        referrerId: null,
        tokenHash: hashToken(token),
        data: {
          consoleInvite: {
            url: consoleSignInLinkUrl(args.publicBaseUrl, installation.id, token),
            expiresAt: expiresAt.toISOString(),
            hours: Math.round(args.linkTtlMs / 3_600_000),
            role: row.role,
            invitedBy: args.invitedBy.replace(/^user:\S+ /, ''),
          },
        },
      },
      sender,
      { name: row.name ?? row.email, email: row.email },
      now,
    );
    await store.audit.record({
      installationId: installation.id,
      actor: args.invitedBy,
      action: 'console_user.invited',
      subjectType: 'console_user',
      subjectId: row.id,
      before: before ? { role: before.role, revokedAt: before.revokedAt } : null,
      after: { email: row.email, role: row.role },
      at: now.toISOString(),
    });
    return row;
  });
}

/** Revokes a user of this installation and signs them out everywhere; false if there is no such user. */
export async function revokeConsoleUser(
  ctx: UseCaseContext,
  installation: InstallationRow,
  userId: string,
  actor: string,
): Promise<boolean> {
  const { store } = ctx;
  const user = await store.consoleUsers.get(userId);
  if (!user || user.installationId !== installation.id) return false;
  const now = ctx.now();
  await store.transaction(async () => {
    await store.consoleUsers.revoke(user.id, now);
    await store.audit.record({
      installationId: installation.id,
      actor,
      action: 'console_user.revoked',
      subjectType: 'console_user',
      subjectId: user.id,
      before: { role: user.role, revokedAt: user.revokedAt },
      after: { revokedAt: now.toISOString() },
      at: now.toISOString(),
    });
  });
  return true;
}

/** Sign-in links asked for per email and per client address in an hour (the portal's limits, counted together). */
const LINK_REQUESTS_PER_EMAIL = 5;
const LINK_REQUESTS_PER_IP = 30;
const HOUR_MS = 60 * 60_000;

/**
 * A console user asks for a fresh sign-in link by email (an invited user's session expired). Every
 * request is recorded, known email or not, so the limits count them all; only an active user of
 * the installation is emailed, and the caller answers the same either way.
 */
export async function requestConsoleSignInLink(
  ctx: UseCaseContext,
  args: { installation: InstallationRow; email: string; ip: string; publicBaseUrl: string; linkTtlMs: number },
): Promise<'requested' | 'rate_limited'> {
  const { store } = ctx;
  const now = ctx.now();
  const { installation, email } = args;
  return await store.transaction(async () => {
    const recent = await store.sessions.recentLinkRequests(email, args.ip, new Date(now.getTime() - HOUR_MS));
    if (recent.email >= LINK_REQUESTS_PER_EMAIL || recent.ip >= LINK_REQUESTS_PER_IP) return 'rate_limited';
    const user = (await store.consoleUsers.list(installation.id)).find((u) => u.email === email.toLowerCase() && !u.revokedAt);
    const expiresAt = new Date(now.getTime() + args.linkTtlMs);
    const token = await store.sessions.addLink({
      installationId: installation.id,
      email,
      referrerId: null,
      ...(user ? { consoleUserId: user.id } : {}),
      ip: args.ip,
      expiresAt: expiresAt.toISOString(),
      createdAt: now.toISOString(),
    });
    if (!user) return 'requested';
    const program = (await store.programs.currentDefault(installation.id))!.program;
    await enqueueLinkEmail(
      store.outbox,
      {
        topic: 'console.sign_in',
        installationId: installation.id,
        referrerId: null,
        tokenHash: hashToken(token),
        data: {
          signIn: {
            url: consoleSignInLinkUrl(args.publicBaseUrl, installation.id, token),
            expiresAt: expiresAt.toISOString(),
            minutes: Math.round(args.linkTtlMs / 60_000),
          },
        },
      },
      { name: program.name, senderName: program.senderName, senderEmail: program.senderEmail },
      { name: user.name ?? user.email, email: user.email },
      now,
    );
    return 'requested';
  });
}

/**
 * The console's sign-in, end to end against the in-process sandbox CRMs and a real SMTP server:
 * CRM users sign in through each CRM's OAuth (any admin of the portal or org, not only the
 * installer), an admin invites finance and viewers whose emailed single-use link opens a session
 * with their role, and the sessions are refused when expired, forged, revoked or without CSRF.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSession, throughCrmOAuth, type ConsoleSession } from '../support/console.ts';
import { startSmtpServer, type SmtpTestServer } from '../support/smtp-server.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

interface UserBody {
  id: string;
  email: string;
  role: string;
  crmUserId: string | null;
  revokedAt: string | null;
}

describe('console sign-in', () => {
  let smtp: SmtpTestServer;
  let svc: TestService;
  let hubspotId: string;
  let admin: ConsoleSession;
  const sql = <T>(query: string, ...params: unknown[]) => svc.sqlite.prepare(query).all(...params) as T[];
  const write = (query: string, ...params: unknown[]) => svc.sqlite.prepare(query).run(...params);

  beforeAll(async () => {
    smtp = await startSmtpServer();
    svc = await startTestService({ SMTP_URL: smtp.url });
    hubspotId = await installSandbox(svc, 'hubspot');
  }, 30_000);
  afterAll(async () => {
    await svc?.stop();
    await smtp?.stop();
  });

  it('a HubSpot user other than the installer signs in through HubSpot and is admin of that portal only', async () => {
    const start = await fetch(`${svc.url}/console/sign-in/hubspot`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    expect(start.headers.get('location')).toContain('/sandbox/hubspot/oauth/authorize?');

    const { res, cookie, location } = await throughCrmOAuth(`${svc.url}/console/sign-in/hubspot`, 'casey.success@sandbox-portal.example');
    expect(res.status).toBe(303);
    expect(location).toBe(`${svc.url}/console/${hubspotId}`);
    expect(cookie).toBeDefined();
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);

    admin = await consoleSession(svc.url, cookie!);
    expect(admin.session).toMatchObject({
      subject: { kind: 'user', email: 'casey.success@sandbox-portal.example' },
      installationId: hubspotId,
      role: 'admin',
      installation: { id: hubspotId, crm: 'hubspot' },
    });
    const users = (await (await admin.api(`/installations/${hubspotId}/users`)).json()) as { items: UserBody[] };
    expect(users.items).toContainEqual(
      expect.objectContaining({ email: 'casey.success@sandbox-portal.example', role: 'admin', crmUserId: '9000002' }),
    );
    // The console page's "Sign in with your CRM account" goes to the installation's own CRM.
    const toCrm = await fetch(`${svc.url}/console/${hubspotId}/sign-in`, { redirect: 'manual' });
    expect(toCrm.headers.get('location')).toBe('/console/sign-in/hubspot');
  });

  it('signing in with a Salesforce org that has not installed Referloop says so, links the install, and opens no session', async () => {
    const { res, body, cookie } = await throughCrmOAuth(`${svc.url}/console/sign-in/salesforce`);
    expect(res.status).toBe(404);
    expect(body).toContain('Referloop is not installed in Salesforce org');
    expect(body).toContain('href="/oauth/salesforce/install"');
    expect(cookie).toBeUndefined();
  });

  it('installing Salesforce signs the installer in; another admin of the org then signs in through Salesforce', async () => {
    const install = await throughCrmOAuth(`${svc.url}/oauth/salesforce/install`);
    expect(install.res.status).toBe(302);
    const salesforceId = new URL(install.location!).searchParams.get('installationId')!;
    const installer = await consoleSession(svc.url, install.cookie!);
    expect(installer.session).toMatchObject({
      subject: { email: 'admin@sandbox.example' },
      installationId: salesforceId,
      role: 'admin',
    });

    const second = await throughCrmOAuth(`${svc.url}/console/sign-in/salesforce`, 'second.admin@sandbox.example');
    expect(second.location).toBe(`${svc.url}/console/${salesforceId}`);
    const session = await consoleSession(svc.url, second.cookie!);
    expect(session.session).toMatchObject({
      subject: { email: 'second.admin@sandbox.example', name: 'Second Admin' },
      installationId: salesforceId,
      role: 'admin',
    });
    // Each installation's users are its own.
    const theirs = (await (await session.api(`/installations/${salesforceId}/users`)).json()) as { items: UserBody[] };
    expect(theirs.items.map((u) => u.email).sort()).toEqual(['admin@sandbox.example', 'second.admin@sandbox.example']);
    expect((await session.api(`/installations/${hubspotId}/users`)).status).toBe(404);
  });

  /** Invites through the API, then opens the emailed link as the console page's script does. */
  async function invite(email: string, role: string): Promise<{ user: UserBody; link: string }> {
    const res = await admin.api(`/installations/${hubspotId}/users`, { method: 'POST', json: { email, role, name: 'Fin Ance' } });
    expect(res.status).toBe(201);
    const user = (await res.json()) as UserBody;
    const [mail] = await smtp.waitForMessages(1, { to: email });
    const link = /https?:\/\/\S+\/console\/\S+#[\w-]+/.exec(mail!.text)?.[0];
    expect(link, mail!.text).toBeDefined();
    expect(mail!.text).toContain(`as ${role}`);
    expect(mail!.text).toContain('casey.success@sandbox-portal.example');
    return { user, link: link! };
  }
  const followLink = (link: string) => {
    const [page, token] = link.split('#') as [string, string];
    const installationId = decodeURIComponent(new URL(page).pathname.split('/').at(-1)!);
    return fetch(`${svc.url}/console/sign-in/link`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ installationId, token }),
    });
  };

  let finance: ConsoleSession;
  let viewer: ConsoleSession;

  it('an invite emails a single-use link to the console that opens a session with the role', async () => {
    const { user, link } = await invite('fin@customer.example', 'finance');
    expect(link.startsWith(`${svc.url}/console/${hubspotId}#`)).toBe(true);
    const opened = await followLink(link);
    expect(opened.status).toBe(200);
    finance = await consoleSession(svc.url, opened.headers.getSetCookie()[0]!.split(';')[0]!);
    expect(finance.session).toMatchObject({ subject: { kind: 'user', id: user.id, email: 'fin@customer.example' }, role: 'finance' });

    const again = await followLink(link);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { message: string } }).error.message).toContain('already used');

    const viewerLink = (await invite('view@customer.example', 'viewer')).link;
    viewer = await consoleSession(svc.url, (await followLink(viewerLink)).headers.getSetCookie()[0]!.split(';')[0]!);
    expect(viewer.session.role).toBe('viewer');

    const audit = sql<{ actor: string; action: string }>("SELECT actor, action FROM audit_log WHERE action = 'console_user.invited'");
    expect(audit).toHaveLength(2);
    expect(audit[0]!.actor).toMatch(/^user:usr_\S+ casey\.success@sandbox-portal\.example$/);
  });

  it('an expired invite link opens nothing', async () => {
    const { link } = await invite('late@customer.example', 'viewer');
    write("UPDATE magic_links SET expires_at = '2000-01-01T00:00:00.000Z' WHERE origin = 'invite' AND used_at IS NULL");
    const res = await followLink(link);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('expired');
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('refuses writes the role does not allow, and writes without the CSRF token, writing nothing', async () => {
    const count = () => sql<{ n: number }>('SELECT count(*) AS n FROM console_users')[0]!.n;
    const before = count();
    const byViewer = await viewer.api('/rewards/rwd_any/approve', { method: 'POST', json: {} });
    expect(byViewer.status).toBe(403);
    expect(((await byViewer.json()) as { error: { message: string } }).error.message).toContain('A viewer may not');
    const inviteByFinance = await finance.api(`/installations/${hubspotId}/users`, {
      method: 'POST',
      json: { email: 'x@customer.example', role: 'admin' },
    });
    expect(inviteByFinance.status).toBe(403);
    const noCsrf = await admin.api(`/installations/${hubspotId}/users`, {
      method: 'POST',
      json: { email: 'y@customer.example', role: 'viewer' },
      csrf: false,
    });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { error: { message: string } }).error.message).toContain('x-csrf-token');
    const badRole = await admin.api(`/installations/${hubspotId}/users`, {
      method: 'POST',
      json: { email: 'z@customer.example', role: 'owner' },
    });
    expect(badRole.status).toBe(400);
    expect(count()).toBe(before);
    // Reading is every role's.
    expect((await viewer.api('/rewards')).status).toBe(200);
    expect((await finance.api('/payouts')).status).toBe(200);
  });

  it('an expired or forged cookie is refused with 401', async () => {
    const forged = await fetch(`${svc.url}/api/v1/rewards`, { headers: { cookie: 'referloop_session=forged-token-forged-token-forged' } });
    expect(forged.status).toBe(401);
    const { cookie } = await throughCrmOAuth(`${svc.url}/console/sign-in/hubspot`, 'sam.seller@sandbox-portal.example');
    expect((await fetch(`${svc.url}/api/v1/rewards`, { headers: { cookie: cookie! } })).status).toBe(200);
    write(
      "UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z' WHERE subject_kind = 'user' AND subject_id = (SELECT id FROM console_users WHERE email = ?)",
      'sam.seller@sandbox-portal.example',
    );
    expect((await fetch(`${svc.url}/api/v1/rewards`, { headers: { cookie: cookie! } })).status).toBe(401);
    expect((await fetch(`${svc.url}/api/v1/session`, { headers: { cookie: cookie! } })).status).toBe(401);
  });

  it('revoking a user ends their sessions; signing out ends one', async () => {
    const revoke = await admin.api(`/installations/${hubspotId}/users/${viewer.session.subject.id}`, { method: 'DELETE' });
    expect(revoke.status).toBe(204);
    expect((await viewer.api('/rewards')).status).toBe(401);
    const [entry] = sql<{ actor: string }>("SELECT actor FROM audit_log WHERE action = 'console_user.revoked'");
    expect(entry!.actor).toContain('casey.success@sandbox-portal.example');

    const out = await finance.api('/session', { method: 'DELETE' });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/referloop_session=;/);
    expect((await finance.api('/payouts')).status).toBe(401);
  });

  it('an invited user signs in again with a link asked for by email; an unknown email gets the same answer and no email', async () => {
    const ask = (email: string) =>
      fetch(`${svc.url}/console/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ installationId: hubspotId, email }),
      });
    const known = await ask('FIN@customer.example');
    expect(known.status).toBe(202);
    const unknown = await ask('nobody@customer.example');
    expect(unknown.status).toBe(202);
    expect(await unknown.json()).toEqual(await known.json());

    const mails = await smtp.waitForMessages(2, { to: 'fin@customer.example' });
    const mail = mails.find((m) => m.subject.startsWith('Your sign-in link'))!;
    const link = /https?:\/\/\S+\/console\/\S+#[\w-]+/.exec(mail.text)![0];
    const opened = await followLink(link);
    expect(opened.status).toBe(200);
    const again = await consoleSession(svc.url, opened.headers.getSetCookie()[0]!.split(';')[0]!);
    expect(again.session).toMatchObject({ subject: { email: 'fin@customer.example' }, role: 'finance' });
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.messages('nobody@customer.example')).toEqual([]);

    // A revoked user is not emailed either; asking too often is refused.
    expect((await ask('view@customer.example')).status).toBe(202);
    for (let i = 0; i < 4; i++) await ask('view@customer.example');
    const limited = await ask('view@customer.example');
    expect(limited.status).toBe(429);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.messages('view@customer.example').filter((m) => m.subject.startsWith('Your sign-in link'))).toEqual([]);
  });
});

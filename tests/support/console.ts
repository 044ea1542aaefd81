/** A browser's view of the console in tests: the CRM's OAuth followed hop by hop, and calls with the session cookie. */

/** The `name=value` of the session cookie a response sets, if it sets one. */
export function sessionCookieOf(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('referloop_session=') && c !== 'referloop_session=');
}

/**
 * Follows `start` through the CRM's consent (the sandbox approves as the user `loginHint` names,
 * else its installer) back to Referloop's callback, and returns the callback's answer and cookie.
 */
export async function throughCrmOAuth(
  start: string,
  loginHint?: string,
): Promise<{ res: Response; body: string; cookie: string | undefined; location: string | null }> {
  let next = start;
  for (let hop = 0; hop < 5; hop++) {
    const url = new URL(next);
    if (loginHint && /\/(oauth|oauth2)\/authorize$/.test(url.pathname)) url.searchParams.set('login_hint', loginHint);
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (url.pathname.endsWith('/callback') || res.status !== 302 || !location) {
      return { res, body: await res.text(), cookie: sessionCookieOf(res), location };
    }
    next = new URL(location, url).toString();
  }
  throw new Error(`too many redirects from ${start}`);
}

export interface ConsoleSession {
  cookie: string;
  csrfToken: string;
  session: {
    subject: { kind: string; id: string; email?: string; name: string | null };
    installationId: string;
    role: string;
    installation?: { id: string; crm: string };
  };
  /** fetch against `/api/v1` with the cookie and, on writes, the CSRF header; `json` becomes the body. */
  api(path: string, init?: RequestInit & { json?: unknown; csrf?: boolean }): Promise<Response>;
}

/** The session a cookie opens, as `GET /api/v1/session` tells it, with an API caller bound to it. */
export async function consoleSession(baseUrl: string, cookie: string): Promise<ConsoleSession> {
  const res = await fetch(`${baseUrl}/api/v1/session`, { headers: { cookie } });
  if (res.status !== 200) throw new Error(`no session: ${res.status} ${await res.text()}`);
  const session = (await res.json()) as ConsoleSession['session'] & { csrfToken: string };
  return {
    cookie,
    csrfToken: session.csrfToken,
    session,
    api(path, init = {}) {
      const { json, csrf = true, ...rest } = init;
      const write = (rest.method ?? 'GET') !== 'GET';
      return fetch(`${baseUrl}/api/v1${path}`, {
        ...rest,
        headers: {
          cookie,
          ...(write && csrf ? { 'x-csrf-token': session.csrfToken } : {}),
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(rest.headers as Record<string, string> | undefined),
        },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
    },
  };
}

/** The referrer portal of one installation: every referrer email links here (one email can refer in several installations). */
export function referrerPortalLink(publicBaseUrl: string, installationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/portal/${encodeURIComponent(installationId)}`;
}

/**
 * A single-use sign-in link: the token rides in the fragment, which never reaches servers or logs.
 * `landing` is the portal page it opens once signed in (`ask/<id>`); by default, the referrals.
 */
export function signInLinkUrl(publicBaseUrl: string, installationId: string, token: string, landing?: string): string {
  const to = landing ? `?to=${encodeURIComponent(landing)}` : '';
  return `${referrerPortalLink(publicBaseUrl, installationId)}/link${to}#${token}`;
}

/** The portal pages a sign-in link may land on: anything else lands on the referrals. */
export function isPortalLanding(value: string): boolean {
  return /^ask\/[A-Za-z0-9_-]{1,64}$/.test(value);
}

/** The admin console of one installation. */
export function consoleLink(publicBaseUrl: string, installationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/console/${encodeURIComponent(installationId)}`;
}

/** A console invite's single-use sign-in link, the token in the fragment like the portal's. */
export function consoleSignInLinkUrl(publicBaseUrl: string, installationId: string, token: string): string {
  return `${consoleLink(publicBaseUrl, installationId)}#${token}`;
}

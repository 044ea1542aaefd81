/** The referrer portal of one installation: every referrer email links here (one email can refer in several installations). */
export function referrerPortalLink(publicBaseUrl: string, installationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/portal/${encodeURIComponent(installationId)}`;
}

/** A single-use sign-in link: the token rides in the fragment, which never reaches servers or logs. */
export function signInLinkUrl(publicBaseUrl: string, installationId: string, token: string): string {
  return `${referrerPortalLink(publicBaseUrl, installationId)}/link#${token}`;
}

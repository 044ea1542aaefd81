/** The referrer portal of one installation: every referrer email links here (one email can refer in several installations). */
export function referrerPortalLink(publicBaseUrl: string, installationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/portal/${encodeURIComponent(installationId)}`;
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Long enough to land on the page after an install; the console (issue #14) will bring sessions. */
const LINK_TTL_MS = 15 * 60_000;

/**
 * The link the OAuth callback redirects to: `/app/settings` for one installation, signed with a
 * key derived from ENCRYPTION_KEY and valid for a short while, so knowing an installation's id
 * is not enough to open its settings.
 */
export interface SettingsLinks {
  /** The path and query of a link valid from `now`. */
  issue(installationId: string, now: Date): string;
  /** The installation a link's query names, if its signature holds and it has not expired. */
  verify(query: Record<string, unknown>, now: Date): string | undefined;
}

export function settingsLinks(secret: Buffer): SettingsLinks {
  // A key of its own: a signature made for this purpose can never pass for another.
  const key = createHmac('sha256', secret).update('referloop settings link v1').digest();
  const sign = (installationId: string, expires: number) => createHmac('sha256', key).update(`${installationId}\n${expires}`).digest();
  return {
    issue(installationId, now) {
      const expires = now.getTime() + LINK_TTL_MS;
      const query = new URLSearchParams({
        installationId,
        expires: String(expires),
        signature: sign(installationId, expires).toString('base64url'),
      });
      return `/app/settings?${query}`;
    },
    verify(query, now) {
      const { installationId, expires, signature } = query;
      if (typeof installationId !== 'string' || typeof expires !== 'string' || typeof signature !== 'string' || !/^\d{1,15}$/.test(expires))
        return undefined;
      if (Number(expires) < now.getTime()) return undefined;
      const given = Buffer.from(signature, 'base64url');
      const expected = sign(installationId, Number(expires));
      return given.length === expected.length && timingSafeEqual(given, expected) ? installationId : undefined;
    },
  };
}

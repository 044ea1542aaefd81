/**
 * Referral links: each referrer shares `$PUBLIC_BASE_URL/r/<code>`. The code is the installation's
 * tag followed by random characters, so a link names its installation (a wrong code still lands on
 * that installation's page) and cannot be guessed. This file decides; the store keeps codes and visits.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Characters naming the installation. */
export const LINK_TAG_LENGTH = 4;
/** 13 base62 characters: log2(62^13) ≈ 77 bits of entropy, above the 64 a link must have. */
export const LINK_SECRET_LENGTH = 13;
export const LINK_CODE_LENGTH = LINK_TAG_LENGTH + LINK_SECRET_LENGTH;

/** The query parameter carrying the code to the vendor's page, and the form field the capture script fills. */
export const CODE_QUERY_PARAMETER = 'referloop_code';
export const CODE_FORM_FIELD = 'referloop_referral_code';

export interface LinkPolicy {
  /** Where a link lands when it names no page of its own (and where a wrong code lands). */
  landingUrl: string;
  /** Hosts a landing URL may be on: each domain and its subdomains. */
  allowedDomains: string[];
  /** Link referrals wait for an approver before they are accepted (absent: accepted as the checks say). */
  requireApproval?: boolean;
}

/** `length` base62 characters from a source of random bytes, without modulo bias. */
export function randomBase62(length: number, randomBytes: (n: number) => Uint8Array): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes at or above it would favour the first characters.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function newLinkCode(tag: string, randomBytes: (n: number) => Uint8Array): string {
  return `${tag}${randomBase62(LINK_SECRET_LENGTH, randomBytes)}`;
}

/** A code as links carry it; anything else is answered without a look-up. */
export function isWellFormedCode(code: string): boolean {
  return code.length === LINK_CODE_LENGTH && /^[0-9A-Za-z]+$/.test(code);
}

export function tagOf(code: string): string {
  return code.slice(0, LINK_TAG_LENGTH);
}

/** The host of a URL is one of the allowed domains or under one; only https (http on localhost, for tests and development). */
export function landingUrlAllowed(url: string, allowedDomains: string[]): { ok: true } | { ok: false; reason: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  const local = parsed.hostname === 'localhost' || parsed.hostname === '127.0.0.1';
  if (parsed.protocol !== 'https:' && !(local && parsed.protocol === 'http:')) return { ok: false, reason: 'must be an https URL' };
  if (parsed.username || parsed.password) return { ok: false, reason: 'must not carry credentials' };
  const host = parsed.hostname.toLowerCase();
  const allowed = allowedDomains.some((d) => {
    const domain = d.toLowerCase().replace(/^\.+/, '');
    return host === domain || host.endsWith(`.${domain}`);
  });
  return allowed ? { ok: true } : { ok: false, reason: `is on ${host}, which is not one of the program's allowed domains` };
}

/**
 * Where a visit goes: the landing page with the visit's UTM parameters and the code. Only
 * `utm_*` parameters pass, so a link cannot be used to smuggle other parameters to the vendor.
 */
export function visitRedirect(landingUrl: string, code: string, query: Record<string, unknown>): string {
  const url = new URL(landingUrl);
  for (const [name, value] of Object.entries(query)) {
    if (/^utm_[a-z_]{1,30}$/.test(name) && typeof value === 'string' && value.length <= 200) url.searchParams.set(name, value);
  }
  url.searchParams.set(CODE_QUERY_PARAMETER, code);
  return url.toString();
}

export type VisitDecision =
  | { outcome: 'count'; landingUrl: string }
  /** The referrer's own visit: sent on, not counted. */
  | { outcome: 'own_visit'; landingUrl: string }
  /** Wrong, revoked or another program's code: the landing page without a code, nothing recorded. */
  | { outcome: 'ignore'; landingUrl: string | null };

/** What a visit to a link does, from the link (if the code names one) and who visits. */
export function decideVisit(facts: {
  link: { referrerId: string; landingUrl: string | null; revokedAt: string | null } | null;
  policy: LinkPolicy | null;
  /** The referrer signed in to the portal in this browser, if any. */
  visitorReferrerId: string | null;
}): VisitDecision {
  const fallback = facts.policy?.landingUrl ?? null;
  if (!facts.link || facts.link.revokedAt || !facts.policy) return { outcome: 'ignore', landingUrl: fallback };
  // The program may have narrowed its domains since the link was made: the link then lands on the program's page.
  const own = facts.link.landingUrl;
  const landingUrl = own && landingUrlAllowed(own, facts.policy.allowedDomains).ok ? own : facts.policy.landingUrl;
  if (facts.visitorReferrerId === facts.link.referrerId) return { outcome: 'own_visit', landingUrl };
  return { outcome: 'count', landingUrl };
}

/** What a CRM form field holds, trimmed; only a well-formed code counts. */
export function codeFromField(value: string | null | undefined): string | null {
  const code = value?.trim() ?? '';
  return isWellFormedCode(code) ? code : null;
}

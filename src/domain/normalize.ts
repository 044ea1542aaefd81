// Identity of a referee for dedupe and matching: a normalized email and, when there is one,
// the company's own domain (never a free-mail provider's, which would match strangers).

export interface EmailPolicy {
  plusAddressing: 'strip' | 'keep';
}

/** Free-mail providers whose name is followed by many country domains (yahoo.co.uk, gmx.de). */
const FREE_MAIL_FAMILIES = new Set(['yahoo', 'hotmail', 'live', 'outlook', 'gmx', 'yandex', 'aol', 'msn']);
const FREE_MAIL_DOMAINS = new Set([
  'gmail.com',
  'googlemail.com',
  'ymail.com',
  'rocketmail.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'proton.me',
  'pm.me',
  'protonmail.com',
  'protonmail.ch',
  'web.de',
  't-online.de',
  'freenet.de',
  'posteo.de',
  'mailbox.org',
  'ya.ru',
  'mail.ru',
  'bk.ru',
  'inbox.ru',
  'list.ru',
  'rambler.ru',
  'qq.com',
  '163.com',
  '126.com',
  'yeah.net',
  'sina.com',
  'naver.com',
  'daum.net',
  'hanmail.net',
  'zoho.com',
  'zohomail.com',
  'fastmail.com',
  'fastmail.fm',
  'hey.com',
  'tutanota.com',
  'tuta.io',
  'mail.com',
  'email.com',
  'usa.com',
  'gmx.net',
  'rediffmail.com',
  'libero.it',
  'virgilio.it',
  'orange.fr',
  'wanadoo.fr',
  'laposte.net',
  'free.fr',
  'sfr.fr',
  'btinternet.com',
  'comcast.net',
  'verizon.net',
  'att.net',
  'sbcglobal.net',
  'cox.net',
  'seznam.cz',
  'wp.pl',
  'o2.pl',
  'interia.pl',
  'onet.pl',
  'uol.com.br',
  'bol.com.br',
  'terra.com.br',
]);

function splitEmail(email: string): { local: string; domain: string } {
  const trimmed = email.trim();
  const at = trimmed.lastIndexOf('@');
  const local = trimmed.slice(0, at);
  const domain = trimmed
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, '');
  // Inputs are validated at the edge; reaching here without an address is a bug.
  if (at <= 0 || domain === '' || /\s/.test(trimmed)) throw new RangeError(`not an email address: "${email}"`);
  return { local, domain };
}

/**
 * Trimmed, lowercased, and with a "+tag" removed when the program strips plus addressing.
 * Dots in Gmail local parts are kept: only Google ignores them, Workspace-hosted company domains
 * cannot be recognized from the address, and merging two real people is worse than a missed duplicate.
 */
export function normalizeEmail(email: string, policy: EmailPolicy): string {
  const { local, domain } = splitEmail(email);
  let normalized = local.toLowerCase();
  if (policy.plusAddressing === 'strip') {
    const plus = normalized.indexOf('+');
    if (plus > 0) normalized = normalized.slice(0, plus);
  }
  return `${normalized}@${domain}`;
}

export function domainFromEmail(email: string): string {
  return splitEmail(email).domain;
}

/**
 * The registrable host of a website or bare host: scheme, credentials, "www.", port, path and
 * query removed, lowercased. Null when there is no usable domain (empty, an IP, a single label).
 */
export function domainFromWebsite(urlOrHost: string): string | null {
  const trimmed = urlOrHost.trim();
  if (trimmed === '') return null;
  let host: string;
  try {
    host = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`).hostname;
  } catch {
    return null;
  }
  host = host
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^www\./, '');
  if (!host.includes('.') || /^[\d.]+$/.test(host) || host.startsWith('[')) return null;
  return host;
}

export function isFreeMailDomain(domain: string): boolean {
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  if (FREE_MAIL_DOMAINS.has(d)) return true;
  const [first, ...rest] = d.split('.');
  // "yahoo.co.uk" and "gmx.de" are free mail; "yahoo.example.com" is somebody's subdomain.
  return first !== undefined && FREE_MAIL_FAMILIES.has(first) && /^([a-z]{2,3}\.)?[a-z]{2,3}$/.test(rest.join('.'));
}

export interface RefereeIdentity {
  email: string;
  /** The company domain, or null when only a free-mail domain is known. */
  domain: string | null;
}

/**
 * The referee's normalized email and company domain. The domain comes from the first usable,
 * non-free-mail value of: the given domain, the website, the email's domain. A company name alone
 * gives no domain: names are too ambiguous to match companies on.
 */
export function refereeIdentity(
  referee: { email: string; domain?: string | null; company?: string | null; website?: string | null },
  policy: EmailPolicy,
): RefereeIdentity {
  const email = normalizeEmail(referee.email, policy);
  const candidates = [referee.domain, referee.website, domainFromEmail(email)];
  for (const candidate of candidates) {
    const domain = candidate ? domainFromWebsite(candidate) : null;
    if (domain && !isFreeMailDomain(domain)) return { email, domain };
  }
  return { email, domain: null };
}

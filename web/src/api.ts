/** The portal's calls to the public JSON API; writes carry the session's CSRF token. */
import type { EligibilityFieldMapping } from '../../src/domain/eligibility-fields.ts';
import type { Program } from '../../src/domain/program.ts';

export interface Session {
  subject: { kind: 'referrer' | 'user'; id: string; name: string | null; email?: string };
  installationId: string;
  role: string;
  csrfToken: string;
  expiresAt: string;
  /** A console user's installation. */
  installation?: { id: string; crm: string; accountId: string; accountName: string | null };
}

export interface Me {
  name: string;
  email: string;
  company: string | null;
  payoutEmail: string | null;
  notifications: 'every_step' | 'digest' | 'none';
  program: { name: string } | null;
  /** Every program the referrer belongs to. */
  programs: { id: string; name: string }[];
  agreement: { required: boolean; acceptedAt: string | null };
}

export interface Referral {
  id: string;
  /** The program the referral belongs to. */
  program: { id: string; name: string };
  referee: { name: string; email: string; company: string | null };
  status: string;
  statusText: string;
  submittedAt: string;
  claimWaiting: boolean;
  timeline: { status: string; statusText: string; at: string }[];
}

export interface Reward {
  id: string;
  referralId: string;
  milestone: string;
  /** What the reward was for, in the referrer's words. */
  forText: string;
  /** What it is given as: Cash, Account credit, Gift card, Donation to X, Recognition: badge. */
  givenAs: string;
  /** Recognition's message to the referrer (recognition has no amount). */
  recognitionMessage?: string;
  amountCents: number;
  currency: string;
  status: string;
  statusText: string;
  dueDate: string;
  payoutReference: string | null;
  /** The payout run that gathered this reward, if one has. */
  payoutRun: { id: string; status: 'draft' | 'exported' | 'sent' | 'paid'; reference: string | null; paidAt: string | null } | null;
}

/** A referrer's referral link and what it brought: counted visits, referrals its code made, those that reached a deal. */
export interface ReferralLink {
  code: string;
  url: string;
  revokedAt: string | null;
  createdAt: string;
  clicks: number;
  signUps: number;
  deals: number;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  status: 'enabled' | 'disabled';
  failingSince: string | null;
  createdAt: string;
}

export type RewardTotals = { currency: string } & Record<'pending' | 'approved' | 'payable' | 'paid' | 'rejected' | 'reversed', number>;

export interface Verdict {
  outcome: 'accepted' | 'duplicate' | 'conflict' | 'claim_pending' | 'choose_deal' | 'ineligible' | 'invalid';
  reasons: string[];
  referral: Referral | null;
}

/** A referral ask the signed-in referrer received, with the referrals they made from it. */
export interface Ask {
  id: string;
  accountName: string | null;
  referrerName: string;
  askedBy: { name: string };
  message: string | null;
  askedAt: string;
  referrals: Referral[];
}

/** A field the API named in a 400, and what is wrong with it. */
export interface FieldIssue {
  field: string;
  message: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** `error.details.issues` of a 400: what is wrong, by field, for the page to show beside each. */
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

/** The installation, and its program when one other than the default is meant. */
const programQuery = (installationId: string, programId: string | null) =>
  new URLSearchParams({ installationId, ...(programId ? { programId } : {}) }).toString();

async function call<T>(path: string, init: RequestInit & { csrf?: string; json?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (init.csrf) headers['x-csrf-token'] = init.csrf;
  const res = await fetch(path, {
    ...init,
    headers,
    credentials: 'same-origin',
    body: init.json === undefined ? null : JSON.stringify(init.json),
  });
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; details?: { issues?: FieldIssue[] } } };
  if (!res.ok) throw new ApiFailure(res.status, body.error?.message ?? `The server answered ${res.status}.`, body.error?.details?.issues);
  return body as T;
}

/** A program's referrers, or one of them. */
const programReferrersPath = (programId: string, referrerId?: string) =>
  `/api/v1/programs/${encodeURIComponent(programId)}/referrers${referrerId ? `/${encodeURIComponent(referrerId)}` : ''}`;

const portal = (installationId: string) => `/api/v1/portal/${encodeURIComponent(installationId)}`;

export const api = {
  session: () => call<Session>('/api/v1/session'),
  signOut: (csrf: string) => call<void>('/api/v1/session', { method: 'DELETE', csrf }),
  requestLink: (installationId: string, email: string, to?: string) =>
    call<{ message: string }>(`${portal(installationId)}/magic-links`, { method: 'POST', json: { email, ...(to ? { to } : {}) } }),
  me: (installationId: string) => call<Me>(`${portal(installationId)}/me`),
  referrals: (installationId: string) => call<{ items: Referral[] }>(`${portal(installationId)}/referrals`),
  links: (installationId: string) => call<{ items: ReferralLink[] }>(`${portal(installationId)}/links`),
  rewards: (installationId: string) => call<{ items: Reward[]; totals: RewardTotals[] }>(`${portal(installationId)}/rewards`),
  updateMe: (installationId: string, csrf: string, patch: { name?: string; notifications?: Me['notifications']; payoutEmail?: string }) =>
    call<Me>(`${portal(installationId)}/me`, { method: 'PATCH', csrf, json: patch }),
  acceptAgreement: (installationId: string, csrf: string) => call<Me>(`${portal(installationId)}/me/agreement`, { method: 'POST', csrf }),
  exportUrl: (installationId: string) => `${portal(installationId)}/me/export`,
  requestDeletion: (installationId: string, csrf: string) =>
    call<{ message: string }>(`${portal(installationId)}/me/deletion-request`, { method: 'POST', csrf }),
  endpoints: (installationId: string) => call<{ items: WebhookEndpoint[] }>(`${portal(installationId)}/webhook-endpoints`),
  addEndpoint: (installationId: string, csrf: string, url: string) =>
    call<WebhookEndpoint & { secret: string }>(`${portal(installationId)}/webhook-endpoints`, { method: 'POST', csrf, json: { url } }),
  removeEndpoint: (installationId: string, csrf: string, id: string) =>
    call<void>(`${portal(installationId)}/webhook-endpoints/${encodeURIComponent(id)}`, { method: 'DELETE', csrf }),
  ask: (installationId: string, askId: string) => call<Ask>(`${portal(installationId)}/asks/${encodeURIComponent(askId)}`),
  refer: (installationId: string, csrf: string, body: unknown) =>
    call<Verdict>(`${portal(installationId)}/referrals`, { method: 'POST', csrf, json: body }),
};

/** A reward as the admin API shows it (amounts in minor units and in the currency's major unit). */
export interface AdminReward {
  id: string;
  referralId: string;
  referrerId: string;
  milestone: string;
  netCents: number;
  currency: string;
  status: string;
  dueDate: string;
  reasons: string[];
}

/** Money in one currency, in minor units. */
export interface CurrencyTotal {
  currency: string;
  cents: number;
}

/** `GET /installations/:id/health`: what the console's Home shows. */
export interface Health {
  crm: { kind: string; accountId: string; accountName: string | null; status: string; statusReason: string | null };
  lastWebhookAt: string | null;
  lastReconciledAt: string | null;
  inbox: { pending: number; dead: number };
  deadEvents: {
    id: number;
    objectType: string;
    objectId: string;
    change: string;
    attempts: number;
    error: string | null;
    receivedAt: string;
  }[];
  attention: {
    rewardsAwaitingApproval: { count: number; totals: CurrencyTotal[] };
    claimsAwaitingDecision: number;
    overduePayouts: { count: number; totals: CurrencyTotal[] };
    missingCrmFields: string[];
    dealsWaitingForRate: string[];
  };
}

export interface ReferralFilter {
  q?: string;
  status?: string;
  referrerType?: string;
}

/** A referral as the admin API lists it. */
export interface ReferralSummary {
  id: string;
  status: string;
  referrerId: string;
  referee: { email: string; firstName: string | null; lastName: string | null; company: string | null };
  reasons: string[];
  submittedAt: string;
}

/** `GET /referrals/:id`: the referral with its timeline, attribution, rewards and every decision's reasons. */
export interface ReferralDetail extends ReferralSummary {
  referrer: { id: string; name: string; email: string; type: string; company: string | null };
  timeline: { from: string | null; to: string; reasons: string[]; source: string; at: string }[];
  attributions: { id: string; dealId: string; model: string; share: number; role: string; reasons: string[]; status: string }[];
  rewards: (AdminReward & { amountCents: number })[];
  claim: { dealId: string; decision: string | null; reason: string | null; expiresAt: string } | null;
  program: { version: number; reason: string };
  decisions: {
    attribution: { dealId: string; attributed: boolean; summary: string; dealReasons: string[]; at: string }[];
    rewards: { milestone: string; dealId: string | null; summary: string; at: string }[];
  };
}

export interface PayoutRunSummary {
  id: string;
  /** The program whose rewards the run pays: a run pays one program. */
  programId: string;
  status: 'draft' | 'exported' | 'sent' | 'paid';
  dueOn: string;
  reference: string | null;
  createdAt: string;
  exportedAt: string | null;
  paidAt: string | null;
}

export interface PayoutRun extends PayoutRunSummary {
  lines: {
    payee: string;
    email: string;
    currency: string;
    amountCents: number;
    grossCents: number;
    recoveredCents: number;
    rewardIds: string[];
    /** What the line is given as: Cash, Account credit, Gift card, Donation to X. */
    givenAs: string;
    reference: string;
    /** Set once the run is sent through the payout provider. */
    sendStatus: 'sent' | 'delivered' | 'failed' | null;
    failureReason: string | null;
  }[];
  totals: { currency: string; amountCents: number }[];
}

export type { EligibilityFieldMapping, Program };

/** `GET /installations/:id/programs`: each program of the installation, its name and current version. */
export interface ProgramSummary {
  id: string;
  name: string;
  isDefault: boolean;
  version: number;
}

/** `GET /programs/:id/referrers`: a referrer in the program, and when they joined it. */
export interface ProgramMember {
  id: string;
  name: string;
  email: string;
  type: string;
  joinedAt: string;
}

/** Where a new program's first version comes from: a copy of the default program, or a fresh install's settings. */
export type NewProgramSource = 'default' | 'blank';

/** `GET /program`: one of the installation's programs (its default unless `programId` names another) at its current version. */
export interface ProgramDocument {
  id: string;
  installationId?: string;
  isDefault?: boolean;
  version: number;
  createdAt: string;
  createdBy: string;
  program: Program;
}

/** `POST /program/simulate`: the draft against the current version, on past deals and on a sample deal. */
export interface Simulation {
  months: number;
  deals: number;
  current: { currency: string; totalCents: number };
  draft: { currency: string; totalCents: number };
  notes: string[];
  sample: { amountCents: number; currency: string; referrerType: string; currentCents: number; draftCents: number; notes: string[] };
}

/** `GET /installations/:id/pipelines`: the CRM's stages with their labels and the step each is mapped to. */
export interface Pipeline {
  id: string;
  label: string;
  stages: { id: string; label: string; isClosed: boolean; isWon: boolean; step: string | null }[];
  unknownStages: { id: string; step: string }[];
}

/** `GET /api/v1/reports`: one installation's numbers over a range of days (see the README's Reports). */
export interface Report {
  from: string;
  to: string;
  granularity: 'week' | 'month';
  referralsOverTime: { periodStart: string; referrals: number }[];
  funnel: { step: string; count: number; fromPrevious: number | null }[];
  referrals: number;
  won: number;
  conversionRate: number | null;
  timeToClose: {
    referredMedianDays: number | null;
    referredDeals: number;
    otherMedianDays: number | null;
    otherDeals: number | null;
    asOf: string | null;
    limitation: string | null;
  };
  revenueAttributed: { currency: string; amountCents: number; deals: number }[];
  referralRate: {
    referringAccounts: number;
    customerAccounts: number | null;
    rate: number | null;
    asOf: string | null;
    limitation: string | null;
  };
  topReferrers: { referrerId: string; name: string; type: string; referrals: number; won: number }[];
  asks: { sent: number; referralsFromAsks: number };
  rewards: { currency: string; pendingCents: number; approvedCents: number; paidCents: number }[];
}

export interface ReportQuery {
  from: string;
  to: string;
  granularity: 'week' | 'month';
  referrerType: string;
  pipeline: string;
  /** One program's referrals, deals and rewards; every program's when empty. */
  programId: string;
}

/** The admin console's calls: the same public API as any client, with the console session's cookie and CSRF token. */
export const consoleApi = {
  requestLink: (installationId: string, email: string) =>
    call<{ message: string }>('/console/sign-in/email', { method: 'POST', json: { installationId, email } }),
  signInWithLink: (installationId: string, token: string) =>
    call<{ role: string }>('/console/sign-in/link', { method: 'POST', json: { installationId, token } }),
  pendingRewards: (installationId: string) =>
    call<{ items: AdminReward[] }>(`/api/v1/rewards?status=pending&limit=100&installationId=${encodeURIComponent(installationId)}`),
  referrers: (installationId: string) =>
    call<{ items: { id: string; name: string; email: string; type: string }[] }>(
      `/api/v1/referrers?installationId=${encodeURIComponent(installationId)}`,
    ),
  health: (installationId: string) => call<Health>(`/api/v1/installations/${encodeURIComponent(installationId)}/health`),
  retryDeadEvent: (csrf: string, eventId: number) =>
    call<{ retried: number }>(`/api/v1/dead-letters/events/${eventId}/retry`, { method: 'POST', csrf, json: {} }),
  referrals: (installationId: string, filter: ReferralFilter, cursor?: string) => {
    const query = new URLSearchParams({ installationId, limit: '25' });
    for (const [key, value] of Object.entries(filter)) if (value) query.set(key, value);
    if (cursor) query.set('cursor', cursor);
    return call<{ items: ReferralSummary[]; nextCursor: string | null }>(`/api/v1/referrals?${query}`);
  },
  referral: (referralId: string) => call<ReferralDetail>(`/api/v1/referrals/${encodeURIComponent(referralId)}`),
  report: (installationId: string, query: ReportQuery) => {
    const params = new URLSearchParams({ installationId });
    for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
    return call<Report>(`/api/v1/reports?${params}`);
  },
  payoutRuns: (installationId: string) =>
    call<{ items: PayoutRunSummary[] }>(`/api/v1/payouts?limit=100&installationId=${encodeURIComponent(installationId)}`),
  payoutRun: (runId: string) => call<PayoutRun>(`/api/v1/payouts/${encodeURIComponent(runId)}`),
  createPayoutRun: (installationId: string, csrf: string, programId: string, dueOn: string) =>
    call<PayoutRun>('/api/v1/payouts', { method: 'POST', csrf, json: { installationId, programId, dueOn } }),
  exportPayoutRun: (csrf: string, runId: string) =>
    call<PayoutRun>(`/api/v1/payouts/${encodeURIComponent(runId)}/export`, { method: 'POST', csrf, json: { format: 'json' } }),
  /** The run's CSV as the API writes it (exporting the run, as the JSON export does). */
  exportPayoutCsv: async (csrf: string, runId: string): Promise<Blob> => {
    const res = await fetch(`/api/v1/payouts/${encodeURIComponent(runId)}/export`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, accept: 'text/csv' },
      body: JSON.stringify({ format: 'csv' }),
    });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      throw new ApiFailure(res.status, body.error?.message ?? `The server answered ${res.status}.`);
    }
    return res.blob();
  },
  markPayoutRunPaid: (csrf: string, runId: string, reference: string) =>
    call<PayoutRun>(`/api/v1/payouts/${encodeURIComponent(runId)}/mark-paid`, { method: 'POST', csrf, json: { reference } }),
  programs: (installationId: string) =>
    call<{ items: ProgramSummary[] }>(`/api/v1/installations/${encodeURIComponent(installationId)}/programs`),
  createProgram: (installationId: string, csrf: string, program: { name: string; from: NewProgramSource }) =>
    call<ProgramDocument>(`/api/v1/installations/${encodeURIComponent(installationId)}/programs`, { method: 'POST', csrf, json: program }),
  programReferrers: (programId: string) => call<{ items: ProgramMember[] }>(programReferrersPath(programId)),
  addToProgram: (csrf: string, programId: string, referrerId: string) =>
    call<{ programId: string; referrerId: string }>(programReferrersPath(programId, referrerId), { method: 'PUT', csrf }),
  removeFromProgram: (csrf: string, programId: string, referrerId: string) =>
    call<{ programId: string; referrerId: string; linkRetired: boolean }>(programReferrersPath(programId, referrerId), {
      method: 'DELETE',
      csrf,
    }),
  program: (installationId: string, programId: string | null) =>
    call<ProgramDocument>(`/api/v1/program?${programQuery(installationId, programId)}`),
  programVersions: (installationId: string, programId: string | null) =>
    call<{ items: { version: number; createdAt: string; createdBy: string; changes: string[] }[] }>(
      `/api/v1/program/versions?${programQuery(installationId, programId)}`,
    ),
  simulate: (installationId: string, programId: string, csrf: string, draft: Program, sample: { amount: string; referrerType: string }) => {
    const query = new URLSearchParams({ installationId, programId, sampleAmount: sample.amount, sampleReferrerType: sample.referrerType });
    return call<Simulation>(`/api/v1/program/simulate?${query}`, { method: 'POST', csrf, json: draft });
  },
  /** The whole document as GET answered it, its program the draft: PUT checks the rest is unchanged. */
  saveProgram: (installationId: string, csrf: string, document: ProgramDocument) =>
    call<ProgramDocument & { changed: boolean; message?: string }>(`/api/v1/program?${programQuery(installationId, document.id)}`, {
      method: 'PUT',
      csrf,
      json: document,
    }),
  eligibilityFields: (installationId: string) =>
    call<{ installationId: string; fields: EligibilityFieldMapping | null }>(
      `/api/v1/installations/${encodeURIComponent(installationId)}/eligibility-fields`,
    ),
  saveEligibilityFields: (installationId: string, csrf: string, fields: EligibilityFieldMapping) =>
    call<{ installationId: string; fields: EligibilityFieldMapping | null }>(
      `/api/v1/installations/${encodeURIComponent(installationId)}/eligibility-fields`,
      { method: 'PUT', csrf, json: fields },
    ),
  pipelines: (installationId: string) =>
    call<{ pipelines: Pipeline[] }>(`/api/v1/installations/${encodeURIComponent(installationId)}/pipelines`),
  saveStageMapping: (installationId: string, csrf: string, mapping: Record<string, Record<string, string>>) =>
    call<unknown>(`/api/v1/installations/${encodeURIComponent(installationId)}/stage-mapping`, { method: 'PUT', csrf, json: mapping }),
  approveClaim: (csrf: string, referralId: string) =>
    call<{ outcome: string; reasons: string[] }>(`/api/v1/referrals/${encodeURIComponent(referralId)}/claim/approve`, {
      method: 'POST',
      csrf,
      json: {},
    }),
  rejectClaim: (csrf: string, referralId: string, reason: string) =>
    call<{ outcome: string; reasons: string[] }>(`/api/v1/referrals/${encodeURIComponent(referralId)}/claim/reject`, {
      method: 'POST',
      csrf,
      json: { reason },
    }),
  approve: (csrf: string, rewardId: string) =>
    call<AdminReward>(`/api/v1/rewards/${encodeURIComponent(rewardId)}/approve`, { method: 'POST', csrf, json: {} }),
  reject: (csrf: string, rewardId: string, reason: string) =>
    call<AdminReward>(`/api/v1/rewards/${encodeURIComponent(rewardId)}/reject`, { method: 'POST', csrf, json: { reason } }),
};

/** Money is shown by the domain's own formatter: integer minor units, the currency's ISO digits. */
export { formatMoney } from '../../src/domain/money.ts';

export const formatDate = (iso: string) => new Date(iso).toLocaleDateString('en', { year: 'numeric', month: 'short', day: 'numeric' });

/** Who did something, as a person reads it: the audit log's `user:<id> <email>` is its email; `admin`, `crm`… as they are. */
export const formatActor = (actor: string) => /^user:\S+ (.+)$/.exec(actor)?.[1] ?? actor;

export const formatDateTime = (iso: string) =>
  new Date(iso).toLocaleString('en', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** The first-run tour's calls (`/tour/api`, served only while every CRM is a sandbox). */
import { ApiFailure } from '../api.ts';

export interface TourReferrer {
  id: string;
  email: string;
  name: string;
  type: string;
  company: string | null;
}

export interface TourReward {
  id: string;
  kind: string;
  milestone: string;
  amountCents: number;
  currency: string;
  status: string;
  requiresApproval: boolean;
  reasons: string[];
}

/** The referral as `GET /api/v1/referrals/:id` returns it (the fields the tour shows). */
export interface TourReferral {
  id: string;
  status: string;
  referee: { email: string; firstName: string | null; company: string | null };
  referrer: TourReferrer;
  reasons: string[];
  crm: { person: { objectType: string; id: string } } | null;
  timeline: { from: string | null; to: string; reasons: string[]; source: string; at: string }[];
  rewards: TourReward[];
  decisions: { rewards: { milestone: string; summary: string }[]; attribution: { dealId: string; summary: string }[] };
}

export interface TourEmail {
  id: number;
  topic: string;
  status: string;
  to: string;
  subject: string;
  /** Rendered by the notifier's templates, every value escaped; shown in a sandboxed frame. */
  html: string;
  createdAt: string;
}

export interface TourReport {
  referrals: { byStatus: Record<string, number>; accepted: number; won: number; winRate: number };
  rewards: { currency: string; byStatusCents: Record<string, number>; count: number }[];
}

export interface TourState {
  crm: { kind: string; label: string };
  installation: { id: string; accountId: string } | null;
  referrers: TourReferrer[];
  referral: TourReferral | null;
  emails: TourEmail[];
  report: TourReport | null;
}

export interface Stages {
  open: string[];
  won: string;
  lost: string;
  labels: Record<string, string>;
}

export interface Started {
  installation: { id: string; accountId: string };
  referrers: TourReferrer[];
  account: { companyId: string; nps: number | null; name: string };
  stages: Stages;
}

export interface Eligibility {
  eligible: boolean;
  summary: string;
  reasons: { rule: string; passed: boolean; detail: string }[];
}

async function call<T>(path: string, json?: unknown, method = 'POST'): Promise<T> {
  const res = await fetch(`/tour/api${path}`, {
    method,
    headers: { accept: 'application/json', ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) throw new ApiFailure(res.status, body.error?.message ?? `The server answered ${res.status}.`);
  return body as T;
}

export const tourApi = {
  state: (referralId: string | null) =>
    call<TourState>(`/state${referralId ? `?referralId=${encodeURIComponent(referralId)}` : ''}`, undefined, 'GET'),
  start: () => call<Started>('/start'),
  refer: (body: { referrer: 'partner' | 'customer'; firstName: string; company: string }) =>
    call<{ outcome: string; referral: TourReferral }>('/referrals', body),
  createDeal: (referralId: string, amount: number) => call<{ dealId: string }>('/deals', { referralId, amount }),
  moveDeal: (dealId: string, stage: string) => call<{ stage: string }>(`/deals/${encodeURIComponent(dealId)}/stage`, { stage }),
  setNps: (nps: number) => call<{ account: Started['account']; eligibility: Eligibility | null }>('/account/nps', { nps }),
};

import { CrmError, type CrmClosedDeal } from '../../connectors/connector.ts';
import { addDays, type DateOnly } from '../domain/dates.ts';
import {
  funnel,
  furthestStep,
  rate,
  referralsOverTime,
  revenueAttributed,
  rewardTotals,
  timeToClose,
  topReferrers,
  type ReportGranularity,
  type WonDealFact,
} from '../domain/reports.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';

export interface ReportQuery {
  from: DateOnly;
  to: DateOnly;
  granularity: ReportGranularity;
  referrerType?: string | undefined;
  pipeline?: string | undefined;
  /** Only referrals of this program, and the deals and rewards they brought. */
  programId?: string | undefined;
}

/** How long the CRM's counts are reused before they are read again. */
export const CRM_BASELINE_TTL_MS = 15 * 60_000;
const TOP_REFERRERS = 10;
// Cached in the installation's sync cursors: one entry each, so the cache never grows past two rows.
const WON_DEALS_CACHE = 'reports:crm-won-deals';
const CUSTOMERS_CACHE = 'reports:crm-customer-accounts';

interface Cached<T> {
  asOf: string;
  key: string;
  value: T;
}

/** A number read from the CRM: when it was read, or why it could not be. */
interface CrmRead<T> {
  value: T | null;
  asOf: string | null;
  limitation: string | null;
}

/**
 * Reads through a bounded-time cache in the store: fresh entries are reused; a failed read falls
 * back to the last entry for the same question (saying so), or to nothing with the reason.
 */
async function cachedCrmRead<T>(
  ctx: UseCaseContext,
  installationId: string,
  name: string,
  key: string,
  what: string,
  read: () => Promise<T>,
): Promise<CrmRead<T>> {
  const now = ctx.now();
  const raw = await ctx.store.deals.cursor(installationId, name);
  const cached = raw ? (JSON.parse(raw) as Cached<T>) : null;
  const usable = cached?.key === key ? cached : null;
  if (usable && now.getTime() - Date.parse(usable.asOf) < CRM_BASELINE_TTL_MS) {
    return { value: usable.value, asOf: usable.asOf, limitation: null };
  }
  try {
    const value = await read();
    const entry: Cached<T> = { asOf: now.toISOString(), key, value };
    await ctx.store.deals.setCursor(installationId, name, JSON.stringify(entry), now);
    return { value, asOf: entry.asOf, limitation: null };
  } catch (err) {
    if (!(err instanceof CrmError)) throw err;
    ctx.log.warn({ installationId, code: err.code, what }, 'reports: the CRM read failed');
    const reason = `the CRM could not be read for ${what} (${err.code}: ${err.message})`;
    return usable
      ? { value: usable.value, asOf: usable.asOf, limitation: `${reason}; showing what it answered at ${usable.asOf}` }
      : { value: null, asOf: null, limitation: reason };
  }
}

/**
 * One installation's report over a range of days: referrals submitted in it (over time, funnel,
 * conversion, top referrers, asks, and the rewards they earned), won deals closed in it (revenue,
 * time to close against the CRM's other won deals), and the referral rate against the CRM's customer accounts.
 */
export async function buildReport(ctx: UseCaseContext, installation: InstallationRow, query: ReportQuery) {
  const { store } = ctx;
  const range = {
    installationId: installation.id,
    fromInstant: `${query.from}T00:00:00.000Z`,
    untilInstant: `${addDays(query.to, 1)}T00:00:00.000Z`,
  };
  const typeMatches = (type: string | null) => !query.referrerType || type === query.referrerType;
  const programMatches = (programId: string) => !query.programId || programId === query.programId;
  // Asks are sent by the default program's ask policy: they count toward it alone.
  const asksCount = !query.programId || query.programId === (await store.programs.defaultProgram(installation.id))?.id;
  const pipelineMatches = (pipelineId: string | null) => !query.pipeline || pipelineId === query.pipeline;

  const referrals = (await store.reports.referralsSubmitted(range)).filter(
    (r) => typeMatches(r.referrerType) && programMatches(r.programId) && (!query.pipeline || r.pipelineIds.includes(query.pipeline)),
  );
  const steps = referrals.map((r) => furthestStep(r.statuses));
  const won = steps.filter((s) => s === 'closed_won').length;

  const attributionRows = (await store.reports.wonDeals(installation.id, query.from, query.to)).filter(
    (row) => typeMatches(row.referrerType) && pipelineMatches(row.pipelineId) && programMatches(row.programId),
  );
  const referredDeals = new Map<string, WonDealFact & { createdAt: string; closeDate: string }>();
  for (const row of attributionRows) {
    const deal = referredDeals.get(row.dealId) ?? {
      dealId: row.dealId,
      currency: row.currency,
      amountCents: row.amountCents,
      createdAt: row.crmCreatedAt,
      closeDate: row.closeDate,
      attributions: [],
    };
    deal.attributions.push({ role: row.role, sharePpm: row.sharePpm });
    referredDeals.set(row.dealId, deal);
  }

  const client = async () => await ctx.crm.client(installation);
  const [crmWon, customers] = [
    await cachedCrmRead<CrmClosedDeal[]>(ctx, installation.id, WON_DEALS_CACHE, `${query.from}..${query.to}`, 'its won deals', async () =>
      (await client()).closedWonDeals({ from: query.from, to: query.to }),
    ),
    await cachedCrmRead<number>(ctx, installation.id, CUSTOMERS_CACHE, 'customers', 'its customer accounts', async () =>
      (await client()).countCustomerAccounts(),
    ),
  ];

  const closing = timeToClose(
    [...referredDeals.values()],
    (crmWon.value ?? []).filter((d) => pipelineMatches(d.pipelineId)),
  );
  // A customer account is its referrer's company (by name) when it gave one, else the referrer alone.
  const referringAccounts = new Set(
    referrals
      .filter((r) => r.referrerType === 'customer')
      .map((r) => r.referrerCompany?.trim().toLowerCase() || `referrer:${r.referrerId}`),
  ).size;

  return {
    installationId: installation.id,
    from: query.from,
    to: query.to,
    granularity: query.granularity,
    filters: { referrerType: query.referrerType ?? null, pipeline: query.pipeline ?? null, programId: query.programId ?? null },
    referralsOverTime: referralsOverTime(
      referrals.map((r) => r.submittedAt),
      query,
      query.granularity,
    ),
    funnel: funnel(steps),
    referrals: referrals.length,
    won,
    conversionRate: rate(won, referrals.length),
    timeToClose: {
      ...(crmWon.value === null ? { ...closing, otherMedianDays: null, otherDeals: null } : closing),
      asOf: crmWon.asOf,
      limitation: crmWon.limitation,
    },
    revenueAttributed: revenueAttributed([...referredDeals.values()]),
    referralRate: {
      referringAccounts,
      customerAccounts: customers.value,
      rate: customers.value === null ? null : rate(referringAccounts, customers.value),
      asOf: customers.asOf,
      limitation: customers.limitation,
    },
    topReferrers: topReferrers(
      referrals.map((r, i) => ({ referrerId: r.referrerId, name: r.referrerName, type: r.referrerType, won: steps[i] === 'closed_won' })),
      TOP_REFERRERS,
    ),
    asks: {
      sent: asksCount ? (await store.reports.asksSent(range)).filter((a) => typeMatches(a.referrerType)).length : 0,
      referralsFromAsks: referrals.filter((r) => r.askId !== null).length,
    },
    rewards: rewardTotals(
      (await store.reports.rewardsOfReferrals(range)).filter(
        (r) => typeMatches(r.referrerType) && pipelineMatches(r.pipelineId) && programMatches(r.programId),
      ),
    ),
  };
}

export type Report = Awaited<ReturnType<typeof buildReport>>;

import type { ReferralStatus } from '../domain/referral-lifecycle.ts';
import type { Db } from './db.ts';

/** Instants of a range of calendar days: from the first day's start to before the day after the last. */
export interface InstantRange {
  installationId: string;
  fromInstant: string;
  untilInstant: string;
}

export interface ReportReferralRow {
  id: string;
  submittedAt: string;
  status: ReferralStatus;
  referrerId: string;
  referrerName: string;
  referrerType: string;
  referrerCompany: string | null;
  programId: string;
  askId: string | null;
  /** Every status of its timeline, the current one included. */
  statuses: ReferralStatus[];
  /** Pipelines of the deals it is linked to or attributed on. */
  pipelineIds: string[];
}

export interface ReportWonDealRow {
  dealId: string;
  pipelineId: string;
  currency: string;
  amountCents: number | null;
  crmCreatedAt: string;
  closeDate: string;
  referrerType: string;
  role: 'sourced' | 'influenced';
  sharePpm: number;
  /** The attributed referral's program. */
  programId: string;
}

export interface ReportRewardRow {
  currency: string;
  status: string;
  netCents: number;
  referrerType: string;
  pipelineId: string | null;
  programId: string;
}

/** The facts reports aggregate, read per installation and range (the domain's `reports.ts` does the arithmetic). */
export function reportsRepo(db: Db) {
  const referralsSubmitted = db.$client.prepare<
    [InstantRange],
    Omit<ReportReferralRow, 'statuses' | 'pipelineIds'> & { statuses: string | null; pipelineIds: string | null }
  >(
    `SELECT r.id, r.submitted_at AS submittedAt, r.status, r.referrer_id AS referrerId, ref.name AS referrerName,
            ref.type AS referrerType, ref.company AS referrerCompany, r.program_id AS programId, r.ask_id AS askId,
            (SELECT json_group_array(e.to_status) FROM referral_events e WHERE e.referral_id = r.id) AS statuses,
            (SELECT json_group_array(DISTINCT d.pipeline_id) FROM deals d
              WHERE d.installation_id = r.installation_id AND d.deleted = 0 AND d.deal_id IN (
                SELECT l.object_id FROM crm_links l WHERE l.referral_id = r.id AND l.object_type = 'deal'
                UNION SELECT a.deal_id FROM attributions a WHERE a.referral_id = r.id)) AS pipelineIds
       FROM referrals r JOIN referrers ref ON ref.id = r.referrer_id
      WHERE r.installation_id = @installationId AND r.submitted_at >= @fromInstant AND r.submitted_at < @untilInstant
      ORDER BY r.submitted_at, r.id`,
  );
  const wonDeals = db.$client.prepare<[{ installationId: string; from: string; to: string }], ReportWonDealRow>(
    `SELECT d.deal_id AS dealId, d.pipeline_id AS pipelineId, d.currency, d.amount_cents AS amountCents,
            d.crm_created_at AS crmCreatedAt, d.close_date AS closeDate, ref.type AS referrerType, a.role, a.share_ppm AS sharePpm,
            (SELECT r.program_id FROM referrals r WHERE r.id = a.referral_id) AS programId
       FROM attributions a
       JOIN deals d ON d.installation_id = a.installation_id AND d.deal_id = a.deal_id
       JOIN referrers ref ON ref.id = a.referrer_id
      WHERE a.installation_id = @installationId AND a.status = 'active' AND d.is_won = 1 AND d.deleted = 0
        AND d.close_date >= @from AND d.close_date <= @to
      ORDER BY d.close_date, d.deal_id`,
  );
  const rewardsOfReferrals = db.$client.prepare<[InstantRange], ReportRewardRow>(
    `SELECT w.currency, w.status, ref.type AS referrerType, d.pipeline_id AS pipelineId, w.program_id AS programId,
            coalesce((SELECT sum(e.amount_cents) FROM reward_events e WHERE e.reward_id = w.id), 0) AS netCents
       FROM rewards w
       JOIN referrers ref ON ref.id = w.referrer_id
       LEFT JOIN deals d ON d.installation_id = w.installation_id AND d.deal_id = w.deal_id
       JOIN referrals r ON r.id = w.referral_id
      WHERE w.installation_id = @installationId AND r.submitted_at >= @fromInstant AND r.submitted_at < @untilInstant`,
  );
  const asksSent = db.$client.prepare<[InstantRange], { referrerType: string | null }>(
    `SELECT ref.type AS referrerType FROM referral_asks k LEFT JOIN referrers ref ON ref.id = k.referrer_id
      WHERE k.installation_id = @installationId AND k.status = 'sent' AND k.created_at >= @fromInstant AND k.created_at < @untilInstant`,
  );

  return {
    /** Referrals submitted in the range, with their referrer, timeline statuses and deals' pipelines. */
    referralsSubmitted(range: InstantRange): ReportReferralRow[] {
      return referralsSubmitted.all(range).map((row) => ({
        ...row,
        statuses: [...new Set([...(JSON.parse(row.statuses ?? '[]') as ReferralStatus[]), row.status])],
        pipelineIds: (JSON.parse(row.pipelineIds ?? '[]') as (string | null)[]).filter((p): p is string => p !== null),
      }));
    },

    /** Active attributions on deals won with a close date in the range (one row per attribution). */
    wonDeals(installationId: string, from: string, to: string): ReportWonDealRow[] {
      return wonDeals.all({ installationId, from, to });
    },

    /** Rewards of the referrals submitted in the range, with their net (the ledger's sum), referrer type and deal pipeline. */
    rewardsOfReferrals(range: InstantRange): ReportRewardRow[] {
      return rewardsOfReferrals.all(range);
    },

    /** Asks sent in the range, by the champion's referrer type (null before it became a referrer). */
    asksSent(range: InstantRange): { referrerType: string | null }[] {
      return asksSent.all(range);
    },
  };
}

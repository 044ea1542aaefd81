import { sql } from 'drizzle-orm';
import type { ReferralStatus } from '../../domain/referral-lifecycle.ts';
import type { Store } from '../contract.ts';
import type { Cipher } from '../crypto.ts';
import type { ReportRewardRow, ReportWonDealRow } from '../reports.repo.ts';
import type { Query } from './query.ts';

type Repo = Store['reports'];

/**
 * The facts reports aggregate, on PostgreSQL: the SQLite repository's queries, with arrays
 * aggregated by PostgreSQL (in the timeline's order, and pipelines sorted: their order carries no meaning).
 */
export function reportsRepo(q: Query, _cipher?: Cipher): Repo {
  return {
    referralsSubmitted: async (range) => {
      const { rows } = await q().execute<{
        id: string;
        submittedAt: string;
        status: ReferralStatus;
        referrerId: string;
        referrerName: string;
        referrerType: string;
        referrerCompany: string | null;
        programId: string;
        askId: string | null;
        statuses: ReferralStatus[];
        pipelineIds: string[];
      }>(sql`
        SELECT r.id, r.submitted_at AS "submittedAt", r.status, r.referrer_id AS "referrerId", ref.name AS "referrerName",
               ref.type AS "referrerType", ref.company AS "referrerCompany", r.program_id AS "programId", r.ask_id AS "askId",
               array(SELECT e.to_status FROM referral_events e WHERE e.referral_id = r.id ORDER BY e.id) AS statuses,
               array(SELECT DISTINCT d.pipeline_id FROM deals d
                      WHERE d.installation_id = r.installation_id AND NOT d.deleted AND d.deal_id IN (
                        SELECT l.object_id FROM crm_links l WHERE l.referral_id = r.id AND l.object_type = 'deal'
                        UNION SELECT a.deal_id FROM attributions a WHERE a.referral_id = r.id)
                      ORDER BY d.pipeline_id) AS "pipelineIds"
          FROM referrals r JOIN referrers ref ON ref.id = r.referrer_id
         WHERE r.installation_id = ${range.installationId} AND r.submitted_at >= ${range.fromInstant}
           AND r.submitted_at < ${range.untilInstant}
         ORDER BY r.submitted_at, r.id`);
      return rows.map((row) => ({ ...row, statuses: [...new Set([...row.statuses, row.status])] }));
    },

    wonDeals: async (installationId, from, to) => {
      const { rows } = await q().execute<ReportWonDealRow & Record<string, unknown>>(sql`
        SELECT d.deal_id AS "dealId", d.pipeline_id AS "pipelineId", d.currency, d.amount_cents AS "amountCents",
               d.crm_created_at AS "crmCreatedAt", d.close_date AS "closeDate", ref.type AS "referrerType", a.role,
               a.share_ppm AS "sharePpm", (SELECT r.program_id FROM referrals r WHERE r.id = a.referral_id) AS "programId"
          FROM attributions a
          JOIN deals d ON d.installation_id = a.installation_id AND d.deal_id = a.deal_id
          JOIN referrers ref ON ref.id = a.referrer_id
         WHERE a.installation_id = ${installationId} AND a.status = 'active' AND d.is_won AND NOT d.deleted
           AND d.close_date >= ${from} AND d.close_date <= ${to}
         ORDER BY d.close_date, d.deal_id`);
      return rows;
    },

    // No order, as on SQLite (the domain sums them).
    rewardsOfReferrals: async (range) => {
      const { rows } = await q().execute<ReportRewardRow & Record<string, unknown>>(sql`
        SELECT w.currency, w.status, ref.type AS "referrerType", d.pipeline_id AS "pipelineId", w.program_id AS "programId",
               coalesce((SELECT sum(e.amount_cents) FROM reward_events e WHERE e.reward_id = w.id), 0) AS "netCents"
          FROM rewards w
          JOIN referrers ref ON ref.id = w.referrer_id
          LEFT JOIN deals d ON d.installation_id = w.installation_id AND d.deal_id = w.deal_id
          JOIN referrals r ON r.id = w.referral_id
         WHERE w.installation_id = ${range.installationId} AND r.submitted_at >= ${range.fromInstant}
           AND r.submitted_at < ${range.untilInstant}`);
      return rows;
    },

    asksSent: async (range) => {
      const { rows } = await q().execute<{ referrerType: string | null }>(sql`
        SELECT ref.type AS "referrerType" FROM referral_asks k LEFT JOIN referrers ref ON ref.id = k.referrer_id
         WHERE k.installation_id = ${range.installationId} AND k.status = 'sent'
           AND k.created_at >= ${range.fromInstant} AND k.created_at < ${range.untilInstant}`);
      return rows;
    },
  };
}

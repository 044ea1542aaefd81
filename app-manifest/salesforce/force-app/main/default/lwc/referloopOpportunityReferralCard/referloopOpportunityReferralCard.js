import { LightningElement, api } from 'lwc';
import referralsOfOpportunity from '@salesforce/apex/ReferloopController.referralsOfOpportunity';

const REWARD_TONE = {
    pending: 'slds-theme_warning',
    needs_rate: 'slds-theme_warning',
    approved: 'slds-theme_info',
    payable: 'slds-theme_info',
    paid: 'slds-theme_success',
    rejected: 'slds-theme_error',
    reversed: 'slds-theme_error'
};

/** A status or code as words: `in_sales_process` → "in sales process". */
const words = (code) => (code ?? '').replace(/_/g, ' ');

/** An ISO instant or date as a day, e.g. "2026-03-31". */
const day = (iso) => (iso ? iso.slice(0, 10) : 'no date');

/**
 * An amount in minor units with its currency's ISO 4217 digits, e.g. 400000 USD (2) → "USD 4,000.00",
 * 5000 JPY (0) → "JPY 5,000". The digits come from Referloop, not guessed from the currency.
 */
function formatMinor(amountMinor, currency, digits) {
    const major = amountMinor / 10 ** digits;
    return `${currency} ${major.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** Cash is its amount; recognition is the badge, having none; anything else is both. */
function rewardValue(reward) {
    if (reward.grantKind === 'recognition') return reward.givenAs;
    const amount = formatMinor(reward.amountMinor, reward.currencyCode, reward.currencyDigits);
    return reward.grantKind === 'cash' ? amount : `${amount} (${reward.givenAs})`;
}

/** A share of the deal's credit, e.g. 0.5 → "50%". */
const share = (value) => `${Math.round(value * 10000) / 100}%`;

function describeEvidence(e) {
    if (e.via === 'claim') return `claimed by ${e.claimedBy} on ${day(e.claimedAt)}, approved by ${e.approvedBy}`;
    if (e.via === 'contact') return `the opportunity's contact ${e.id} is the person referred`;
    if (e.via === 'company') return `the opportunity's account ${e.id} is the referred person's company`;
    return `the opportunity's domain ${e.id} is the referred person's email domain`;
}

/**
 * *Referral and reward* on opportunities: who referred it, the share credited to them, the
 * evidence and reasons, and each reward's amount, status, due date and what it is given as.
 */
export default class ReferloopOpportunityReferralCard extends LightningElement {
    @api recordId;

    loading = true;
    loadError;
    referrals = [];

    connectedCallback() {
        this.load();
    }

    async load() {
        this.loading = true;
        this.loadError = undefined;
        try {
            this.referrals = await referralsOfOpportunity({ opportunityId: this.recordId });
        } catch (e) {
            this.loadError = e?.body?.message ?? 'Referloop could not be reached.';
        } finally {
            this.loading = false;
        }
    }

    get isEmpty() {
        return this.referrals.length === 0;
    }

    get cards() {
        return this.referrals.map((r) => {
            const attributed = r.share !== null && r.share !== undefined;
            const rewards = (r.rewards ?? []).map((w) => ({
                id: w.id,
                status: words(w.status),
                tone: REWARD_TONE[w.status] ?? '',
                text: `${words(w.kind)} reward at ${words(w.milestone)}: ${rewardValue(w)}, due ${day(w.dueDate)}`
            }));
            let shareText = 'not attributed';
            if (attributed) shareText = `${share(r.share)} (${r.role}, ${words(r.model)})`;
            else if (r.claimPendingUntil) shareText = `none yet: the claim on this opportunity waits for approval until ${day(r.claimPendingUntil)}`;
            const reasons = r.reasons ?? [];
            return {
                id: r.id,
                heading: `Referred by ${r.referrerName}`,
                referrer: `${r.referrerName} (${r.referrerEmail}), ${r.referrerType}`,
                referral: `${r.refereeEmail}: ${words(r.status)}`,
                share: shareText,
                evidence: attributed && r.evidence?.length ? `Evidence: ${r.evidence.map(describeEvidence).join('; ')}.` : null,
                reasons: r.decision ?? (attributed && reasons.length ? `Reasons: ${reasons.join('; ')}.` : null),
                hasRewards: rewards.length > 0,
                rewards
            };
        });
    }
}

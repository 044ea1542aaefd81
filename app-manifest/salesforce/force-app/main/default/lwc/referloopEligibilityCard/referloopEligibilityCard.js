import { LightningElement, api } from 'lwc';
import eligibilityOf from '@salesforce/apex/ReferloopController.eligibilityOf';
import askForReferral from '@salesforce/apex/ReferloopController.askForReferral';

/** The program's rules, as the HubSpot card names them. */
const RULE_NAMES = {
    min_nps: 'NPS',
    min_customer_days: 'Customer tenure',
    min_health_score: 'Health score',
    lifecycle_stage: 'Lifecycle stage',
    no_open_escalation: 'Escalations'
};

const messageOf = (e, fallback) => e?.body?.message ?? fallback;

/**
 * *Referral eligibility* on accounts: eligible or not, each rule passed or failed with the value
 * seen, when it was evaluated, and *Ask for a referral*, signed by the Salesforce user asking.
 */
export default class ReferloopEligibilityCard extends LightningElement {
    @api recordId;

    loading = true;
    loadError;
    eligibility;
    message = '';
    contactId = null;
    asking = false;
    ask;
    // One key per card view: a second click while the first is on its way sends no second email.
    idempotencyKey;

    connectedCallback() {
        this.idempotencyKey = `salesforce-card:${this.recordId}:${Date.now()}:${Math.random().toString(36).slice(2, 10)}`;
        this.load();
    }

    async load() {
        this.loading = true;
        this.loadError = undefined;
        try {
            this.eligibility = await eligibilityOf({ accountId: this.recordId });
        } catch (e) {
            this.loadError = messageOf(e, 'Referloop could not be reached.');
        } finally {
            this.loading = false;
        }
    }

    get eligibleLabel() {
        return this.eligibility.eligible ? 'Eligible' : 'Not eligible';
    }

    get eligibleClass() {
        return this.eligibility.eligible ? 'slds-theme_success' : 'slds-theme_error';
    }

    get rules() {
        return (this.eligibility.rules ?? []).map((r) => ({
            rule: r.rule,
            name: RULE_NAMES[r.rule] ?? r.rule,
            result: r.passed ? 'Pass' : 'Fail',
            resultClass: r.passed ? 'slds-text-color_success' : 'slds-text-color_error',
            detail: r.detail
        }));
    }

    get hasRules() {
        return this.rules.length > 0;
    }

    get evaluatedText() {
        const at = this.eligibility.evaluatedAt;
        return at ? `Last evaluated ${at.replace('T', ' ').slice(0, 16)} UTC` : 'Not evaluated yet';
    }

    get askLabel() {
        return this.asking ? 'Asking…' : 'Ask for a referral';
    }

    get contactFilter() {
        return { criteria: [{ fieldPath: 'AccountId', operator: 'eq', value: this.recordId }] };
    }

    handleChampion(event) {
        this.contactId = event.detail?.recordId ?? null;
    }

    handleMessage(event) {
        this.message = event.target.value;
    }

    async handleAsk() {
        this.asking = true;
        this.ask = undefined;
        try {
            const verdict = await askForReferral({
                accountId: this.recordId,
                contactId: this.contactId,
                message: this.message,
                idempotencyKey: this.idempotencyKey
            });
            if (verdict.status === 'sent') {
                const to = verdict.championEmail ? `${verdict.championName ?? verdict.championEmail} (${verdict.championEmail})` : 'the champion';
                this.ask = { className: 'ask slds-m-top_small slds-text-color_success', title: 'Ask sent', text: `Referral ask sent to ${to}, signed by ${verdict.askedBy}.` };
            } else {
                this.ask = { className: 'ask slds-m-top_small slds-text-color_error', title: 'Ask refused', text: `Not sent: ${(verdict.reasons ?? []).join('; ')}.` };
            }
        } catch (e) {
            this.ask = { className: 'ask slds-m-top_small slds-text-color_error', title: 'Ask not sent', text: messageOf(e, 'Referloop could not be reached.') };
        } finally {
            this.asking = false;
        }
    }
}

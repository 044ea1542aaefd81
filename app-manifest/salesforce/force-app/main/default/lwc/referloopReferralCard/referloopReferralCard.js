import { LightningElement, api, wire } from 'lwc';
import { refreshApex } from '@salesforce/apex';
import referralsFor from '@salesforce/apex/ReferloopController.referralsFor';
import logReferral from '@salesforce/apex/ReferloopController.logReferral';
import programsOfInstallation from '@salesforce/apex/ReferloopController.programs';

const COLUMNS = [
    { label: 'Referral', fieldName: 'name' },
    { label: 'Status', fieldName: 'status' },
    { label: 'Referrer', fieldName: 'referrerName' },
    { label: 'Type', fieldName: 'referrerType' }
];

/** The verdict's outcome in words; its reasons say of whom, with which deal. */
const OUTCOMES = {
    accepted: 'Referral accepted.',
    claim_pending: 'Claim on this deal recorded, waiting for approval.',
    duplicate: 'Not logged: a duplicate.',
    conflict: 'Not logged: it conflicts with a deal.',
    choose_deal: 'Not logged: choose the deal it is for.',
    ineligible: 'Not logged: the referrer is not eligible.',
    invalid: 'Not logged.'
};

const TYPES = ['customer', 'partner', 'consultant', 'advisor', 'employee'].map((value) => ({
    label: value.charAt(0).toUpperCase() + value.slice(1),
    value
}));

export default class ReferloopReferralCard extends LightningElement {
    @api recordId;
    @api objectApiName;

    columns = COLUMNS;
    typeOptions = TYPES;
    referrerName = '';
    referrerEmail = '';
    referrerType = 'customer';
    notes = '';
    // Programs side by side: the rep says which one the referral is for (the default one unless changed).
    programs = [];
    programId = '';
    saving = false;
    message;
    error;
    referrals;

    @wire(referralsFor, { recordId: '$recordId' })
    wiredReferrals(result) {
        this.referrals = result;
    }

    @wire(programsOfInstallation)
    wiredPrograms({ data }) {
        // Without the list (an older key, Referloop unreachable) the referral goes to the default program.
        if (!data) return;
        this.programs = data;
        this.programId = data.find((p) => p.isDefault)?.id ?? '';
    }

    get picksProgram() {
        return this.programs.length > 1;
    }

    get programOptions() {
        return this.programs.map((p) => ({ label: p.name, value: p.id }));
    }

    get rows() {
        return this.referrals?.data ?? [];
    }

    get hasReferrals() {
        return this.rows.length > 0;
    }

    // An account has no single referee; its card lists the referrals of its people and deals.
    get canLog() {
        return this.objectApiName !== 'Account';
    }

    handleChange(event) {
        this[event.target.name] = event.target.value;
    }

    async handleSubmit() {
        this.saving = true;
        this.message = undefined;
        this.error = undefined;
        try {
            const verdict = await logReferral({
                recordId: this.recordId,
                referrerName: this.referrerName,
                referrerEmail: this.referrerEmail,
                referrerType: this.referrerType,
                notes: this.notes,
                programId: this.picksProgram ? this.programId : null
            });
            const words = [OUTCOMES[verdict.outcome] ?? verdict.outcome, ...(verdict.reasons ?? [])].join(' ');
            if (verdict.outcome === 'accepted' || verdict.outcome === 'claim_pending') {
                this.message = words;
                await refreshApex(this.referrals);
            } else {
                this.error = words;
            }
        } catch (e) {
            this.error = e?.body?.message ?? 'Referloop could not log the referral.';
        } finally {
            this.saving = false;
        }
    }
}

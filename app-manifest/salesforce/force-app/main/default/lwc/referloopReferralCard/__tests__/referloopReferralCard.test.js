import { createElement } from 'lwc';
import ReferloopReferralCard from 'c/referloopReferralCard';
import logReferral from '@salesforce/apex/ReferloopController.logReferral';
import referralsFor from '@salesforce/apex/ReferloopController.referralsFor';
import programs from '@salesforce/apex/ReferloopController.programs';

// Apex is mocked the way sfdx-lwc-jest documents it: an imperative call is a jest.fn, a wired one a test wire adapter.
jest.mock('@salesforce/apex/ReferloopController.logReferral', () => ({ default: jest.fn() }), { virtual: true });
jest.mock(
    '@salesforce/apex/ReferloopController.programs',
    () => {
        const { createApexTestWireAdapter } = require('@salesforce/sfdx-lwc-jest');
        return { default: createApexTestWireAdapter(jest.fn()) };
    },
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ReferloopController.referralsFor',
    () => {
        const { createApexTestWireAdapter } = require('@salesforce/sfdx-lwc-jest');
        return { default: createApexTestWireAdapter(jest.fn()) };
    },
    { virtual: true }
);

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

function mount(objectApiName = 'Lead') {
    const card = createElement('c-referloop-referral-card', { is: ReferloopReferralCard });
    card.recordId = '00Q000000000001AAA';
    card.objectApiName = objectApiName;
    document.body.appendChild(card);
    return card;
}

function type(card, name, value) {
    // Base components take name as a property, not an attribute.
    const input = [...card.shadowRoot.querySelectorAll('lightning-input, lightning-combobox, lightning-textarea')].find((el) => el.name === name);
    input.value = value;
    input.dispatchEvent(new CustomEvent('change'));
}

async function submit(card) {
    type(card, 'referrerName', 'Cora Customer');
    type(card, 'referrerEmail', 'cora@customer.com');
    type(card, 'referrerType', 'partner');
    card.shadowRoot.querySelector('lightning-button').click();
    await flush();
}

const text = (card, selector) => card.shadowRoot.querySelector(selector)?.textContent ?? null;

describe('c-referloop-referral-card', () => {
    afterEach(() => {
        while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
        jest.clearAllMocks();
    });

    it("renders the record's referrals, or says there is none", async () => {
        const card = mount();
        referralsFor.emit([]);
        await flush();
        expect(text(card, 'p.slds-text-color_weak')).toBe('No referral yet.');

        referralsFor.emit([{ id: 'a01', name: 'R-0001', status: 'accepted', referrerName: 'Cora Customer', referrerType: 'customer' }]);
        await flush();
        expect(card.shadowRoot.querySelector('lightning-datatable').data).toEqual([
            { id: 'a01', name: 'R-0001', status: 'accepted', referrerName: 'Cora Customer', referrerType: 'customer' }
        ]);
        expect(card.shadowRoot.querySelector('lightning-button')).not.toBeNull();
    });

    it('offers no form on an account (no single referee)', async () => {
        const card = mount('Account');
        referralsFor.emit([]);
        await flush();
        expect(card.shadowRoot.querySelector('lightning-button')).toBeNull();
    });

    it('submits what the rep typed and shows the referral accepted', async () => {
        logReferral.mockResolvedValue({ outcome: 'accepted', reasons: ['New referral from Cora Customer.'] });
        const card = mount();
        referralsFor.emit([]);
        await submit(card);
        expect(logReferral).toHaveBeenCalledWith({
            recordId: '00Q000000000001AAA',
            referrerName: 'Cora Customer',
            referrerEmail: 'cora@customer.com',
            referrerType: 'partner',
            notes: '',
            programId: null
        });
        expect(text(card, '.slds-text-color_success')).toBe('Referral accepted. New referral from Cora Customer.');
        expect(text(card, '.slds-text-color_error')).toBeNull();
    });

    it('with one program asks nothing; with several, logs into the program the rep picks', async () => {
        logReferral.mockResolvedValue({ outcome: 'accepted', reasons: ['New referral from Cora Customer.'] });
        const card = mount();
        referralsFor.emit([]);
        programs.emit([{ id: 'prg_default', name: 'Referral program', isDefault: true }]);
        await flush();
        const programField = () => [...card.shadowRoot.querySelectorAll('lightning-combobox')].find((el) => el.name === 'programId');
        expect(programField()).toBeUndefined();

        programs.emit([
            { id: 'prg_default', name: 'Referral program', isDefault: true },
            { id: 'prg_partners', name: 'Partner program', isDefault: false }
        ]);
        await flush();
        expect(programField().value).toBe('prg_default');
        expect(programField().options).toEqual([
            { label: 'Referral program', value: 'prg_default' },
            { label: 'Partner program', value: 'prg_partners' }
        ]);
        type(card, 'programId', 'prg_partners');
        await submit(card);
        expect(logReferral).toHaveBeenCalledWith(expect.objectContaining({ referrerEmail: 'cora@customer.com', programId: 'prg_partners' }));
    });

    it('shows a duplicate, naming whose referral it duplicates', async () => {
        logReferral.mockResolvedValue({ outcome: 'duplicate', reasons: ['Already referred by Pia Partner on 2026-11-02.'] });
        const card = mount();
        referralsFor.emit([]);
        await submit(card);
        expect(text(card, '.slds-text-color_error')).toBe('Not logged: a duplicate. Already referred by Pia Partner on 2026-11-02.');
        expect(text(card, '.slds-text-color_success')).toBeNull();
    });

    it('shows a claim on the deal waiting for approval', async () => {
        logReferral.mockResolvedValue({ outcome: 'claim_pending', reasons: ['Claim on deal "Globex platform" recorded; waiting for approval.'] });
        const card = mount('Opportunity');
        referralsFor.emit([]);
        await submit(card);
        expect(text(card, '.slds-text-color_success')).toBe(
            'Claim on this deal recorded, waiting for approval. Claim on deal "Globex platform" recorded; waiting for approval.'
        );
    });

    it("shows the backend's error and enables the button again", async () => {
        logReferral.mockRejectedValue({ body: { message: 'The card key is not valid: it was revoked, expired or never issued.' } });
        const card = mount();
        referralsFor.emit([]);
        await submit(card);
        expect(text(card, '.slds-text-color_error')).toBe('The card key is not valid: it was revoked, expired or never issued.');
        expect(card.shadowRoot.querySelector('lightning-button').disabled).toBe(false);
    });
});

import { createElement } from 'lwc';
import ReferloopEligibilityCard from 'c/referloopEligibilityCard';
import eligibilityOf from '@salesforce/apex/ReferloopController.eligibilityOf';
import askForReferral from '@salesforce/apex/ReferloopController.askForReferral';

// Imperative Apex calls, mocked the way sfdx-lwc-jest documents it.
jest.mock('@salesforce/apex/ReferloopController.eligibilityOf', () => ({ default: jest.fn() }), { virtual: true });
jest.mock('@salesforce/apex/ReferloopController.askForReferral', () => ({ default: jest.fn() }), { virtual: true });

const ACCOUNT = '001000000000001AAA';
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** What ReferloopController.eligibilityOf returns (from GET /accounts/:id/eligibility). */
const NOT_ELIGIBLE = {
    eligible: false,
    summary: 'Not eligible to refer: NPS 6 is below 9.',
    evaluatedAt: '2026-12-05T09:30:12.345Z',
    rules: [
        { rule: 'min_nps', passed: false, detail: 'NPS 6 is below 9' },
        { rule: 'min_customer_days', passed: true, detail: 'customer for 400 days, at least 90' },
        { rule: 'lifecycle_stage', passed: true, detail: 'lifecycle stage is Customer - Direct, which means customer' }
    ]
};

function mount() {
    const card = createElement('c-referloop-eligibility-card', { is: ReferloopEligibilityCard });
    card.recordId = ACCOUNT;
    document.body.appendChild(card);
    return card;
}

const $ = (card, selector) => card.shadowRoot.querySelector(selector);
const text = (card, selector) => $(card, selector)?.textContent ?? null;
const rows = (card) => [...card.shadowRoot.querySelectorAll('table.rules tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));

async function ask(card, message) {
    if (message !== undefined) {
        const area = $(card, 'lightning-textarea');
        area.value = message;
        area.dispatchEvent(new CustomEvent('change'));
    }
    $(card, 'lightning-button').click();
    await flush();
}

describe('c-referloop-eligibility-card', () => {
    afterEach(() => {
        while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
        jest.resetAllMocks();
    });

    it('shows a spinner while Referloop evaluates the account, for this account', async () => {
        let answer;
        eligibilityOf.mockReturnValue(new Promise((resolve) => (answer = resolve)));
        const card = mount();
        await flush();
        expect(eligibilityOf).toHaveBeenCalledWith({ accountId: ACCOUNT });
        expect($(card, 'lightning-spinner').alternativeText).toBe('Evaluating eligibility');
        expect($(card, 'table')).toBeNull();
        answer(NOT_ELIGIBLE);
        await flush();
        expect($(card, 'lightning-spinner')).toBeNull();
    });

    it('shows eligible or not, every rule with pass or fail and the value seen, and when', async () => {
        eligibilityOf.mockResolvedValue(NOT_ELIGIBLE);
        const card = mount();
        await flush();
        expect($(card, 'lightning-badge').label).toBe('Not eligible');
        expect(text(card, '.summary')).toBe('Not eligible to refer: NPS 6 is below 9.');
        expect(rows(card)).toEqual([
            ['NPS', 'Fail', 'NPS 6 is below 9'],
            ['Customer tenure', 'Pass', 'customer for 400 days, at least 90'],
            ['Lifecycle stage', 'Pass', 'lifecycle stage is Customer - Direct, which means customer']
        ]);
        expect(text(card, '.evaluated')).toBe('Last evaluated 2026-12-05 09:30 UTC');
    });

    it('says so when the program enables no rule', async () => {
        eligibilityOf.mockResolvedValue({ eligible: true, summary: 'Eligible to refer: all 0 rules pass.', evaluatedAt: '2026-12-05T09:30:00Z', rules: [] });
        const card = mount();
        await flush();
        expect($(card, 'lightning-badge').label).toBe('Eligible');
        expect($(card, 'table')).toBeNull();
        expect(text(card, '.no-rules')).toBe('The program has no eligibility rule enabled.');
    });

    it("shows Referloop's error when the eligibility cannot be read, and no ask button", async () => {
        eligibilityOf.mockRejectedValue({ body: { message: 'The card key is not valid: it was revoked, expired or never issued.' } });
        const card = mount();
        await flush();
        expect(text(card, '.load-error')).toBe('Eligibility not loaded: The card key is not valid: it was revoked, expired or never issued.');
        expect($(card, 'lightning-button')).toBeNull();
    });

    it('asks for a referral and says to whom it was sent, signed by whom', async () => {
        eligibilityOf.mockResolvedValue({ ...NOT_ELIGIBLE, eligible: true, rules: NOT_ELIGIBLE.rules.slice(1) });
        askForReferral.mockResolvedValue({
            status: 'sent',
            championName: 'Cora Champion',
            championEmail: 'cora@globex.io',
            askedBy: 'Casey Csm',
            reasons: []
        });
        const card = mount();
        await flush();
        const picker = $(card, 'lightning-record-picker');
        expect(picker.objectApiName).toBe('Contact');
        expect(picker.filter).toEqual({ criteria: [{ fieldPath: 'AccountId', operator: 'eq', value: ACCOUNT }] });
        picker.dispatchEvent(new CustomEvent('change', { detail: { recordId: '003000000000001AAA' } }));
        await ask(card, 'Thanks for the great quarter!');
        expect(askForReferral).toHaveBeenCalledWith({
            accountId: ACCOUNT,
            contactId: '003000000000001AAA',
            message: 'Thanks for the great quarter!',
            idempotencyKey: expect.stringMatching(new RegExp(`^salesforce-card:${ACCOUNT}:\\d+:`))
        });
        expect(text(card, '.ask')).toBe('Ask sent. Referral ask sent to Cora Champion (cora@globex.io), signed by Casey Csm.');
        expect(text(card, '.ask.slds-text-color_success')).not.toBeNull();
        // A second click in the same view carries the same key: Referloop answers the first ask again.
        await ask(card);
        expect(askForReferral.mock.calls[1][0].idempotencyKey).toBe(askForReferral.mock.calls[0][0].idempotencyKey);
    });

    it('shows why an ask was refused, with the default champion', async () => {
        eligibilityOf.mockResolvedValue(NOT_ELIGIBLE);
        askForReferral.mockResolvedValue({ status: 'refused', reasons: ['the account is not eligible: NPS 6 is below 9'] });
        const card = mount();
        await flush();
        await ask(card);
        expect(askForReferral.mock.calls[0][0]).toMatchObject({ contactId: null, message: '' });
        expect(text(card, '.ask')).toBe('Ask refused. Not sent: the account is not eligible: NPS 6 is below 9.');
        expect(text(card, '.ask.slds-text-color_error')).not.toBeNull();
    });

    it("shows the backend's error on an ask and enables the button again", async () => {
        eligibilityOf.mockResolvedValue(NOT_ELIGIBLE);
        askForReferral.mockRejectedValue({ body: { message: 'Invalid input: message must be at most 1000 characters.' } });
        const card = mount();
        await flush();
        await ask(card, 'x');
        expect(text(card, '.ask')).toBe('Ask not sent. Invalid input: message must be at most 1000 characters.');
        expect($(card, 'lightning-button').disabled).toBe(false);
        expect($(card, 'lightning-button').label).toBe('Ask for a referral');
    });
});

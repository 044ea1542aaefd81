import { createElement } from 'lwc';
import ReferloopOpportunityReferralCard from 'c/referloopOpportunityReferralCard';
import referralsOfOpportunity from '@salesforce/apex/ReferloopController.referralsOfOpportunity';

// An imperative Apex call, mocked the way sfdx-lwc-jest documents it.
jest.mock('@salesforce/apex/ReferloopController.referralsOfOpportunity', () => ({ default: jest.fn() }), { virtual: true });

const OPPORTUNITY = '006000000000001AAA';
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** What ReferloopController.referralsOfOpportunity returns for a won, claimed opportunity. */
const WON = {
    id: 'ref-1',
    status: 'closed_won',
    referrerName: 'Pia Partner',
    referrerEmail: 'pia@partner-firm.com',
    referrerType: 'partner',
    refereeEmail: 'alex@umbrella.io',
    share: 1,
    role: 'sourced',
    model: 'first_touch',
    evidence: [
        { via: 'claim', id: OPPORTUNITY, claimedBy: 'Riley Rep', claimedAt: '2026-11-02T10:00:00.000Z', approvedBy: 'Ada Admin' },
        { via: 'contact', id: '003000000000001AAA' }
    ],
    reasons: ['linked through a claim', 'first-touch: full credit'],
    decision: null,
    claimPendingUntil: null,
    rewards: [
        { id: 'rw-1', kind: 'referrer', milestone: 'closed_won', amountMinor: 400000, currencyCode: 'USD', currencyDigits: 2, status: 'pending', dueDate: '2027-03-05', grantKind: 'cash', givenAs: 'Cash' },
        { id: 'rw-2', kind: 'referee', milestone: 'qualified', amountMinor: 5000, currencyCode: 'JPY', currencyDigits: 0, status: 'paid', dueDate: null, grantKind: 'cash', givenAs: 'Cash' },
        { id: 'rw-3', kind: 'referrer', milestone: 'closed_won', amountMinor: 1234567, currencyCode: 'KWD', currencyDigits: 3, status: 'approved', dueDate: '2027-01-31', grantKind: 'cash', givenAs: 'Cash' },
        { id: 'rw-4', kind: 'referrer', milestone: 'closed_won', amountMinor: 50000, currencyCode: 'USD', currencyDigits: 2, status: 'approved', dueDate: '2027-01-31', grantKind: 'gift_card', givenAs: 'Gift card' },
        { id: 'rw-5', kind: 'referrer', milestone: 'qualified', amountMinor: 0, currencyCode: 'USD', currencyDigits: 2, status: 'paid', dueDate: null, grantKind: 'recognition', givenAs: 'Recognition: Top referrer' }
    ]
};

function mount() {
    const card = createElement('c-referloop-opportunity-referral-card', { is: ReferloopOpportunityReferralCard });
    card.recordId = OPPORTUNITY;
    document.body.appendChild(card);
    return card;
}

const $ = (card, selector) => card.shadowRoot.querySelector(selector);
const text = (card, selector) => $(card, selector)?.textContent ?? null;
const all = (card, selector) => [...card.shadowRoot.querySelectorAll(selector)];

describe('c-referloop-opportunity-referral-card', () => {
    afterEach(() => {
        while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
        jest.resetAllMocks();
    });

    it("shows a spinner while the opportunity's referral loads, for this opportunity", async () => {
        let answer;
        referralsOfOpportunity.mockReturnValue(new Promise((resolve) => (answer = resolve)));
        const card = mount();
        await flush();
        expect(referralsOfOpportunity).toHaveBeenCalledWith({ opportunityId: OPPORTUNITY });
        expect($(card, 'lightning-spinner').alternativeText).toBe("Loading the opportunity's referral");
        answer([WON]);
        await flush();
        expect($(card, 'lightning-spinner')).toBeNull();
        expect(text(card, '.heading')).toBe('Referred by Pia Partner');
    });

    it('shows who referred it, the share, the evidence and reasons, and each reward in its currency’s digits and as what it is given', async () => {
        referralsOfOpportunity.mockResolvedValue([WON]);
        const card = mount();
        await flush();
        expect(text(card, '.referrer')).toBe('Pia Partner (pia@partner-firm.com), partner');
        expect(text(card, '.status')).toBe('alex@umbrella.io: closed won');
        expect(text(card, '.share')).toBe('100% (sourced, first touch)');
        expect(text(card, '.evidence')).toBe(
            "Evidence: claimed by Riley Rep on 2026-11-02, approved by Ada Admin; the opportunity's contact 003000000000001AAA is the person referred."
        );
        expect(text(card, '.reasons')).toBe('Reasons: linked through a claim; first-touch: full credit.');
        expect(all(card, '.reward').map((li) => [li.querySelector('lightning-badge').label, li.querySelector('span').textContent])).toEqual([
            ['pending', 'referrer reward at closed won: USD 4,000.00, due 2027-03-05'],
            ['paid', 'referee reward at qualified: JPY 5,000, due no date'],
            ['approved', 'referrer reward at closed won: KWD 1,234.567, due 2027-01-31'],
            ['approved', 'referrer reward at closed won: USD 500.00 (Gift card), due 2027-01-31'],
            ['paid', 'referrer reward at qualified: Recognition: Top referrer, due no date']
        ]);
    });

    it("prefers Referloop's decision in words, and shows a claim waiting for approval", async () => {
        referralsOfOpportunity.mockResolvedValue([
            { ...WON, decision: 'Credited to Pia Partner: first touch.' },
            {
                ...WON,
                id: 'ref-2',
                status: 'claim_pending',
                referrerName: 'Cora Customer',
                share: null,
                evidence: [],
                reasons: [],
                claimPendingUntil: '2026-12-19T10:00:00.000Z',
                rewards: []
            }
        ]);
        const card = mount();
        await flush();
        const [won, claimed] = all(card, 'section.referral');
        expect(won.querySelector('.reasons').textContent).toBe('Credited to Pia Partner: first touch.');
        expect(claimed.querySelector('.heading').textContent).toBe('Referred by Cora Customer');
        expect(claimed.querySelector('.share').textContent).toBe('none yet: the claim on this opportunity waits for approval until 2026-12-19');
        expect(claimed.querySelector('.evidence')).toBeNull();
        expect(claimed.querySelector('.reasons')).toBeNull();
        expect(claimed.querySelector('.no-reward').textContent).toBe('No reward yet.');
    });

    it('says so when no referral is linked to the opportunity', async () => {
        referralsOfOpportunity.mockResolvedValue([]);
        const card = mount();
        await flush();
        expect(text(card, '.empty')).toBe(
            'No referral on this opportunityLog one with the Log a referral card: on an opportunity it claims the opportunity.'
        );
        expect($(card, 'section.referral')).toBeNull();
    });

    it("shows Referloop's error when the referral cannot be read", async () => {
        referralsOfOpportunity.mockRejectedValue({ body: { message: 'The card key is not valid: it was revoked, expired or never issued.' } });
        const card = mount();
        await flush();
        expect(text(card, '.load-error')).toBe('Referral not loaded: The card key is not valid: it was revoked, expired or never issued.');
        expect($(card, '.empty')).toBeNull();
    });
});

/**
 * What the account-credit flows of both CRMs share: the service paying through the sandbox
 * Tremendous, a program whose won deals grant a $300 account credit beside the $50 qualification
 * fee, and the payout run of those two rewards sent until both lines are delivered.
 */
import { expect } from 'vitest';
import { SANDBOX_PRODUCTS, type TremendousSandbox } from '../../connectors/payouts/tremendous/sandbox/index.ts';
import { eventually, type TestService } from './service.ts';

export const CREDITED_CUSTOMER = { email: 'cora@happy-customer.com', name: 'Cora Customer', type: 'customer' };

export interface CreditReferral {
  id: string;
  status: string;
  crm: { person: { id: string } } | null;
  rewards: { id: string; milestone: string; netCents: number; status: string; givenAs: string }[];
}

interface RunBody {
  id: string;
  lines: { givenAs: string; amountCents: number; rewardIds: string[]; sendStatus: string | null }[];
}

/** The service's environment for paying through the sandbox Tremendous at `url`. */
export function tremendousEnv(tremendous: TremendousSandbox, url: string): Record<string, string> {
  return {
    PAYOUT_PROVIDER: 'tremendous',
    TREMENDOUS_API_BASE_URL: url,
    TREMENDOUS_API_KEY: tremendous.apiKey,
    TREMENDOUS_WEBHOOK_SECRET: tremendous.webhookSecret,
    TREMENDOUS_PRODUCTS: Object.entries(SANDBOX_PRODUCTS)
      .map(([kind, id]) => `${kind}=${id}`)
      .join(','),
  };
}

async function json<T>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

export const creditReferral = async (svc: TestService, id: string) => json<CreditReferral>(await svc.api(`/referrals/${id}`), 200);

/** The default program keeps its qualification fee and grants a $300 account credit when a customer's deal closes won. */
export async function grantCreditWhenWon(svc: TestService, installationId: string): Promise<void> {
  const store = svc.service.runtime.store;
  const programRow = (await store.programs.defaultProgram(installationId))!;
  const current = (await store.programs.current(programRow.id))!.program;
  await store.programs.addVersion(
    programRow,
    {
      ...current,
      rewardRules: [
        ...current.rewardRules.filter((r) => r.milestone === 'qualified'),
        {
          id: 'credit',
          kind: 'fixed',
          referrerTypes: ['customer'],
          milestone: 'closed_won',
          amountCents: 30_000,
          grant: { kind: 'account_credit' },
        },
      ],
    },
    'test',
  );
}

/** Logs the customer's referral of `referee` and waits for its push: the CRM person it became. */
export async function referAndPush(svc: TestService, referee: Record<string, string>): Promise<CreditReferral> {
  const created = await json<CreditReferral>(
    await svc.api('/referrals', {
      method: 'POST',
      json: { referrer: CREDITED_CUSTOMER, referee, submittedBy: { kind: 'rep', id: 'rep-1' } },
    }),
    201,
  );
  return await eventually(
    async () => ((await creditReferral(svc, created.id)).crm ? creditReferral(svc, created.id) : undefined),
    15_000,
    'pushed',
  );
}

/** Once the referral's deal is won: the credit (approved, under the threshold) and the cash fee. */
export async function creditAndFeeOnceWon(svc: TestService, referralId: string) {
  const won = await eventually(
    async () => {
      const r = await creditReferral(svc, referralId);
      return r.status === 'closed_won' && r.rewards.length === 2 ? r : undefined;
    },
    20_000,
    'closed won with both rewards',
  );
  const credit = won.rewards.find((r) => r.milestone === 'closed_won')!;
  const fee = won.rewards.find((r) => r.milestone === 'qualified')!;
  expect(credit).toMatchObject({ netCents: 30_000, status: 'approved', givenAs: 'Account credit' });
  expect(fee).toMatchObject({ netCents: 5_000, givenAs: 'Cash' });
  return { credit, fee };
}

/** A payout run of the two rewards, one line each, sent until both lines are delivered; answers the run's id. */
export async function sendUntilDelivered(svc: TestService, rewards: { credit: { id: string }; fee: { id: string } }): Promise<string> {
  const run = await json<RunBody>(await svc.api('/payouts', { method: 'POST', json: { dueOn: '2099-12-31' } }), 201);
  expect(run.lines.map((l) => [l.givenAs, l.amountCents, l.rewardIds])).toEqual([
    ['Account credit', 30_000, [rewards.credit.id]],
    ['Cash', 5_000, [rewards.fee.id]],
  ]);
  await json<RunBody>(await svc.api(`/payouts/${run.id}/send`, { method: 'POST' }), 202);
  const done = await eventually(
    async () => {
      const r = await json<RunBody>(await svc.api(`/payouts/${run.id}`), 200);
      return r.lines.every((l) => l.sendStatus === 'delivered') ? r : undefined;
    },
    30_000,
    'both lines delivered',
  );
  expect(done.lines.map((l) => l.sendStatus)).toEqual(['delivered', 'delivered']);
  return run.id;
}

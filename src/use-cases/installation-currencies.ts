import { rateProblem, type CurrencyBook, type ExchangeRate } from '../domain/exchange.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';

export interface InstallationCurrencies {
  companyCurrency: string;
  /** Why rates may be missing (scope not granted, single-currency org); null when the CRM gave all it has. */
  limitation: string | null;
  /** Every rate the CRM keeps; one that cannot be used (not positive, absurd, unknown code) says why and is skipped. */
  rates: (ExchangeRate & { problem: string | null })[];
  /** Deals whose rewards wait in needs_rate for a rate, settled by the next reconciliation. */
  dealsWaitingForRate: string[];
}

/** What the admin sees of the CRM's currencies: read live from the CRM, as reward computation reads them. */
export async function installationCurrencies(ctx: UseCaseContext, installation: InstallationRow): Promise<InstallationCurrencies> {
  const book: CurrencyBook = await (await ctx.crm.client(installation)).currencies();
  return {
    companyCurrency: book.companyCurrency,
    limitation: book.limitation,
    rates: book.rates.map((rate) => ({ ...rate, problem: rateProblem(rate) })),
    dealsWaitingForRate: await ctx.store.rewards.dealsNeedingRate(installation.id),
  };
}

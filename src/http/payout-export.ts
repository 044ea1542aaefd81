import { grantLabel, grantOf } from '../domain/grants.ts';
import { minorUnitsToDecimal, toMajorUnits } from '../domain/money.ts';
import type { PayoutRunRow, PayoutRunWithLines } from '../store/payouts.repo.ts';

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, or a leading tab or carriage return) is
 * prefixed with an apostrophe, so it shows as text (OWASP "CSV injection"). Amounts are written by
 * us as plain decimals and are left alone.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** RFC 4180: comma-separated, CRLF line ends, a header row. */
export function toCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return `${[header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

// A contract with finance's tools: columns are only ever added at the end.
export const PAYOUT_CSV_HEADER = ['payee', 'email', 'amount', 'currency', 'reward_ids', 'reference', 'grant'] as const;

/**
 * One line per payee, currency and grant. The reference is what finance puts on the payment: the
 * run's reference once paid, otherwise the run and line ids, unique per payment. `grant` says what
 * the line is given as: cash, gift_card, account_credit or donation:<charity>.
 */
export function payoutRunCsv(run: PayoutRunWithLines): string {
  return toCsv(
    PAYOUT_CSV_HEADER,
    run.lines.map((line) => [
      line.payeeName,
      line.payeeEmail,
      minorUnitsToDecimal(line.amountCents, line.currency),
      line.currency,
      line.rewardIds.join(' '),
      paymentReference(run, line.id),
      line.grantKey,
    ]),
  );
}

const paymentReference = (run: PayoutRunRow, lineId: number): string => run.reference ?? `${run.id}-${lineId}`;

export function payoutRunSummaryView(run: PayoutRunRow) {
  return {
    id: run.id,
    installationId: run.installationId,
    programId: run.programId,
    status: run.status,
    dueOn: run.dueOn,
    reference: run.reference,
    createdAt: run.createdAt,
    exportedAt: run.exportedAt,
    sentAt: run.sentAt,
    paidAt: run.paidAt,
  };
}

export function payoutRunView(run: PayoutRunWithLines) {
  const totals = new Map<string, number>();
  for (const line of run.lines) totals.set(line.currency, (totals.get(line.currency) ?? 0) + line.amountCents);
  return {
    ...payoutRunSummaryView(run),
    lines: run.lines.map((line) => ({
      payeeType: line.payeeType,
      payeeId: line.payeeKey,
      payee: line.payeeName,
      email: line.payeeEmail,
      currency: line.currency,
      grant: grantOf(line),
      givenAs: grantLabel(grantOf(line)),
      grossCents: line.grossCents,
      recoveredCents: line.recoveredCents,
      amountCents: line.amountCents,
      amount: toMajorUnits(line.amountCents, line.currency),
      rewardIds: line.rewardIds,
      reference: paymentReference(run, line.id),
      // Sent through the payout provider: where the line's order stands and, failed, why.
      sendStatus: line.sendStatus,
      providerOrderId: line.providerOrderId,
      failureReason: line.failureReason,
    })),
    totals: [...totals].map(([currency, amountCents]) => ({ currency, amountCents, amount: toMajorUnits(amountCents, currency) })),
  };
}

// What a load keeps (docs/caseload.md, "What a load replaces, and what it keeps"): the rules that lay
// what callers did on the line over what the agency's last file says. Pure, and shared by both
// stores, so the in-process and the Redis caseload read the same answers.
import type { Case, Payment } from './caseload.ts';
import type { LinePayment } from './caseload-store.ts';
import { applyPayment, cents } from './money.ts';

/** A phone number updated by phone: the new number and the one it replaced. */
export type LinePhone = { phone: string; previous: string | null; at: string };

/**
 * The update stands until the file carries that number, or a number other than the one it
 * replaced (a newer change at the agency); then the file's number stands.
 */
export function phoneNow(onFile: string | null, update: LinePhone | null): string | null {
  if (!update) return onFile;
  return onFile === update.previous ? update.phone : onFile;
}

/** Whether the file has taken in (or overtaken) a phone update, so it can be retired. */
export const phoneRetired = (onFile: string | null, update: LinePhone): boolean => phoneNow(onFile, update) === onFile;

/** A PIN the line set (changed by phone, or mailed after "Forgot my PIN"). */
export type LinePin = { hash: string; at: string };

/**
 * The line's PIN stands over the file's, until a file marks the participant `resetPin`: then a
 * PIN the line set before that file was loaded gives way to the file's (or to none).
 */
export function linePinStands(pin: LinePin | null, file: { resetPin: boolean; loadedAt: string | null }): pin is LinePin {
  if (!pin) return false;
  return !(file.resetPin && file.loadedAt !== null && Date.parse(pin.at) < Date.parse(file.loadedAt));
}

/** The card payments of the line a file does not list yet (by confirmation code, on that case). */
export function unconfirmed(linePayments: readonly LinePayment[], confirmedOnCase: ReadonlySet<string>): LinePayment[] {
  return linePayments.filter((p) => !confirmedOnCase.has(p.confirmationCode));
}

/**
 * The case's balances now: the file's, with each line payment the file does not list yet applied
 * as it was when taken (this month, then past-due principal, then interest, then a credit: CCP
 * 695.221), oldest first.
 */
export function withLinePayments(c: Case, pending: readonly LinePayment[]): Case {
  let now: Case = c;
  for (const payment of [...pending].sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt))) {
    const { currentMonthDue, arrearsPrincipal, arrearsInterest, credit } = now;
    now = { ...now, ...applyPayment({ currentMonthDue, arrearsPrincipal, arrearsInterest, credit }, cents(payment.amount)).after };
  }
  return now;
}

/** The file's payments and the line's unconfirmed ones, newest first. */
export function paymentsNow(onFile: readonly Payment[], pending: readonly LinePayment[]): Payment[] {
  return [...onFile, ...pending].sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
}

// One-time card payments (spec sections 6 and 7): who may pay on which case, what an amount
// costs, and recording a payment that succeeded at Twilio exactly once, applied by the rules.
import type { CaseloadStore, LinePayment, RecordedPayment } from './caseload-store.ts';
import { roleIn, type Case, type CaseNumber, type ParticipantId } from './caseload.ts';
import { applyPayment, cents, creditedDate, type Cents } from './money.ts';

export const MINIMUM_PAYMENT = cents(100);
/** At most this many payable cases are offered by key. */
export const MAX_PAYABLE_CASES = 5;

export type PaymentRules = { paymentMaxCents: number; paymentFeeBasisPoints: number };

export type PayableCase = { caseNumber: CaseNumber; currentMonthDue: Cents };
export type Payable =
  | { ok: true; cases: PayableCase[] }
  | { ok: false; reason: 'receiving-only' | 'no-open-case' };

export type Quote =
  | { ok: true; amount: Cents; fee: Cents; charge: Cents }
  | { ok: false; reason: 'below-minimum' | 'above-maximum'; limit: Cents };

export type CardPayment = { caseNumber: CaseNumber; amount: Cents; confirmationCode: string };
export type Receipt = { status: 'recorded' | 'duplicate'; amount: Cents; confirmationCode: string; receivedAt: string; creditedOn: string };

export class Payments {
  constructor(
    private readonly store: CaseloadStore,
    private readonly rules: PaymentRules,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Only the paying parent on an open case can pay (spec section 6). */
  async payableCases(participantId: ParticipantId): Promise<Payable> {
    const cases = await this.store.casesOf(participantId);
    const open = cases.filter((c) => c.status === 'open');
    const paying = open.filter((c) => roleIn(c, participantId) === 'paying').sort((a, b) => a.caseNumber.localeCompare(b.caseNumber));
    if (paying.length === 0) return { ok: false, reason: open.length > 0 ? 'receiving-only' : 'no-open-case' };
    return { ok: true, cases: paying.slice(0, MAX_PAYABLE_CASES).map((c) => ({ caseNumber: c.caseNumber, currentMonthDue: c.currentMonthDue })) };
  }

  quote(amountCents: number): Quote {
    if (!Number.isSafeInteger(amountCents) || amountCents < MINIMUM_PAYMENT) return { ok: false, reason: 'below-minimum', limit: MINIMUM_PAYMENT };
    if (amountCents > this.rules.paymentMaxCents) return { ok: false, reason: 'above-maximum', limit: cents(this.rules.paymentMaxCents) };
    // The fee, if one is configured, is rounded half up to the cent and charged on top.
    const fee = cents(Math.floor((amountCents * this.rules.paymentFeeBasisPoints + 5000) / 10000));
    return { ok: true, amount: cents(amountCents), fee, charge: cents(amountCents + fee) };
  }

  /**
   * Applies this month, then past-due principal, then interest, then credit; once per confirmation
   * code. A card payment is received when <Pay> succeeds, so now (or when a spooled one was taken).
   */
  async record(payment: CardPayment, receivedAt: Date = this.clock()): Promise<Receipt> {
    const line: LinePayment = { receivedAt: receivedAt.toISOString(), amount: payment.amount, method: 'card', confirmationCode: payment.confirmationCode };
    const result: RecordedPayment = await this.store.recordPayment(payment.caseNumber, line, (c: Case) => {
      const { currentMonthDue, arrearsPrincipal, arrearsInterest, credit } = c;
      return { ...c, ...applyPayment({ currentMonthDue, arrearsPrincipal, arrearsInterest, credit }, payment.amount).after };
    });
    if (result.status === 'no-case') throw new Error('a card payment arrived for a case the caseload does not have');
    return {
      status: result.status,
      amount: result.payment.amount,
      confirmationCode: result.payment.confirmationCode,
      receivedAt: result.payment.receivedAt,
      creditedOn: creditedDate(new Date(result.payment.receivedAt)),
    };
  }
}

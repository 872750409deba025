// One-time card payments (spec sections 6 and 7): who may pay on which case, what an amount
// costs, and recording a payment that succeeded at Twilio exactly once, applied by the rules.
import type { CaseloadStore, LinePayment, RecordedPayment } from './caseload-store.ts';
import { roleIn, type CaseNumber, type ParticipantId } from './caseload.ts';
import { ignoreSecurityEvents, type SecurityEvents } from './identification.ts';
import { cents, creditedDate, type Cents } from './money.ts';

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

/** `ticket`: the nonce of the <Pay> action URL the result came to, which one payment may use. */
export type CardPayment = { caseNumber: CaseNumber; amount: Cents; confirmationCode: string; ticket: string };
/** `replayed`: the <Pay> URL was used already; nothing new was recorded and this is the first payment. */
export type Receipt = { status: 'recorded' | 'duplicate' | 'replayed'; amount: Cents; confirmationCode: string; receivedAt: string; creditedOn: string };

/** How long a used <Pay> ticket is remembered: far longer than any URL stays good. */
export const PAY_TICKET_KEEP_MS = 7 * 86_400_000;

export class Payments {
  constructor(
    private readonly store: CaseloadStore,
    private readonly rules: PaymentRules,
    private readonly clock: () => Date = () => new Date(),
    private readonly securityEvent: SecurityEvents = ignoreSecurityEvents,
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
   * Records a card payment once per confirmation code and once per <Pay> ticket; from then on it
   * counts in the balance (this month, then past-due principal, then interest, then credit), until
   * a file confirms it. A card payment is received when <Pay> succeeds, so now (or when a spooled
   * one was taken).
   */
  async record(payment: CardPayment, receivedAt: Date = this.clock()): Promise<Receipt> {
    const line: LinePayment = { receivedAt: receivedAt.toISOString(), amount: payment.amount, method: 'card', confirmationCode: payment.confirmationCode };
    const result: RecordedPayment = await this.store.recordPayment(payment.caseNumber, line, { nonce: payment.ticket, keepMs: PAY_TICKET_KEEP_MS });
    if (result.status === 'no-case') throw new Error('a card payment arrived for a case the caseload does not have');
    // A <Pay> URL used a second time (another confirmation code): nothing recorded, the first payment answered.
    if (result.status === 'replayed') this.securityEvent({ kind: 'payment-replay', reason: 'consumed' });
    return {
      status: result.status,
      amount: result.payment.amount,
      confirmationCode: result.payment.confirmationCode,
      receivedAt: result.payment.receivedAt,
      creditedOn: creditedDate(new Date(result.payment.receivedAt)),
    };
  }
}

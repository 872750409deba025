// What the engine answers a webhook with: what to say, in which language, and what happens next.
// Telephony renders it (TwiML for Twilio); the engine knows no verbs.
import type { WaitFor } from '../../flows/events.ts';
import type { PayRequest } from '../../flows/payment.ts';
import type { Utterance } from '../../prompts/speak.ts';
import type { Language } from '../domain/language.ts';

export type Ending =
  /** The call is over once everything is said. */
  | { end: 'hangup' }
  /** A transfer with nothing to come back to (the store failed): representative, then hang up. */
  | { end: 'transfer' };

export type Next = WaitFor | Ending;

export type Reply = {
  language: Language;
  said: readonly Utterance[];
  next: Next;
  /** The turn the next webhook of the call belongs to; its action URLs carry it. */
  turn: number;
  /** What <Pay> charges, when `next` waits for a card payment, and the ticket its action URL carries. */
  pay: (PayRequest & PayTicket) | null;
};

/**
 * What makes a <Pay> action URL good for one payment of one call (spec section 9): the call, when
 * it stops being good, and a nonce the first recorded payment uses up.
 */
export type PayTicket = { callSid: string; expiresAt: number; nonce: string };

/** Said when something inside failed: never an application error, never a 5xx (spec section 3). */
export function apology(language: Language, representativesAvailable: boolean): Reply {
  return representativesAvailable
    ? { language, said: [{ id: 'error.transfer' }], next: { end: 'transfer' }, turn: 0, pay: null }
    : { language, said: [{ id: 'error.closed' }, { id: 'hours.representatives' }, { id: 'goodbye' }], next: { end: 'hangup' }, turn: 0, pay: null };
}

/** The store could not take a payment Twilio approved: the caller keeps the confirmation number. */
export function paymentUnconfirmed(language: Language, amountCents: number, confirmationCode: string): Reply {
  const code = { kind: 'digits' as const, value: confirmationCode };
  return {
    language,
    said: [{ id: 'pay.unconfirmed', values: { amount: { kind: 'money', cents: amountCents }, code } }, { id: 'goodbye' }],
    next: { end: 'hangup' },
    turn: 0,
    pay: null,
  };
}
